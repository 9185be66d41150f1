/**
 * Extended attributes read with buffers of every size, as getxattr(2) and listxattr(2) define them:
 * size 0 asks for the length, a big enough buffer gets the value, a smaller one gets ERANGE (the
 * binding once answered a short buffer with the whole length, and libfuse then replied with bytes
 * from past the end of its buffer). Each call is made by python3 through libc, so the sizes are
 * exactly the ones given.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, exec, sharebox, useWorld, write } from "./harness.js"

const CALLS = String.raw`
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
op, p, size = sys.argv[1], sys.argv[2].encode(), int(sys.argv[-1])
buf = ctypes.create_string_buffer(max(size, 1))
if op == "get":
    n = libc.getxattr(p, sys.argv[3].encode(), buf if size else None, ctypes.c_size_t(size))
else:
    n = libc.listxattr(p, buf if size else None, ctypes.c_size_t(size))
if n < 0:
    print(errno.errorcode[ctypes.get_errno()])
else:
    print(n, buf.raw[:n].replace(b"\0", b"|").decode() if size else "")
`

describe("extended attributes and the caller's buffer", () => {
  const w = useWorld("sharebox-xattrs")
  let A: HostDirs
  let calls: string
  const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3"
  const call = (...args: Array<string>): string => exec(python, [calls, ...args]).stdout.trim()

  beforeAll(() => {
    calls = path.join(w.root, "calls.py")
    fs.writeFileSync(calls, CALLS)
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "f.txt"), "some content\n")
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
  }, 60_000)

  it("getxattr: the length, the value, and ERANGE for a buffer too small", () => {
    const f = path.join(A.mnt, "f.txt")
    const [len, ...rest] = call("get", f, "user.sharebox.key", "0").split(" ")
    const n = Number(len)
    expect(n).toBeGreaterThan(20)
    expect(rest.join(" ")).toBe("")
    const whole = call("get", f, "user.sharebox.key", String(n))
    expect(whole).toMatch(new RegExp(`^${n} SHA256E-s13--[0-9a-f]{64}\\.txt$`))
    expect(call("get", f, "user.sharebox.key", String(n + 100))).toBe(whole)
    expect(call("get", f, "user.sharebox.key", String(n - 1))).toBe("ERANGE")
    expect(call("get", f, "user.sharebox.key", "4")).toBe("ERANGE")
    expect(call("get", f, "user.sharebox.present", "1")).toBe("1 1")
  })

  it("listxattr: the length, the names, and ERANGE for a buffer too small", () => {
    const f = path.join(A.mnt, "f.txt")
    const names = ["user.sharebox.key", "user.sharebox.present", "user.sharebox.whereis"]
    const exact = names.reduce((n, s) => n + s.length + 1, 0)
    expect(Number(call("list", f, "0").split(" ")[0])).toBeGreaterThanOrEqual(exact)
    expect(call("list", f, String(exact))).toBe(`${exact} ${names.join("|")}|`)
    expect(call("list", f, String(exact - 1))).toBe("ERANGE")
    expect(call("list", f, "10")).toBe("ERANGE")
  })
})
