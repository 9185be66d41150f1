/**
 * A small file system for testing the FUSE binding itself: every operation is served from a
 * backing folder by plain synchronous calls (the backing folder is not under the mount, so they
 * cannot deadlock the JS thread the binding calls), counted per operation and path, and each test
 * chooses which open handles are tied to their descriptors (served on the FUSE threads) and which
 * the read/write handlers serve. Nothing of sharebox's daemon is used.
 *
 * The binding keeps its state (names table, spares, ties) in C statics, one set per process: vitest
 * runs each test file in a process of its own, and a file's tests share that state in order.
 *
 * The FUSE callbacks run on this process's JS thread, so the tests reach the mount only through
 * fs.promises or child processes (`py` below), never a synchronous call.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import Fuse from "fuse-native"

/** The native exports the fork adds, as index.d.ts types them (the module fuse-native loaded). */
export const native: Fuse.Native = Fuse.native

/** Only Linux has it (index.d.ts): where it is missing the test says so rather than passing. */
export const xattrPrefix = (prefix: string): void => {
  if (native.fuse_native_xattr_prefix === undefined) throw new Error(`fuse-native has no fuse_native_xattr_prefix on ${os.platform()}`)
  native.fuse_native_xattr_prefix(prefix)
}

/** CREATED_BASE in packages/fuse-native/src (BINDING_HANDLES in src/fuse/binding.ts). */
export const BINDING_HANDLES = 0x40000000
/** PASSTHROUGH_SLOTS: handles and descriptors the binding can tie are below it. */
export const PASSTHROUGH_SLOTS = 65536

/** not in fs.constants */
const O_ACCMODE = 3

export const ENOENT = os.constants.errno.ENOENT
export const EBADF = os.constants.errno.EBADF
export const ENODATA = os.constants.errno.ENODATA

/** How an open (or a create answered by JavaScript) is served. */
export interface Tie {
  /** tie the handle to its descriptor: the FUSE threads serve its reads and writes */
  readonly thread: boolean
  /** and let the kernel's passthrough have it (read-only opens) */
  readonly kernel?: boolean
  /** open the backing file with these access flags instead of the open's own */
  readonly access?: number
  /** hand the binding this descriptor number instead of the real one */
  readonly fd?: number
}

interface Handle {
  readonly fd: number
  readonly path: string
  readonly tied: number
}

/** A file the binding created on a FUSE thread, as created_take gives it. */
export interface Taken {
  readonly fh: number
  readonly fd: number
  readonly id: string
  readonly path: string
  readonly mode: number
  readonly mtime: number
}

/** An element of the binding's flat answers, of the type index.d.ts says it has. */
const numberAt = (flat: ReadonlyArray<number | string>, i: number): number => {
  const v = flat[i]
  if (typeof v !== "number") throw new Error(`fuse-native answered ${String(v)} where a number belongs (element ${i})`)
  return v
}
const stringAt = (flat: ReadonlyArray<number | string>, i: number): string => {
  const v = flat[i]
  if (typeof v !== "string") throw new Error(`fuse-native answered ${String(v)} where a string belongs (element ${i})`)
  return v
}

export const takeCreated = (): Array<Taken> => {
  const flat = native.fuse_native_created_take()
  const out: Array<Taken> = []
  for (let i = 0; i + 5 < flat.length; i += 6) {
    out.push({ fh: numberAt(flat, i), fd: numberAt(flat, i + 1), id: stringAt(flat, i + 2), path: stringAt(flat, i + 3), mode: numberAt(flat, i + 4), mtime: numberAt(flat, i + 5) })
  }
  return out
}

export const reclaimSpares = (): Array<{ fd: number; id: string }> => {
  const flat = native.fuse_native_spares_reclaim()
  const out: Array<{ fd: number; id: string }> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ fd: numberAt(flat, i), id: stringAt(flat, i + 1) })
  return out
}

/**
 * The count the binding adds to as it creates (created_init): the binding counts in the array it
 * was given last, so a test that gives it another gives this one back after.
 */
export const waiting = new Int32Array(1)
native.fuse_native_created_init(waiting)

const errnoOf = (e: unknown): number => {
  const n = (e as NodeJS.ErrnoException).errno
  return typeof n === "number" ? n : -os.constants.errno.EIO
}
const statOf = (s: fs.Stats) => ({ mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, nlink: s.nlink, ino: s.ino, mtime: s.mtimeMs, atime: s.atimeMs, ctime: s.ctimeMs, blksize: 4096, blocks: s.blocks })

export class TestFs {
  readonly root: string
  readonly backing: string
  readonly mnt: string
  /** staging files for the binding's creates */
  readonly spares: string
  /** every request the handlers saw: "op path" */
  readonly calls: Array<string> = []
  readonly handles = new Map<number, Handle>()
  /** files the binding created, as they were adopted */
  readonly taken: Array<Taken> = []
  /** the times utimens was given, per path */
  readonly utimes = new Map<string, [number, number]>()
  /** how each open is served; by default by the handlers */
  tie: (p: string, flags: number) => Tie = () => ({ thread: false })
  /** what create answers with beside the handle: the attributes saves libfuse an fgetattr */
  createStat = true
  /** whether files the binding created are adopted before each request (as sharebox's beforeOp) */
  autoAdopt = true
  /** whether chmod and utimens answer with the attributes after them (saves libfuse a getattr) */
  changedStat = false
  /** what readdir answers beside the names: nothing, or each one's file type (a Uint32Array, as sharebox) */
  listTypes: (names: ReadonlyArray<string>, dir: string) => Uint32Array | undefined = () => undefined
  /** what the chown handler answers (it changes nothing) */
  chownAnswer: (uid: number, gid: number) => number = () => 0
  /** the next handle the open handler gives (a test may move it out of the binding's range) */
  nextFh = 1
  /** every handle opened by the handlers, with its descriptor */
  readonly opened: Array<{ path: string; fh: number; fd: number; tied: boolean }> = []
  private fuse: Fuse | undefined

  constructor(name: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `sb-binding-${name}-`))
    this.backing = path.join(this.root, "backing")
    this.mnt = path.join(this.root, "mnt")
    this.spares = path.join(this.root, "spares")
    for (const d of [this.backing, this.mnt, this.spares]) fs.mkdirSync(d)
  }

  at(p: string): string {
    return path.join(this.mnt, p)
  }

  /** how many requests of `op` (for `p`, if given) the handlers saw */
  count(op: string, p?: string): number {
    return this.calls.filter((c) => (p === undefined ? c.startsWith(op + " ") : c === `${op} ${p}`)).length
  }

  /** Writes a file in the backing folder (not through the mount). */
  put(p: string, data: Buffer | string): void {
    fs.mkdirSync(path.dirname(this.real(p)), { recursive: true })
    fs.writeFileSync(this.real(p), data)
  }

  real(p: string): string {
    return path.join(this.backing, p)
  }

  /** Adopts what the binding created: each staging file moves to its path, its handle kept. */
  adopt(): void {
    if (Atomics.load(waiting, 0) === 0) return
    for (const c of takeCreated()) {
      this.taken.push(c)
      fs.renameSync(path.join(this.spares, c.id), this.real(c.path))
      fs.fchmodSync(c.fd, c.mode)
      this.handles.set(c.fh, { fd: c.fd, path: "/" + c.path, tied: c.fh })
    }
  }

  private open(p: string, flags: number, create: number | undefined): number {
    const how = this.tie(p, flags)
    const access = how.access ?? flags & O_ACCMODE
    const fd = create === undefined ? fs.openSync(this.real(p), access) : fs.openSync(this.real(p), access | fs.constants.O_CREAT | fs.constants.O_EXCL, create)
    const fh = this.nextFh++
    const tied = how.thread ? native.fuse_native_passthrough_open(fh, how.fd ?? fd, how.kernel ? 1 : 0) : 0
    this.handles.set(fh, { fd, path: p, tied: tied ? fh : 0 })
    this.opened.push({ path: p, fh, fd, tied: tied === 1 })
    if (create !== undefined) native.fuse_native_names_add(p.slice(1))
    return fh
  }

  private handle(fh: number): Handle {
    const h = this.handles.get(fh)
    if (!h) throw new Error(`no handle ${fh}`)
    return h
  }

  /** The operation table fuse-native calls. */
  private ops() {
    const seen = (op: string, p: string) => this.calls.push(`${op} ${p}`)
    const guard = (cb: (errno: number) => void, fn: () => void) => {
      try {
        fn()
      } catch (e) {
        cb(errnoOf(e))
      }
    }
    return {
      init: (cb) => cb(0),
      statfs: (_p, cb) => cb(0, { bsize: 4096, frsize: 4096, blocks: 1000, bfree: 500, bavail: 500, files: 100, ffree: 50, favail: 50, fsid: 1, flag: 0, namemax: 255 }),
      getattr: (p, cb) => {
        seen("getattr", p)
        guard(cb, () => cb(0, statOf(fs.lstatSync(this.real(p)))))
      },
      // by the handle's descriptor, as fuse-native asks it (index.js _op_fgetattr)
      fgetattr: (p, fh, cb) => {
        seen("fgetattr", p)
        guard(cb, () => cb(0, statOf(fs.fstatSync(this.handle(fh).fd))))
      },
      readdir: (p, cb) => {
        seen("readdir", p)
        guard(cb, () => {
          const names = fs.readdirSync(this.real(p))
          const types = this.listTypes(names, this.real(p))
          return types === undefined ? cb(0, names) : cb(0, names, types)
        })
      },
      open: (p, flags, cb) => {
        seen("open", p)
        guard(cb, () => cb(0, this.open(p, flags, undefined)))
      },
      create: (p, mode, cb) => {
        seen("create", p)
        guard(cb, () => {
          const fh = this.open(p, fs.constants.O_RDWR, mode)
          cb(0, fh, this.createStat ? statOf(fs.fstatSync(this.handle(fh).fd)) : undefined)
        })
      },
      read: (p, fh, buf, len, pos, cb) => {
        seen("read", p)
        guard(cb, () => cb(fs.readSync(this.handle(fh).fd, buf, 0, len, pos)))
      },
      write: (p, fh, buf, len, pos, cb) => {
        seen("write", p)
        guard(cb, () => cb(fs.writeSync(this.handle(fh).fd, buf, 0, len, pos)))
      },
      flush: (_p, _fh, cb) => cb(0),
      fsync: (_p, _d, _fh, cb) => cb(0),
      release: (p, fh, cb) => {
        seen("release", p)
        const h = this.handles.get(fh)
        if (h) {
          // untying one of the binding's handles frees its slot there
          if (h.tied) native.fuse_native_passthrough_open(fh, -1, 0)
          fs.closeSync(h.fd)
          this.handles.delete(fh)
        }
        cb(0)
      },
      truncate: (p, size, cb) => {
        seen("truncate", p)
        guard(cb, () => (fs.truncateSync(this.real(p), size), cb(0)))
      },
      ftruncate: (p, fh, size, cb) => {
        seen("ftruncate", p)
        guard(cb, () => (fs.ftruncateSync(this.handle(fh).fd, size), cb(0)))
      },
      unlink: (p, cb) => {
        seen("unlink", p)
        guard(cb, () => (fs.unlinkSync(this.real(p)), cb(0)))
      },
      mkdir: (p, mode, cb) => {
        seen("mkdir", p)
        guard(cb, () => (fs.mkdirSync(this.real(p), mode), native.fuse_native_names_add(p.slice(1)), cb(0)))
      },
      rmdir: (p, cb) => {
        seen("rmdir", p)
        guard(cb, () => (fs.rmdirSync(this.real(p)), cb(0)))
      },
      chmod: (p, mode, cb) => {
        seen("chmod", p)
        guard(cb, () => (fs.chmodSync(this.real(p), mode), cb(0, this.changedStat ? statOf(fs.lstatSync(this.real(p))) : undefined)))
      },
      chown: (p, uid, gid, cb) => {
        seen("chown", p)
        cb(this.chownAnswer(uid, gid))
      },
      utimens: (p, atime, mtime, cb) => {
        seen("utimens", p)
        this.utimes.set(p, [atime, mtime])
        guard(cb, () => {
          // the times given, in ms (the backing file keeps its own: the answer is what is checked)
          if (!this.changedStat) return cb(0)
          const st = statOf(fs.lstatSync(this.real(p)))
          cb(0, { ...st, atime, mtime })
        })
      },
      getxattr: (p, name, _pos, cb) => {
        seen("getxattr", `${p} ${name}`)
        cb(0, Buffer.from(`value of ${name}`))
      },
      listxattr: (p, cb) => {
        seen("listxattr", p)
        cb(0, ["user.test.one"])
      }
    } satisfies Fuse.Operations
  }

  /** Mounts with `options` (libfuse's -o list) added to the defaults here. */
  async mount(options: ReadonlyArray<string> = []): Promise<void> {
    const fuse = new Fuse(this.mnt, this.ops(), {
      timeout: false,
      mountOptions: ["entry_timeout=0", "attr_timeout=0", "negative_timeout=0", "big_writes", "max_write=131072", "max_read=131072", ...options],
      beforeOp: () => {
        if (this.autoAdopt) this.adopt()
      }
    })
    await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())))
    this.fuse = fuse
    // fuse-native calls back from the init handler, before libfuse has replied to the kernel's
    // INIT (where the binding settles the kernel's passthrough): the kernel holds every other
    // request until that reply, so once a statfs is answered, INIT is done
    await fs.promises.statfs(this.mnt)
  }

  /** Unmounts (fusermount -uz as a fallback), closes what is open, removes the folders. */
  async close(): Promise<void> {
    const fuse = this.fuse
    this.fuse = undefined
    if (fuse) await new Promise<void>((resolve) => fuse.unmount(() => resolve()))
    if (isMounted(this.mnt)) await run("fusermount", ["-uz", this.mnt]).catch(() => undefined)
    for (const [fh, h] of this.handles) {
      if (h.tied) native.fuse_native_passthrough_open(fh, -1, 0)
      fs.closeSync(h.fd)
    }
    this.handles.clear()
    if (!isMounted(this.mnt)) fs.rmSync(this.root, { recursive: true, force: true })
  }
}

/** Whether a mount is at `mnt` (read from /proc, not through any mount). */
export const isMounted = (mnt: string): boolean =>
  fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === mnt)

/** Runs a command to its end: its stdout, or a rejection carrying its stderr. */
export const run = (cmd: string, args: ReadonlyArray<string>, input?: string): Promise<string> =>
  new Promise((resolve, reject) => {
    // the children run without the sanitizer the suite may run under (LD_PRELOAD=libasan.so):
    // its leak report at their exit would fail them, and they are not what is tested
    const { LD_PRELOAD: _, ...env } = process.env
    const child = spawn(cmd, [...args], { stdio: ["pipe", "pipe", "pipe"], env })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (b: Buffer) => out.push(b))
    child.stderr.on("data", (b: Buffer) => err.push(b))
    child.on("error", reject)
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"))
      else reject(new Error(`${cmd} exited with ${code}: ${Buffer.concat(err).toString("utf8")}`))
    })
    child.stdin.end(input ?? "")
  })

/**
 * Runs a Python script (/usr/bin/python3) with `arg` as JSON in ARG (read from stdin); the script
 * prints its answer as JSON. A child process, so its file system calls never wait on this JS thread.
 */
export const py = async <T>(script: string, arg: unknown = null): Promise<T> => {
  const prelude = "import json, os, sys, errno\nARG = json.loads(sys.stdin.read())\n"
  const out = await run("/usr/bin/python3", ["-c", prelude + script], JSON.stringify(arg))
  return JSON.parse(out) as T
}
