/**
 * The names table (fuse_native_names_reset, _add): once JavaScript has given the view's names, a
 * lookup of any other name is answered ENOENT on the FUSE thread; names in the table, the exempt
 * folder's and names JavaScript would hash differently (not UTF-8) still go to the handlers, so
 * the table can save a trip but never hide a file. Until the first reset, every lookup goes to
 * JavaScript (the first test runs before any, as the table lives in this process's binding).
 */
import * as fs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ENOENT, TestFs, native, py } from "./harness.js"

const t = new TestFs("names")

beforeAll(async () => {
  t.put("a.txt", "a")
  t.put("dir/b.txt", "b")
  t.put(".exempt/x", "x")
  t.put("hidden.txt", "hidden")
  await t.mount()
})
afterAll(() => t.close())

/** os.stat of each path (hex of its bytes, under the mount): 0 or the errno */
const stats = (paths: ReadonlyArray<string | Buffer>): Promise<Array<number>> =>
  py<Array<number>>(
    `
out = []
for h in ARG["paths"]:
    try:
        os.stat(os.path.join(ARG["mnt"].encode(), bytes.fromhex(h)))
        out.append(0)
    except OSError as e:
        out.append(e.errno)
print(json.dumps(out))
`,
    { mnt: t.mnt, paths: paths.map((p) => Buffer.from(p).toString("hex")) }
  )

const reset = (paths: ReadonlyArray<string>, exempt = ".exempt") => native.fuse_native_names_reset(Buffer.from(paths.map((p) => p + "\0").join(""), "utf8"), exempt)

it("until the first reset, a lookup of a missing name asks the handlers", async () => {
  expect(await stats(["missing", "a.txt"])).toEqual([ENOENT, 0])
  expect(t.count("getattr", "/missing")).toBeGreaterThan(0)
})

describe("after a reset", () => {
  beforeAll(() => reset(["a.txt", "dir", "dir/b.txt"]))

  it("a name not in the table is ENOENT without asking the handlers, even where a file is underneath", async () => {
    const before = t.calls.length
    expect(await stats(["missing", "dir/missing", "hidden.txt"])).toEqual([ENOENT, ENOENT, ENOENT])
    const asked = t.calls.slice(before)
    expect(asked.filter((c) => c.endsWith("missing") || c.endsWith("hidden.txt"))).toEqual([])
  })

  it("names in the table, in the exempt folder and not in UTF-8 go to the handlers", async () => {
    const before = t.count("getattr")
    const nonUtf8 = Buffer.from([0xff, 0x2e, 0x62, 0x69, 0x6e]) // "\xff.bin"
    const got = await stats(["a.txt", "dir/b.txt", ".exempt/x", ".exempt/nothing", nonUtf8])
    expect(got).toEqual([0, 0, 0, ENOENT, ENOENT])
    for (const p of ["/a.txt", "/dir/b.txt", "/.exempt/x", "/.exempt/nothing", "/\ufffd.bin"]) {
      expect(t.count("getattr", p), `handlers asked for ${p}`).toBeGreaterThan(0)
    }
    expect(t.count("getattr")).toBeGreaterThan(before)
  })

  it("names_add makes a name found; the next reset drops the names it does not give", async () => {
    native.fuse_native_names_add("hidden.txt")
    expect(await stats(["hidden.txt"])).toEqual([0])
    reset(["a.txt", "dir", "dir/b.txt"], "")
    const before = t.calls.length
    // without an exempt folder, the exempt one's names are ordinary missing names now
    expect(await stats(["hidden.txt", ".exempt/x", "a.txt"])).toEqual([ENOENT, ENOENT, 0])
    expect(t.calls.slice(before).filter((c) => c.includes("hidden") || c.includes(".exempt"))).toEqual([])
    reset(["a.txt", "dir", "dir/b.txt"])
  })

  it("a path longer than names_add's stack buffer (1024 bytes) is kept too", async () => {
    const parts = Array.from({ length: 6 }, (_, i) => String(i).repeat(250))
    const deep = [...parts, "file.txt"].join("/")
    expect(Buffer.byteLength(deep)).toBeGreaterThan(1024)
    t.put(deep, "deep")
    expect(await stats([deep])).toEqual([ENOENT])
    for (let i = 1; i <= parts.length + 1; i++) native.fuse_native_names_add([...parts, "file.txt"].slice(0, i).join("/"))
    expect(await stats([deep])).toEqual([0])
    expect(t.count("getattr", "/" + deep)).toBeGreaterThan(0)
  })

  it("a table grown through many doublings (20,000 names reset, 5,000 added) still sends every name it holds to the handlers", async () => {
    const reset_ = Array.from({ length: 20_000 }, (_, i) => `many/r${i}`)
    const added = Array.from({ length: 5000 }, (_, i) => `many/a${i}`)
    fs.mkdirSync(t.real("many"))
    reset(["a.txt", "dir", "dir/b.txt", "many", ...reset_])
    for (const p of added) native.fuse_native_names_add(p)
    // no file is underneath: the handlers answer ENOENT, but they are asked
    const held = [...reset_.filter((_, i) => i % 10 === 0), ...added.filter((_, i) => i % 5 === 0)]
    const missing = Array.from({ length: 2000 }, (_, i) => `many/m${i}`)
    const got = await stats([...held, ...missing])
    expect(got.every((e) => e === ENOENT)).toBe(true)
    const asked = new Set(t.calls.filter((c) => c.startsWith("getattr /many/")).map((c) => c.slice("getattr /".length)))
    expect(held.filter((p) => !asked.has(p)), "names held but not asked of the handlers").toEqual([])
    expect(missing.filter((p) => asked.has(p)), "names not held but asked").toEqual([])
    // and what was there before still is
    expect(await stats(["a.txt", "dir/b.txt"])).toEqual([0, 0])
  })
})
