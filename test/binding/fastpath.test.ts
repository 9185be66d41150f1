/**
 * The fast path (fuse_native_passthrough_open, _written): a handle tied to a descriptor has its
 * reads and writes served by pread/pwrite on the FUSE thread. Each test reads or writes the same
 * bytes through a tied handle and through one the JS handlers serve, and expects the same bytes,
 * the same short counts and the same errnos, with the handlers seeing no read or write of the tied
 * one. Kernel passthrough is not asked for here (kernel.test.ts).
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BINDING_HANDLES, EBADF, PASSTHROUGH_SLOTS, TestFs, native, py } from "./harness.js"

const t = new TestFs("fastpath")
const size = 300_000 + 123
const data = randomBytes(size)

beforeAll(async () => {
  t.put("fast.bin", data)
  t.put("slow.bin", data)
  // fast.bin's handles are tied; slow.bin's are served by the read/write handlers
  t.tie = (p) => ({ thread: p.startsWith("/fast") })
  await t.mount()
})
afterAll(() => t.close())

/** preads of [offset, length] on one descriptor per file: the bytes as hex, or the errno */
const PREADS = `
out = {}
for name in ARG["files"]:
    fd = os.open(name, os.O_RDONLY)
    out[name] = [os.pread(fd, n, off).hex() for off, n in ARG["at"]]
    os.close(fd)
print(json.dumps(out))
`

describe("passthrough_open", () => {
  it("ties handles below PASSTHROUGH_SLOTS and in the binding's range, to descriptors below PASSTHROUGH_SLOTS; -1 unties", () => {
    const fd = fs.openSync(t.real("fast.bin"), "r")
    try {
      expect(native.fuse_native_passthrough_open(60_000, fd, 0)).toBe(1)
      expect(native.fuse_native_passthrough_open(60_000, -1, 0)).toBe(1)
      expect(native.fuse_native_passthrough_open(PASSTHROUGH_SLOTS - 1, fd, 0)).toBe(1)
      expect(native.fuse_native_passthrough_open(PASSTHROUGH_SLOTS - 1, -1, 0)).toBe(1)
      expect(native.fuse_native_passthrough_open(PASSTHROUGH_SLOTS, fd, 0)).toBe(0)
      expect(native.fuse_native_passthrough_open(BINDING_HANDLES - 1, fd, 0)).toBe(0)
      // the binding's own handles: CREATED_SLOTS (4096) of them
      expect(native.fuse_native_passthrough_open(BINDING_HANDLES + 4095, fd, 0)).toBe(1)
      expect(native.fuse_native_passthrough_open(BINDING_HANDLES + 4095, -1, 0)).toBe(1)
      expect(native.fuse_native_passthrough_open(BINDING_HANDLES + 4096, fd, 0)).toBe(0)
      // a descriptor past the table is refused, whatever the handle
      expect(native.fuse_native_passthrough_open(7, PASSTHROUGH_SLOTS, 0)).toBe(0)
      expect(native.fuse_native_passthrough_open(7, 70_000, 1)).toBe(0)
    } finally {
      fs.closeSync(fd)
    }
  })

  it("a descriptor past the table leaves the handle untied, whatever tie its number had before", async () => {
    const stale = fs.openSync(t.real("fast.bin"), "r")
    // the next handle's number, tied by hand as a handle that was never untied would be
    const fh = t["nextFh"]
    expect(native.fuse_native_passthrough_open(fh, stale, 0)).toBe(1)
    t.tie = (p) => ({ thread: p === "/slow.bin", fd: 70_000 })
    try {
      const before = t.count("read", "/slow.bin")
      const got = await py<Record<string, Array<string>>>(PREADS, { files: [t.at("slow.bin")], at: [[0, 4096]] })
      expect(Buffer.from(got[t.at("slow.bin")]![0]!, "hex").equals(data.subarray(0, 4096))).toBe(true)
      expect(t.opened.at(-1)).toMatchObject({ path: "/slow.bin", fh, tied: false })
      expect(t.count("read", "/slow.bin") - before, "reads the handler served").toBeGreaterThan(0)
    } finally {
      t.tie = (p) => ({ thread: p.startsWith("/fast") })
      fs.closeSync(stale)
    }
  })
})

describe("reads", () => {
  it("a tied file reads the same bytes as a file the read handler serves, short at the end and empty past it", async () => {
    const at: Array<[number, number]> = [
      [0, size],
      [0, 1],
      [4095, 4097],
      [131_071, 131_073],
      [size - 10, 10],
      [size - 10, 4096], // short: 10 bytes
      [size, 100], // at the end: nothing
      [size + 5000, 100] // past it: nothing
    ]
    const before = { fast: t.count("read", "/fast.bin"), slow: t.count("read", "/slow.bin") }
    const got = await py<Record<string, Array<string>>>(PREADS, { files: [t.at("fast.bin"), t.at("slow.bin")], at })
    const fast = got[t.at("fast.bin")]!
    const slow = got[t.at("slow.bin")]!
    expect(fast).toEqual(slow)
    at.forEach(([off, n], i) => expect(Buffer.from(fast[i]!, "hex").equals(data.subarray(off, off + n)), `pread(${off}, ${n})`).toBe(true))
    expect(t.count("read", "/fast.bin") - before.fast, "reads of the tied file the handler saw").toBe(0)
    expect(t.count("read", "/slow.bin") - before.slow).toBeGreaterThan(0)
    expect(t.opened.filter((o) => o.path === "/fast.bin").every((o) => o.tied)).toBe(true)
  })

  it("a read the descriptor refuses gives the same errno on both paths (EBADF from a write-only descriptor)", async () => {
    // the client opens for reading; the file system's descriptor is write-only
    t.tie = (p) => ({ thread: p.startsWith("/fast"), access: fs.constants.O_WRONLY })
    try {
      const got = await py<Record<string, number>>(
        `
out = {}
for name in ARG:
    fd = os.open(name, os.O_RDONLY)
    try:
        os.pread(fd, 100, 0)
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
    os.close(fd)
print(json.dumps(out))
`,
        [t.at("fast.bin"), t.at("slow.bin")]
      )
      expect(got[t.at("slow.bin")]).toBe(EBADF)
      expect(got[t.at("fast.bin")]).toBe(EBADF)
    } finally {
      t.tie = (p) => ({ thread: p.startsWith("/fast") })
    }
  })
})

describe("writes", () => {
  /** pwrites of [offset, hex] on one read-write descriptor per file, then the file's size and bytes */
  const PWRITES = `
out = {}
for name in ARG["files"]:
    fd = os.open(name, os.O_RDWR)
    counts = [os.pwrite(fd, bytes.fromhex(h), off) for off, h in ARG["writes"]]
    os.close(fd)
    with open(name, "rb") as f:
        out[name] = {"counts": counts, "size": os.stat(name).st_size, "bytes": f.read().hex()}
print(json.dumps(out))
`

  it("writes at offsets, over the end and past it (a hole) leave the same file on both paths, and _written reports the furthest end", async () => {
    const writes: Array<[number, string]> = [
      [0, randomBytes(10).toString("hex")],
      [5000, randomBytes(200_000).toString("hex")], // more than max_write: two requests
      [size - 3, randomBytes(7).toString("hex")], // over the end
      [size + 100_000, randomBytes(33).toString("hex")] // past it
    ]
    const before = { fast: t.count("write", "/fast.bin"), slow: t.count("write", "/slow.bin") }
    const got = await py<Record<string, { counts: Array<number>; size: number; bytes: string }>>(PWRITES, { files: [t.at("fast.bin"), t.at("slow.bin")], writes })
    const fast = got[t.at("fast.bin")]!
    const slow = got[t.at("slow.bin")]!
    expect(fast.counts).toEqual(writes.map(([, h]) => h.length / 2))
    expect(fast.counts).toEqual(slow.counts)
    expect(fast.size).toBe(size + 100_033)
    expect(fast.size).toBe(slow.size)
    expect(fast.bytes === slow.bytes, "the two files' bytes").toBe(true)
    const expected = Buffer.alloc(size + 100_033)
    data.copy(expected)
    for (const [off, h] of writes) Buffer.from(h, "hex").copy(expected, off)
    expect(fs.readFileSync(t.real("fast.bin")).equals(expected)).toBe(true)
    expect(t.count("write", "/fast.bin") - before.fast, "writes of the tied file the handler saw").toBe(0)
    expect(t.count("write", "/slow.bin") - before.slow).toBeGreaterThan(1)

    // what the FUSE threads wrote on the tied descriptor, once; nothing on the handler's (each
    // file's second-last open is the script's pwrite one, its last the read-back)
    const fastFd = t.opened.filter((o) => o.path === "/fast.bin" && o.tied).at(-2)!.fd
    const slowFd = t.opened.filter((o) => o.path === "/slow.bin").at(-2)!.fd
    expect(native.fuse_native_passthrough_written(fastFd)).toBe(size + 100_033)
    expect(native.fuse_native_passthrough_written(fastFd)).toBe(-1)
    expect(native.fuse_native_passthrough_written(slowFd)).toBe(-1)
    expect(native.fuse_native_passthrough_written(-1)).toBe(-1)
    expect(native.fuse_native_passthrough_written(PASSTHROUGH_SLOTS)).toBe(-1)
  })

  it("a write the descriptor refuses gives the same errno on both paths (EBADF from a read-only descriptor)", async () => {
    t.tie = (p) => ({ thread: p.startsWith("/fast"), access: fs.constants.O_RDONLY })
    try {
      const got = await py<Record<string, number>>(
        `
out = {}
for name in ARG:
    fd = os.open(name, os.O_WRONLY)
    try:
        os.pwrite(fd, b"x" * 100, 0)
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
    os.close(fd)
print(json.dumps(out))
`,
        [t.at("fast.bin"), t.at("slow.bin")]
      )
      expect(got[t.at("slow.bin")]).toBe(EBADF)
      expect(got[t.at("fast.bin")]).toBe(EBADF)
    } finally {
      t.tie = (p) => ({ thread: p.startsWith("/fast") })
    }
  })
})

describe("handles and descriptors the binding cannot tie", () => {
  it("a descriptor past the table is served by the handlers, with the same bytes", async () => {
    t.put("far-fd.bin", data)
    // the handle is fine; the descriptor number handed over is one the binding has no slot for
    t.tie = (p) => ({ thread: true, fd: p === "/far-fd.bin" ? 70_000 : undefined })
    try {
      const got = await py<Record<string, Array<string>>>(PREADS, { files: [t.at("far-fd.bin")], at: [[0, size], [size - 5, 100]] })
      expect(Buffer.from(got[t.at("far-fd.bin")]![0]!, "hex").equals(data)).toBe(true)
      expect(got[t.at("far-fd.bin")]![1]).toBe(data.subarray(size - 5).toString("hex"))
      expect(t.opened.at(-1)).toMatchObject({ path: "/far-fd.bin", tied: false })
      expect(t.count("read", "/far-fd.bin")).toBeGreaterThan(0)
    } finally {
      t.tie = (p) => ({ thread: p.startsWith("/fast") })
    }
  })

  it("a handle number past the table is served by the handlers, reads and writes", async () => {
    t.put("far-fh.bin", data)
    t.tie = () => ({ thread: true })
    const next = t.nextFh
    t.nextFh = PASSTHROUGH_SLOTS + 10
    try {
      const got = await py<Record<string, Array<string>>>(
        PREADS.replace("os.O_RDONLY", "os.O_RDWR").replace("out[name] = [", "os.pwrite(fd, b'new', 1)\n    out[name] = ["),
        { files: [t.at("far-fh.bin")], at: [[0, 8]] }
      )
      expect(got[t.at("far-fh.bin")]![0]).toBe(Buffer.concat([data.subarray(0, 1), Buffer.from("new"), data.subarray(4, 8)]).toString("hex"))
      expect(t.opened.at(-1)).toMatchObject({ path: "/far-fh.bin", fh: PASSTHROUGH_SLOTS + 10, tied: false })
      expect(t.count("read", "/far-fh.bin")).toBeGreaterThan(0)
      expect(t.count("write", "/far-fh.bin")).toBe(1)
    } finally {
      t.nextFh = next
      t.tie = (p) => ({ thread: p.startsWith("/fast") })
    }
  })

  it("an untied handle goes back to the handlers", async () => {
    t.put("untied.bin", data)
    // tied at open, untied by the test before the client reads
    t.tie = () => ({ thread: true })
    try {
      const before = t.count("read", "/untied.bin")
      const fh = await fs.promises.open(t.at("untied.bin"), "r")
      try {
        const mine = t.opened.at(-1)!
        expect(mine).toMatchObject({ path: "/untied.bin", tied: true })
        expect(native.fuse_native_passthrough_open(mine.fh, -1, 0)).toBe(1)
        const b = Buffer.alloc(1000)
        const { bytesRead } = await fh.read(b, 0, 1000, 777)
        expect(bytesRead).toBe(1000)
        expect(b.equals(data.subarray(777, 1777))).toBe(true)
        expect(t.count("read", "/untied.bin") - before).toBeGreaterThan(0)
      } finally {
        await fh.close()
      }
    } finally {
      t.tie = (p) => ({ thread: p.startsWith("/fast") })
    }
  })
})
