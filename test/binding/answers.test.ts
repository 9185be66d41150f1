/**
 * Answers the binding gives or shapes: extended attributes outside the prefix
 * (fuse_native_xattr_prefix), the attributes a create answers with (saving libfuse's fgetattr),
 * utimens with UTIME_OMIT / UTIME_NOW and atime and mtime each in its place, and stat answers from
 * reused arrays under many parallel requests. No names table here: every create asks the handlers.
 * (fuse-native asks the table's fgetattr, with the handle, for an fstat and after a create.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ENODATA, TestFs, py, run, xattrPrefix } from "./harness.js"

const t = new TestFs("answers")

beforeAll(async () => {
  t.put("f.txt", "f")
  await t.mount()
})
afterAll(() => t.close())

/** the sentinels utimens gets (packages/fuse-native/src/dispatch.c, utime_to_uint64) */
const UTIME_OMIT = 0xfffffffffffff
const UTIME_NOW = 0xffffffffffffe

describe("xattr_prefix", () => {
  const GET = `
out = []
for name in ARG["names"]:
    try:
        out.append(os.getxattr(ARG["path"], name).decode())
    except OSError as e:
        out.append(e.errno)
print(json.dumps(out))
`
  it("names outside the prefix are ENODATA without asking the handler; inside, the handler answers", async () => {
    xattrPrefix("user.test.")
    const before = t.count("getxattr")
    const got = await py<Array<string | number>>(GET, { path: t.at("f.txt"), names: ["user.test.one", "user.other", "security.capability", "user.test"] })
    expect(got).toEqual(["value of user.test.one", ENODATA, ENODATA, ENODATA])
    expect(t.count("getxattr") - before).toBe(1)
    expect(t.count("getxattr", "/f.txt user.test.one")).toBe(1)
  })

  it("an empty prefix sends every name to the handler", async () => {
    xattrPrefix("")
    const got = await py<Array<string | number>>(GET, { path: t.at("f.txt"), names: ["user.other"] })
    expect(got).toEqual(["value of user.other"])
    expect(t.count("getxattr", "/f.txt user.other")).toBe(1)
    xattrPrefix("user.test.")
  })
})

describe("create", () => {
  const CREATE = `
fd = os.open(ARG, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
os.close(fd)
print("null")
`
  // (no fstat: with attr_timeout=0 it would ask for the attributes itself)
  it("the attributes the create handler answers with save libfuse's fgetattr", async () => {
    t.createStat = true
    await py(CREATE, t.at("new1.txt"))
    expect(t.count("create", "/new1.txt")).toBe(1)
    // the negative lookup before the create, and nothing after it
    expect(t.count("getattr", "/new1.txt"), "getattr requests").toBe(1)
    expect(t.count("fgetattr", "/new1.txt"), "fgetattr requests").toBe(0)
  })

  it("without them, libfuse asks for the new file's attributes as before", async () => {
    t.createStat = false
    try {
      await py(CREATE, t.at("new2.txt"))
      expect(t.count("create", "/new2.txt")).toBe(1)
      expect(t.count("getattr", "/new2.txt"), "getattr requests").toBe(1)
      expect(t.count("fgetattr", "/new2.txt"), "fgetattr requests").toBe(1)
    } finally {
      t.createStat = true
    }
  })
})

describe("utimens", () => {
  const UTIME = `
os.utime(ARG["path"], ns=(ARG["a"], ARG["m"]))
print("null")
`
  it("gives atime and mtime each in its place", async () => {
    await py(UTIME, { path: t.at("f.txt"), a: 1_000_000_000_123_000_000, m: 2_000_000_000_456_000_000 })
    expect(t.utimes.get("/f.txt")).toEqual([1_000_000_000_123, 2_000_000_000_456])
  })

  it("gives UTIME_OMIT for the time left alone, and UTIME_NOW for now", async () => {
    await run("touch", ["-m", "-d", "@1500000000", t.at("f.txt")])
    expect(t.utimes.get("/f.txt")).toEqual([UTIME_OMIT, 1_500_000_000_000])
    await run("touch", ["-a", "-d", "@1600000000", t.at("f.txt")])
    expect(t.utimes.get("/f.txt")).toEqual([1_600_000_000_000, UTIME_OMIT])
    await run("touch", [t.at("f.txt")])
    expect(t.utimes.get("/f.txt")).toEqual([UTIME_NOW, UTIME_NOW])
  })
})

describe("stat answers from reused arrays", () => {
  it("many getattr and fgetattr answers in flight at once each carry their own file's attributes", async () => {
    const n = 300
    for (let i = 0; i < n; i++) t.put(`s/${i}`, Buffer.alloc(i * 7 + 1))
    const got = await py<Array<[number, number]>>(
      `
from concurrent.futures import ThreadPoolExecutor
def one(i):
    p = os.path.join(ARG["dir"], str(i))
    a = os.stat(p).st_size
    fd = os.open(p, os.O_RDONLY)
    b = os.fstat(fd).st_size
    os.close(fd)
    return [a, b]
with ThreadPoolExecutor(16) as ex:
    print(json.dumps(list(ex.map(one, range(ARG["n"])))))
`,
      { dir: t.at("s"), n }
    )
    expect(got).toEqual(Array.from({ length: n }, (_, i) => [i * 7 + 1, i * 7 + 1]))
  })
})
