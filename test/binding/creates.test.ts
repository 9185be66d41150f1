/**
 * The binding's creates (fuse_native_spares_start, _reclaim, _created_init, _created_take, _owner):
 * a new plain name under a parent in the names table is created on the FUSE thread with a spare
 * staging file the binding made ahead, a handle of its own range (BINDING_HANDLES up) tied to it,
 * and adopted by JavaScript (created_take) before its next request. Every other create asks the
 * handlers. The tests run in order on one process's binding: spares started, creates before and
 * after `owner`, many processes at once, and the spares reclaimed at the end with no staging file
 * left behind.
 */
import * as fs from "node:fs"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BINDING_HANDLES, TestFs, native, py, reclaimSpares, waiting } from "./harness.js"

const t = new TestFs("creates")
const PREFIX = "spare-"
let reclaimed = false

beforeAll(async () => {
  t.put("dir/.keep", "")
  t.put(".exempt/.keep", "")
  await t.mount()
})
afterAll(async () => {
  if (!reclaimed) for (const s of reclaimSpares()) (fs.closeSync(s.fd), fs.rmSync(`${t.spares}/${s.id}`, { force: true }))
  await t.close()
})

const reset = (paths: ReadonlyArray<string>) => native.fuse_native_names_reset(Buffer.from(paths.map((p) => p + "\0").join(""), "utf8"), ".exempt")

/** created_take with nothing waiting gives nothing */
const takeNothing = (): boolean => native.fuse_native_created_take().length === 0

/** Waits (up to 10 s) for the spares folder to hold `n` files. */
const sparesMade = async (n: (count: number) => boolean): Promise<number> => {
  for (let i = 0; i < 200; i++) {
    const count = fs.readdirSync(t.spares).length
    if (n(count)) return count
    await new Promise((r) => setTimeout(r, 50))
  }
  return fs.readdirSync(t.spares).length
}

/** creates each path under the mount with its mode, writing the path as its content */
const CREATE = `
for p, mode in ARG:
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    os.write(fd, p.encode())
    os.close(fd)
print("null")
`

/** A full collection, once this turn is over (a WeakRef's target is kept until then). */
const collectGarbage = async (): Promise<void> => {
  await new Promise((r) => setImmediate(r))
  setFlagsFromString("--expose-gc")
  const gc: unknown = runInNewContext("gc")
  if (typeof gc !== "function") throw new Error("node gave no gc() with --expose-gc")
  gc()
}

it("created_init holds the array it was given last and lets go of the one before", async () => {
  // given and then dropped by JavaScript: the binding's reference is all that keeps it
  const given = ((): WeakRef<Int32Array> => {
    const a = new Int32Array(1)
    native.fuse_native_created_init(a)
    return new WeakRef(a)
  })()
  try {
    await collectGarbage()
    expect(given.deref(), "the array the binding counts in now").toBeDefined()
  } finally {
    native.fuse_native_created_init(waiting)
  }
  await collectGarbage()
  expect(given.deref(), "the array given before").toBeUndefined()
})

it("created_init takes only an Int32Array (the count of files waiting to be taken)", () => {
  expect(() => native.fuse_native_created_init(new Uint32Array(1) as unknown as Int32Array)).toThrow("created_init needs an Int32Array")
  expect(() => native.fuse_native_created_init(new Int32Array(0))).toThrow("created_init needs an Int32Array")
  expect(Atomics.load(waiting, 0)).toBe(0)
})

describe("spares_start", () => {
  it("makes up to 64 spares in the folder, named prefix and a number; a second start while it runs is refused", async () => {
    expect(native.fuse_native_spares_start(t.spares, PREFIX)).toBe(1)
    expect(await sparesMade((c) => c === 64)).toBe(64)
    expect(fs.readdirSync(t.spares).every((f) => /^spare-[0-9a-f]+$/.test(f))).toBe(true)
    expect(native.fuse_native_spares_start(t.spares, "other-")).toBe(0)
  })
})

describe("created_take", () => {
  beforeAll(() => reset(["dir", ".exempt", ".exempt/.keep", "dir/.keep"]))

  it("until owner is set, a create asks the handlers", async () => {
    await py(CREATE, [[t.at("dir/before-owner"), 0o644]])
    expect(t.count("create", "/dir/before-owner")).toBe(1)
    expect(t.taken).toEqual([])
    expect(takeNothing()).toBe(true)
  })

  it("a new name under a parent in the table is created on the FUSE thread and taken once, with its path, mode and handle", async () => {
    native.fuse_native_owner(process.getuid!(), process.getgid!(), 0o022)
    await py(CREATE, [[t.at("dir/one"), 0o640], [t.at("top.txt"), 0o600]])
    expect(t.count("create"), "creates the handlers saw").toBe(1)
    expect(t.count("write", "/dir/one"), "writes the handlers saw").toBe(0)
    expect(t.taken.map((c) => [c.path, c.mode])).toEqual([
      ["dir/one", 0o640],
      ["top.txt", 0o600]
    ])
    for (const c of t.taken) {
      expect(c.fh).toBeGreaterThanOrEqual(BINDING_HANDLES)
      expect(c.fh).toBeLessThan(BINDING_HANDLES + 4096)
      expect(c.id.startsWith(PREFIX)).toBe(true)
      expect(Math.abs(c.mtime - Date.now())).toBeLessThan(60_000)
    }
    expect(fs.readFileSync(t.real("dir/one"), "utf8")).toBe(t.at("dir/one"))
    expect(native.fuse_native_passthrough_written(t.taken[0]!.fd)).toBe(t.at("dir/one").length)
    // the name is in the table now: found through the mount
    expect((await fs.promises.stat(t.at("dir/one"))).size).toBe(t.at("dir/one").length)
    expect(Atomics.load(waiting, 0)).toBe(0)
  })

  it("names not plain, in the exempt folder, or already in the table are created by the handlers", async () => {
    native.fuse_native_names_add("dir/held")
    const before = t.taken.length
    await py(CREATE, [[t.at("dir/caf\u00e9"), 0o644], [t.at(".exempt/n"), 0o644], [t.at("dir/held"), 0o644], [t.at("dir/tab\tname"), 0o644]])
    expect(t.taken.length - before).toBe(0)
    for (const p of ["/dir/caf\u00e9", "/.exempt/n", "/dir/held", "/dir/tab\tname"]) expect(t.count("create", p), p).toBe(1)
  })

  it("a reset keeps the names of files created and not yet taken", async () => {
    t.autoAdopt = false
    const h = await fs.promises.open(t.at("dir/late.txt"), "wx")
    try {
      expect(Atomics.load(waiting, 0), "files waiting to be taken").toBe(1)
      reset(["dir", ".exempt", "dir/.keep"])
      t.autoAdopt = true
      // the lookup goes to the handlers (which adopt it first): the reset did not hide it
      expect((await fs.promises.stat(t.at("dir/late.txt"))).isFile()).toBe(true)
      expect(t.taken.at(-1)?.path).toBe("dir/late.txt")
      expect(Atomics.load(waiting, 0)).toBe(0)
    } finally {
      t.autoAdopt = true
      await h.close()
    }
    expect(t.count("create", "/dir/late.txt")).toBe(0)
  })

  it("a file created while another array is given is counted there, and the count moves back with the next created_init", async () => {
    const other = new Int32Array(1)
    // not adopted until the count is back: its staging file is not at its path before
    t.autoAdopt = false
    native.fuse_native_created_init(other)
    let h: fs.promises.FileHandle | undefined
    try {
      h = await fs.promises.open(t.at("dir/counted-elsewhere"), "wx")
      expect(Atomics.load(other, 0)).toBe(1)
      expect(Atomics.load(waiting, 0)).toBe(0)
      native.fuse_native_created_init(waiting)
      expect(Atomics.load(waiting, 0), "the file not taken yet").toBe(1)
    } finally {
      native.fuse_native_created_init(waiting)
      t.autoAdopt = true
      // its flush is a request: adopted before it
      await h?.close()
    }
    expect(t.taken.at(-1)?.path).toBe("dir/counted-elsewhere")
    expect(Atomics.load(waiting, 0)).toBe(0)
    expect(Atomics.load(other, 0), "no longer counted in").toBe(1)
    expect(t.count("create", "/dir/counted-elsewhere")).toBe(0)
  })

  it("eight processes creating 480 files at once: each made once, by the binding or the handlers, none lost, handles unique", async () => {
    await fs.promises.mkdir(t.at("dir/cc"))
    const before = t.taken.length
    const jobs = Array.from({ length: 8 }, (_, k) => Array.from({ length: 60 }, (_, i) => [t.at(`dir/cc/p${k}-${i}`), k % 2 ? 0o640 : 0o600] as const))
    await Promise.all(jobs.map((job) => py(CREATE, job)))
    const all = jobs.flat()
    const taken = t.taken.slice(before)
    const byJs = all.filter(([p]) => t.count("create", p.slice(t.mnt.length)) > 0).map(([p]) => p.slice(t.mnt.length + 1))
    const byBinding = taken.map((c) => c.path)
    expect(new Set(byBinding).size, "a file taken twice").toBe(byBinding.length)
    expect(byBinding.filter((p) => byJs.includes(p)), "made by both").toEqual([])
    expect(byBinding.length + byJs.length).toBe(all.length)
    expect(new Set(taken.map((c) => c.fh)).size, "handles").toBe(taken.length)
    expect(byBinding.length, "some were created by the binding").toBeGreaterThan(0)
    for (const [p, mode] of all) {
      const rel = p.slice(t.mnt.length + 1)
      expect(fs.readFileSync(t.real(rel), "utf8"), rel).toBe(p)
      const c = taken.find((x) => x.path === rel)
      if (c) expect(c.mode, rel).toBe(mode)
    }
    // and every one is found through the mount
    const found = await py<number>(`print(json.dumps(sum(1 for p, _ in ARG if os.path.isfile(p))))`, all)
    expect(found).toBe(all.length)
    console.log(`concurrent creates: ${byBinding.length} by the binding, ${byJs.length} by the handlers (spares ran out)`)
  })
})

describe("spares_reclaim", () => {
  it("gives back the unused spares; after it creates ask the handlers, and no staging file is left", async () => {
    const spares = reclaimSpares()
    reclaimed = true
    expect(spares.length).toBeGreaterThan(0)
    for (const s of spares) {
      expect(fs.fstatSync(s.fd).size).toBe(0)
      expect(fs.existsSync(`${t.spares}/${s.id}`), s.id).toBe(true)
      fs.closeSync(s.fd)
      fs.unlinkSync(`${t.spares}/${s.id}`)
    }
    expect(reclaimSpares()).toEqual([])
    // the maker thread stops, removing what it was making
    expect(await sparesMade((c) => c === 0)).toBe(0)
    const before = t.taken.length
    await py(CREATE, [[t.at("dir/after-reclaim"), 0o644]])
    expect(t.taken.length).toBe(before)
    expect(t.count("create", "/dir/after-reclaim")).toBe(1)
    expect(fs.readdirSync(t.spares)).toEqual([])
  })
})
