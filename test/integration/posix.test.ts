/**
 * What POSIX requires of chmod, open/creat, mkdir, rename, unlink, rmdir, symlink, truncate,
 * ftruncate and utimensat, checked on a real mount: the modes, the errnos and the times, as root and
 * as an unprivileged user (nobody, through setpriv) on an allow_other mount, sticky directories and
 * permission-denied cases included. Each call is made by a small python3 program (one per call),
 * which prints OK or the errno's name, so the errno is checked, not a tool's message.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, exec, useWorld } from "./harness.js"

const CALLS = String.raw`
import errno, os, sys
op, args = sys.argv[1], sys.argv[2:]
try:
    if op == "read":
        with open(args[0], "rb") as f: f.read()
    elif op == "write":
        fd = os.open(args[0], os.O_WRONLY | os.O_APPEND); os.write(fd, b"x"); os.close(fd)
    elif op == "creat":
        fd = os.open(args[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, int(args[1], 8)); os.close(fd)
    elif op == "open-dir-write":
        fd = os.open(args[0], os.O_WRONLY); os.close(fd)
    elif op == "mkdir": os.mkdir(args[0], int(args[1], 8) if len(args) > 1 else 0o777)
    elif op == "rmdir": os.rmdir(args[0])
    elif op == "unlink": os.unlink(args[0])
    elif op == "rename": os.rename(args[0], args[1])
    elif op == "symlink": os.symlink(args[0], args[1])
    elif op == "link": os.link(args[0], args[1])
    elif op == "mkfifo": os.mkfifo(args[0])
    elif op == "mknod": os.mknod(args[0], 0o600 | 0o020000, os.makedev(1, 3))
    elif op == "chmod": os.chmod(args[0], int(args[1], 8))
    elif op == "chown": os.chown(args[0], int(args[1]), int(args[2]))
    elif op == "truncate": os.truncate(args[0], int(args[1]))
    elif op == "ftruncate-ro":
        fd = os.open(args[0], os.O_RDONLY)
        try: os.ftruncate(fd, 0)
        finally: os.close(fd)
    elif op == "list": os.listdir(args[0])
    elif op == "stat": os.stat(args[0])
    elif op == "exec": os.execv(args[0], [args[0]])
    elif op == "utime-now": os.utime(args[0])
    elif op == "utime-set": os.utime(args[0], (1000000000, 1000000000))
    else: raise SystemExit("unknown call " + op)
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
`

describe("POSIX calls on a mount", () => {
  const w = useWorld("sharebox-posix")
  let A: HostDirs
  let calls: string
  const at = (p: string) => path.join(A.mnt, p)
  /** The outcome of one call as root: OK or the errno's name. */
  const root = (op: string, ...args: Array<string>): string => run([], op, args)
  /** The outcome of one call as nobody (uid and gid 65534, no supplementary groups). */
  const nobody = (op: string, ...args: Array<string>): string => run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"], op, args)
  // the system's python3, which another user can run (a python3 first on root's PATH may be root's own)
  const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3"
  const run = (prefix: Array<string>, op: string, args: Array<string>): string => {
    const argv = [...prefix, python, calls, op, ...args]
    const r = exec(argv[0]!, argv.slice(1))
    if (r.stdout.trim() === "") throw new Error(`${op} ${args.join(" ")}: ${r.stderr}`)
    return r.stdout.trim()
  }
  const modeOf = (p: string) => (fs.lstatSync(at(p)).mode & 0o7777).toString(8).padStart(4, "0")

  beforeAll(() => {
    // mkdtemp makes its folder 0700: another user must be able to reach the mountpoint
    fs.chmodSync(w.root, 0o755)
    calls = path.join(w.root, "calls.py")
    fs.writeFileSync(calls, CALLS, { mode: 0o644 })
    A = w.host("A")
    fs.chmodSync(path.dirname(A.mnt), 0o755)
    w.mount(A, "allow_other")
  }, 60_000)

  describe("as root", () => {
    it("creat and mkdir: the mode asked for; EEXIST, ENOENT, ENOTDIR, ENAMETOOLONG", () => {
      expect(root("creat", at("f"), "0640")).toBe("OK")
      expect(modeOf("f")).toBe("0640")
      expect(root("creat", at("f"), "0644")).toBe("EEXIST")
      expect(root("mkdir", at("d"), "0750")).toBe("OK")
      expect(modeOf("d")).toBe("0750")
      expect(root("mkdir", at("d"))).toBe("EEXIST")
      expect(root("mkdir", at("f"))).toBe("EEXIST")
      expect(root("mkdir", at("missing/d"))).toBe("ENOENT")
      expect(root("creat", at("missing/f"), "0644")).toBe("ENOENT")
      expect(root("creat", at("f/g"), "0644")).toBe("ENOTDIR")
      expect(root("mkdir", at("x".repeat(256)))).toBe("ENAMETOOLONG")
      expect(root("creat", at("x".repeat(256)), "0644")).toBe("ENAMETOOLONG")
      expect(root("open-dir-write", at("d"))).toBe("EISDIR")
    })

    it("chmod: every permission bit and the sticky bit; set-user-ID and set-group-ID refused; ENOENT", () => {
      for (const m of ["0600", "0000", "0777", "0111", "0222", "0444", "1755"]) {
        expect(root("chmod", at("f"), m)).toBe("OK")
        expect(modeOf("f")).toBe(m)
      }
      expect(root("chmod", at("d"), "1777")).toBe("OK")
      expect(modeOf("d")).toBe("1777")
      expect(root("chmod", at("f"), "4755")).toBe("EPERM")
      expect(root("chmod", at("d"), "2775")).toBe("EPERM")
      expect(root("chmod", at("nope"), "0644")).toBe("ENOENT")
      expect(root("chmod", at("f"), "0644")).toBe("OK")
    })

    it("root needs an execute bit to run a file, as everywhere", () => {
      fs.writeFileSync(at("run.sh"), "#!/bin/sh\nexit 0\n")
      expect(root("exec", at("run.sh"))).toBe("EACCES")
      fs.chmodSync(at("run.sh"), 0o700)
      expect(exec(at("run.sh"), []).code).toBe(0)
    })

    it("rename, unlink, rmdir: the errnos of each case", () => {
      fs.mkdirSync(at("full"))
      fs.writeFileSync(at("full/inside"), "i\n")
      fs.mkdirSync(at("empty"))
      expect(root("rename", at("f"), at("full"))).toBe("EISDIR")
      expect(root("rename", at("empty"), at("f"))).toBe("ENOTDIR")
      expect(root("rename", at("empty"), at("full"))).toBe("ENOTEMPTY")
      expect(root("rename", at("full"), at("full/sub"))).toBe("EINVAL")
      expect(root("rename", at("nope"), at("x"))).toBe("ENOENT")
      expect(root("rename", at("f"), at("missing/f"))).toBe("ENOENT")
      expect(root("unlink", at("empty"))).toBe("EISDIR")
      expect(root("unlink", at("nope"))).toBe("ENOENT")
      expect(root("rmdir", at("full"))).toBe("ENOTEMPTY")
      expect(root("rmdir", at("f"))).toBe("ENOTDIR")
      expect(root("rmdir", at("nope"))).toBe("ENOENT")
      // a rename keeps the mode, and replaces an empty directory or a file
      fs.chmodSync(at("f"), 0o600)
      expect(root("rename", at("f"), at("g"))).toBe("OK")
      expect(modeOf("g")).toBe("0600")
      fs.mkdirSync(at("empty2"), 0o700)
      expect(root("rename", at("empty2"), at("empty"))).toBe("OK")
      expect(modeOf("empty")).toBe("0700")
      expect(root("rmdir", at("empty"))).toBe("OK")
    })

    it("symlink: mode 0777 of its own; EEXIST; the target's mode is what chmod changes", () => {
      expect(root("symlink", "g", at("l"))).toBe("OK")
      expect(modeOf("l")).toBe("0777")
      expect(root("symlink", "g", at("l"))).toBe("EEXIST")
      expect(root("chmod", at("l"), "0640")).toBe("OK")
      expect(modeOf("g")).toBe("0640")
      expect(modeOf("l")).toBe("0777")
    })

    it("truncate and ftruncate: size and content; EISDIR on a directory, EINVAL on a read-only descriptor", () => {
      fs.writeFileSync(at("t"), "0123456789")
      expect(root("truncate", at("t"), "4")).toBe("OK")
      expect(fs.readFileSync(at("t"), "utf8")).toBe("0123")
      expect(root("truncate", at("t"), "6")).toBe("OK")
      expect(fs.readFileSync(at("t"))).toEqual(Buffer.from("0123\0\0"))
      expect(root("truncate", at("d"), "0")).toBe("EISDIR")
      expect(root("truncate", at("nope"), "0")).toBe("ENOENT")
      expect(["EINVAL", "EBADF"]).toContain(root("ftruncate-ro", at("t")))
      expect(fs.statSync(at("t")).size).toBe(6)
    })

    it("utimensat: a time given is kept; ENOENT; mtime moves on a write", async () => {
      expect(root("utime-set", at("t"))).toBe("OK")
      expect(fs.statSync(at("t")).mtimeMs).toBe(1_000_000_000_000)
      expect(root("utime-set", at("nope"))).toBe("ENOENT")
      const before = Date.now() - 2000
      fs.appendFileSync(at("t"), "more")
      expect(fs.statSync(at("t")).mtimeMs).toBeGreaterThan(before)
    })

    it("hard links, FIFOs and device nodes are refused with EPERM; chown to another owner too", () => {
      expect(root("link", at("t"), at("t2"))).toBe("EPERM")
      expect(root("mkfifo", at("fifo"))).toBe("EPERM")
      expect(root("mknod", at("null"))).toBe("EPERM")
      expect(root("chown", at("t"), "65534", "-1")).toBe("EPERM")
      expect(root("chown", at("t"), String(process.getuid!()), String(process.getgid!()))).toBe("OK")
      expect(fs.readdirSync(A.mnt).filter((n) => ["t2", "fifo", "null"].includes(n))).toEqual([])
    })
  })

  describe("as nobody, on an allow_other mount", () => {
    beforeAll(() => {
      fs.writeFileSync(at("public.txt"), "public\n")
      fs.writeFileSync(at("secret.txt"), "secret\n")
      fs.chmodSync(at("secret.txt"), 0o600)
      fs.writeFileSync(at("shared.txt"), "shared\n")
      fs.chmodSync(at("shared.txt"), 0o666)
      fs.mkdirSync(at("open"), 0o777)
      fs.chmodSync(at("open"), 0o777)
      fs.mkdirSync(at("sticky"))
      fs.chmodSync(at("sticky"), 0o1777)
      fs.writeFileSync(at("sticky/roots.txt"), "root's\n")
      fs.chmodSync(at("sticky/roots.txt"), 0o666)
      fs.writeFileSync(at("open/roots.txt"), "root's\n")
      fs.mkdirSync(at("hidden"), 0o700)
      fs.writeFileSync(at("hidden/inside.txt"), "inside\n")
      fs.mkdirSync(at("traverse"))
      fs.chmodSync(at("traverse"), 0o711)
      fs.writeFileSync(at("traverse/known.txt"), "known\n")
    })

    it("reads what the modes let it read, and nothing else", () => {
      expect(nobody("read", at("public.txt"))).toBe("OK")
      expect(nobody("read", at("secret.txt"))).toBe("EACCES")
      expect(nobody("list", at("hidden"))).toBe("EACCES")
      expect(nobody("stat", at("hidden/inside.txt"))).toBe("EACCES")
      // 0711: names it knows, not the listing
      expect(nobody("list", at("traverse"))).toBe("EACCES")
      expect(nobody("read", at("traverse/known.txt"))).toBe("OK")
    })

    it("writes and truncates what the modes let it write, and nothing else", () => {
      expect(nobody("write", at("public.txt"))).toBe("EACCES")
      expect(nobody("truncate", at("public.txt"), "0")).toBe("EACCES")
      expect(nobody("write", at("shared.txt"))).toBe("OK")
      expect(fs.readFileSync(at("shared.txt"), "utf8")).toBe("shared\nx")
      expect(fs.readFileSync(at("public.txt"), "utf8")).toBe("public\n")
    })

    it("creates, removes and renames only in folders it may write", () => {
      expect(nobody("creat", at("theirs.txt"), "0644")).toBe("EACCES")
      expect(nobody("mkdir", at("theirs"))).toBe("EACCES")
      expect(nobody("symlink", "public.txt", at("theirs-link"))).toBe("EACCES")
      expect(nobody("unlink", at("public.txt"))).toBe("EACCES")
      expect(nobody("rename", at("public.txt"), at("open/public.txt"))).toBe("EACCES")
      expect(nobody("creat", at("open/theirs.txt"), "0640")).toBe("OK")
      expect(modeOf("open/theirs.txt")).toBe("0640")
      expect(nobody("mkdir", at("open/theirs"), "0700")).toBe("OK")
      expect(nobody("rename", at("open/roots.txt"), at("open/renamed.txt"))).toBe("OK")
      expect(nobody("unlink", at("open/renamed.txt"))).toBe("OK")
    })

    it("in a sticky folder, cannot remove or rename another owner's file, though it may write it", () => {
      expect(nobody("write", at("sticky/roots.txt"))).toBe("OK")
      expect(nobody("unlink", at("sticky/roots.txt"))).toBe("EPERM")
      expect(nobody("rename", at("sticky/roots.txt"), at("sticky/mine.txt"))).toBe("EPERM")
      expect(fs.existsSync(at("sticky/roots.txt"))).toBe(true)
    })

    it("cannot chmod, chown or set the times of another owner's file; may set them to now where it may write", () => {
      expect(nobody("chmod", at("shared.txt"), "0777")).toBe("EPERM")
      expect(modeOf("shared.txt")).toBe("0666")
      expect(nobody("chown", at("shared.txt"), "65534", "65534")).toBe("EPERM")
      expect(nobody("utime-set", at("shared.txt"))).toBe("EPERM")
      expect(nobody("utime-now", at("shared.txt"))).toBe("OK")
      expect(nobody("utime-now", at("public.txt"))).toBe("EACCES")
    })
  })
})
