/**
 * Model-based random I/O in a real mount: fast-check picks opens (read-only, read-write, create,
 * truncate, append), closes and reopens of up to four descriptors at once, pwrite and write (past
 * the end too, leaving holes), pread and read, ftruncate and truncate (grow and shrink), fsync and
 * fdatasync, stat and fstat, rename and unlink of files that are open, and writes through a shared
 * memory map (mmapper.py, one python process for the file), on three names in a folder of the
 * mount, some of which exist when the run starts. Every file is an inode of the model (a Buffer);
 * names point at inodes and descriptors follow theirs through renames and unlinks. Every read,
 * size and error is compared with the model, as Linux has them (a pwrite with O_APPEND appends).
 *
 * One exception: a read-only descriptor the kernel reads for itself (its passthrough) keeps the
 * content it was opened on when another open changes the file (on purpose, docs/layout.md); every
 * other reader follows the writer's staging file (fuse/files.ts, followSession). Reads and sizes of
 * a read-only descriptor opened before another changed the file are left unchecked unless
 * SHAREBOX_RANDOMIO_STRICT=1 (which passed 30 runs when readers began to follow writers). The
 * last two tests pin the bug that following fixed: a reader's read filled the one page cache with
 * old bytes, which a writer read back, and wrote back through a map, over its own write.
 *
 * Two hosts take turns (a run picks one): one with the kernel's passthrough reads and a 50 ms
 * write-back, so replays land between and around the commands; one with passthrough off and the
 * default write-back. After each run every descriptor is closed and the folder is read back
 * through the mount, and on the first host, once the journal is replayed, from the gitdir's work
 * tree. At the end both hosts are unmounted and mounted again, and every run's folder must read as
 * its model.
 *
 * SHAREBOX_RANDOMIO_RUNS runs (default 12, 30 in the full run) of up to SHAREBOX_RANDOMIO_OPS commands (default 80);
 * scripts/randomio.sh runs a long version. On failure fast-check prints the seed, the path and the
 * shrunk commands (ending in their replayPath), and the error the failing run's trace with offsets
 * and lengths resolved. SHAREBOX_RANDOMIO_SEED with the same RUNS and OPS replays it and shrinks
 * again; add SHAREBOX_RANDOMIO_PATH and SHAREBOX_RANDOMIO_REPLAY (the replayPath) to go straight
 * to the shrunk case. SHAREBOX_RANDOMIO_DEBUG=FILE appends every command to FILE as it runs.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { createInterface } from "node:readline"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, scaled, sharebox, statusValue } from "./harness.js"

const RUNS = Number(process.env.SHAREBOX_RANDOMIO_RUNS ?? scaled(12, 30))
const OPS = Number(process.env.SHAREBOX_RANDOMIO_OPS ?? 80)
const SEED = process.env.SHAREBOX_RANDOMIO_SEED === undefined ? undefined : Number(process.env.SHAREBOX_RANDOMIO_SEED)
const PATH = process.env.SHAREBOX_RANDOMIO_PATH
const REPLAY = process.env.SHAREBOX_RANDOMIO_REPLAY
const STRICT = process.env.SHAREBOX_RANDOMIO_STRICT === "1"
/** the first test's time, shrinking included */
const TIME_LIMIT = Math.max(300_000, RUNS * OPS * 300)

const NAMES = ["f0", "f1", "f2"] as const
const SLOTS = 4
/** no write or truncate takes a file past this: every full read stays cheap */
const MAX_SIZE = 4 << 20

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants
const MODES = {
  r: O_RDONLY,
  "r+": O_RDWR,
  "r+append": O_RDWR | O_APPEND,
  "rw+creat": O_RDWR | O_CREAT,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  "w+": O_RDWR | O_CREAT | O_TRUNC,
  a: O_WRONLY | O_CREAT | O_APPEND,
  "a+": O_RDWR | O_CREAT | O_APPEND
} as const
type Mode = keyof typeof MODES

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex")

/** `n` bytes from `seed` (mulberry32): distinct for every write, never periodic over a page. */
const bytesOf = (seed: number, n: number): Buffer => {
  const out = Buffer.allocUnsafe(n)
  let a = seed >>> 0
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = (t ^ (t >>> 14)) & 0xff
  }
  return out
}

/** Throws with the first differing byte and the bytes around it, not megabytes of dump. */
const sameBytes = (got: Buffer, want: Buffer, what: string): void => {
  if (got.equals(want)) return
  let i = 0
  while (i < got.length && i < want.length && got[i] === want[i]) i++
  const around = (b: Buffer) => b.subarray(Math.max(0, i - 8), i + 8).toString("hex")
  throw new Error(
    `${what}: ${got.length} bytes read, the model has ${want.length}; first difference at byte ${i} ` +
      `(read ${around(got)}, model ${around(want)}, from byte ${Math.max(0, i - 8)}); ` +
      `the read has ${nonZeroRuns(got)}, the model ${nonZeroRuns(want)}`
  )
}

/** Where a buffer holds zeros and where data, in 4 KiB pages (to see a lost or misplaced write). */
const nonZeroRuns = (b: Buffer): string => {
  const pages: Array<string> = []
  for (let p = 0; p < b.length; p += 4096) pages.push(b.subarray(p, p + 4096).some((x) => x !== 0) ? "d" : "0")
  return `pages [${pages.join("")}]`
}

// ---------------------------------------------------------------------------------------------
// The model

class Inode {
  data = Buffer.alloc(0)
  /** how many times its content or size changed */
  changes = 0
  constructor(readonly id: number) {}

  resize(n: number): void {
    this.changes++
    if (n <= this.data.length) this.data = Buffer.from(this.data.subarray(0, n))
    else this.data = Buffer.concat([this.data, Buffer.alloc(n - this.data.length)])
  }

  put(at: number, bytes: Buffer): void {
    this.changes++
    if (at + bytes.length > this.data.length) this.resize(at + bytes.length)
    bytes.copy(this.data, at)
  }
}

interface Handle {
  readonly inode: Inode
  /** the name it was opened by (a reopen uses it again, whatever it names by then) */
  readonly name: string
  readonly mode: Mode
  /** the descriptor's offset, for read and write */
  pos: number
  /** the inode's `changes` when it was opened */
  readonly opened: number
}

/** A read-only descriptor opened before a change by another: left unchecked (the file's header). */
const missed = (h: Handle) => !STRICT && (MODES[h.mode] & 3) === O_RDONLY && h.inode.changes !== h.opened
const readable = (h: Handle) => (MODES[h.mode] & 3) !== O_WRONLY
const writable = (h: Handle) => (MODES[h.mode] & 3) !== O_RDONLY
const appends = (h: Handle) => (MODES[h.mode] & O_APPEND) !== 0

class Model {
  readonly names = new Map<string, Inode>()
  readonly handles: Array<Handle | undefined> = Array.from({ length: SLOTS }, () => undefined)
  private next = 1

  /** What `open(name, flags)` does: the handle, or the errno it fails with. */
  open(name: string, mode: Mode, flags = MODES[mode]): Handle | "ENOENT" {
    let inode = this.names.get(name)
    if (inode === undefined) {
      if (!(flags & O_CREAT)) return "ENOENT"
      inode = new Inode(this.next++)
      this.names.set(name, inode)
    }
    if (flags & O_TRUNC) inode.resize(0)
    return { inode, name, mode, pos: 0, opened: inode.changes }
  }
}

// ---------------------------------------------------------------------------------------------
// The real side

/** mmapper.py, started once for the file: one request answered before the next is asked. */
class Mapper {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly waiting: Array<(line: string) => void> = []
  private stderr = ""
  private exited: string | undefined

  constructor() {
    this.child = spawn("python3", [path.join(import.meta.dirname, "mmapper.py")], { stdio: ["pipe", "pipe", "pipe"] })
    this.child.stderr.on("data", (d) => (this.stderr += d))
    this.child.stdin.on("error", () => {}) // a dead child is reported by its exit
    createInterface({ input: this.child.stdout }).on("line", (l) => this.waiting.shift()?.(l))
    this.child.on("exit", (code) => {
      this.exited = `err -1 mmapper.py exited (${code}): ${this.stderr}`
      for (const w of this.waiting.splice(0)) w(this.exited)
    })
  }

  /** Writes `data` at `offset` of `file` through a shared map: the size and sha256 it mapped, or the error. */
  write(file: string, offset: number, data: Buffer): Promise<{ size: number; before: string } | { errno: number; message: string }> {
    return new Promise((resolve) => {
      const answer = (line: string) => {
        const [word, a, ...rest] = line.split(" ")
        resolve(word === "ok" ? { size: Number(a), before: rest[0]! } : { errno: Number(a), message: rest.join(" ") })
      }
      if (this.exited !== undefined) return answer(this.exited)
      this.waiting.push(answer)
      this.child.stdin.write(`${file} ${offset} ${data.toString("hex")}\n`)
    })
  }

  close(): void {
    this.child.stdin.end()
  }
}

interface Real {
  readonly host: HostDirs
  /** the run's folder in the mount, relative to its top */
  readonly dir: string
  readonly fds: Array<number | undefined>
  readonly mapper: Mapper
  /** what this run did, offsets and lengths resolved: shown with a failure */
  readonly trace: Array<string>
}
const DEBUG = process.env.SHAREBOX_RANDOMIO_DEBUG
const log = (r: Real, line: string) => {
  r.trace.push(line)
  if (DEBUG) fs.appendFileSync(DEBUG, `${r.dir}: ${line}\n`)
}

const at = (r: Real, name: string) => path.join(r.host.mnt, r.dir, name)

/** Runs a call that the model says fails with `code`, or returns what it returns when the model says it succeeds. */
const expectErrno = <A>(code: string, f: () => A, what: string): void => {
  let result: A
  try {
    result = f()
  } catch (e: any) {
    if (e?.code === code) return
    throw new Error(`${what}: the model fails with ${code}, the mount with ${e?.code ?? e}`)
  }
  throw new Error(`${what}: the model fails with ${code}, the mount returned ${String(result!)}`)
}

const fdOf = (r: Real, slot: number): number => {
  const fd = r.fds[slot]
  if (fd === undefined) throw new Error(`slot ${slot} has no descriptor while the model has one open`)
  return fd
}

const checkFstat = (m: Handle, r: Real, slot: number, what: string): void => {
  if (missed(m)) return
  const size = fs.fstatSync(fdOf(r, slot)).size
  if (size !== m.inode.data.length) throw new Error(`${what}: fstat says ${size} bytes, the model ${m.inode.data.length}`)
}

// ---------------------------------------------------------------------------------------------
// Offsets and lengths, chosen before the run and resolved against the size the model has then

type Where = { readonly from: "start"; readonly n: number } | { readonly from: "end"; readonly n: number } | { readonly from: "frac"; readonly f: number }

const resolve = (w: Where, size: number): number => (w.from === "start" ? w.n : w.from === "end" ? size + w.n : Math.floor(w.f * size))
const showWhere = (w: Where): string => (w.from === "start" ? `${w.n}` : w.from === "end" ? `end+${w.n}` : `${w.f}*size`)

const where: fc.Arbitrary<Where> = fc.oneof(
  { weight: 3, arbitrary: fc.nat(8192).map((n) => ({ from: "start" as const, n })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 999 }).map((f) => ({ from: "frac" as const, f: f / 1000 })) },
  { weight: 2, arbitrary: fc.nat(16_384).map((n) => ({ from: "end" as const, n })) },
  { weight: 1, arbitrary: fc.integer({ min: 16_385, max: 1 << 20 }).map((n) => ({ from: "end" as const, n })) }
)
/** sizes a truncate goes to: 0, a part of the file, or past its end */
const toSize: fc.Arbitrary<Where> = fc.oneof(
  fc.constant({ from: "start" as const, n: 0 }),
  fc.integer({ min: 0, max: 999 }).map((f) => ({ from: "frac" as const, f: f / 1000 })),
  fc.nat(300_000).map((n) => ({ from: "end" as const, n }))
)
const length = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 4096 }) }, { weight: 1, arbitrary: fc.integer({ min: 4097, max: 200_000 }) })
const slot = fc.nat(SLOTS - 1) // a pick among the open descriptors
const name = fc.constantFrom(...NAMES)
const seed = fc.nat()
/** the files a run starts with: for each name none, or one of this size and content */
const initially = fc.tuple(...NAMES.map(() => fc.option(fc.record({ size: fc.oneof(fc.nat(8192), fc.nat(300_000)), seed }), { freq: 3 })))

const stats: Record<string, number> = {}
const count = (what: string) => void (stats[what] = (stats[what] ?? 0) + 1)

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.AsyncCommand<Model, Real>

/**
 * A command on an open descriptor: the `pick`th of those open (modulo their number), so that
 * commands generated before the run rarely go unused.
 */
abstract class OnHandle implements Cmd {
  /** the slot `pick` resolved to in this run */
  protected slot = -1
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.handles.some((h) => h !== undefined)
  }
  abstract run(m: Model, r: Real): Promise<void>
  abstract toString(): string
  protected handle(m: Model): Handle {
    const open = [...m.handles.keys()].filter((s) => m.handles[s] !== undefined)
    this.slot = open[this.pick % open.length]!
    return m.handles[this.slot]!
  }
}

/** Opens a name in the first free slot. */
class Open implements Cmd {
  constructor(
    readonly name: string,
    readonly mode: Mode
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.handles.some((h) => h === undefined)
  }
  async run(m: Model, r: Real): Promise<void> {
    const slot = m.handles.findIndex((h) => h === undefined)
    const what = `open(${this.name}, ${this.mode}) as #${slot}`
    log(r, what)
    const h = m.open(this.name, this.mode)
    if (h === "ENOENT") return count("open ENOENT"), expectErrno("ENOENT", () => fs.openSync(at(r, this.name), MODES[this.mode], 0o644), what)
    r.fds[slot] = fs.openSync(at(r, this.name), MODES[this.mode], 0o644)
    m.handles[slot] = h
    count(`open ${this.mode}`)
    checkFstat(h, r, slot, what)
  }
  toString() {
    return `open(${this.name}, ${this.mode})`
  }
}

class Close extends OnHandle {
  async run(m: Model, r: Real): Promise<void> {
    this.handle(m)
    log(r, `close #${this.slot}`)
    fs.closeSync(fdOf(r, this.slot))
    r.fds[this.slot] = undefined
    m.handles[this.slot] = undefined
    count("close")
  }
  toString() {
    return `close(h${this.pick})`
  }
}

/** Closes a descriptor and opens its name again with its access mode, neither creating nor truncating. */
class Reopen extends OnHandle {
  async run(m: Model, r: Real): Promise<void> {
    const old = this.handle(m)
    const flags = MODES[old.mode] & ~(O_CREAT | O_TRUNC)
    const what = `reopen #${this.slot} (${old.name}, ${old.mode} without create or truncate)`
    log(r, what)
    fs.closeSync(fdOf(r, this.slot))
    r.fds[this.slot] = undefined
    m.handles[this.slot] = undefined
    const h = m.open(old.name, old.mode, flags)
    if (h === "ENOENT") return count("reopen ENOENT"), expectErrno("ENOENT", () => fs.openSync(at(r, old.name), flags), what)
    r.fds[this.slot] = fs.openSync(at(r, old.name), flags)
    m.handles[this.slot] = h
    count("reopen")
    checkFstat(h, r, this.slot, what)
  }
  toString() {
    return `reopen(h${this.pick})`
  }
}

/** pwrite, or write at the descriptor's offset (`where` undefined); with O_APPEND both go to the end. */
class Write extends OnHandle {
  constructor(
    pick: number,
    readonly where: Where | undefined,
    readonly length: number,
    readonly seed: number
  ) {
    super(pick)
  }
  async run(m: Model, r: Real): Promise<void> {
    const h = this.handle(m)
    const size = h.inode.data.length
    const asked = this.where === undefined ? h.pos : resolve(this.where, size)
    const offset = appends(h) ? size : Math.min(asked, MAX_SIZE - this.length)
    const data = bytesOf(this.seed, this.length)
    const verb = this.where === undefined ? "write" : "pwrite"
    const what = `${verb} #${this.slot} (${h.mode}) of ${this.length} bytes at ${this.where === undefined ? `offset ${asked}` : asked}${appends(h) ? ` (appends: ${offset})` : ""}, file ${size} bytes`
    log(r, what)
    const fd = fdOf(r, this.slot)
    // a write at the descriptor's offset cannot be moved below MAX_SIZE: it is left out
    if (this.where === undefined && !appends(h) && asked + this.length > MAX_SIZE) return
    const position = this.where === undefined ? null : offset
    if (!writable(h)) return count(`${verb} EBADF`), expectErrno("EBADF", () => fs.writeSync(fd, data, 0, data.length, position), what)
    const n = fs.writeSync(fd, data, 0, data.length, position)
    if (n !== data.length) throw new Error(`${what}: wrote ${n} bytes`)
    h.inode.put(offset, data)
    if (this.where === undefined) h.pos = offset + data.length
    count(`${verb}${appends(h) ? " append" : offset > size ? " past the end" : ""}`)
    checkFstat(h, r, this.slot, what)
  }
  toString() {
    return `${this.where === undefined ? "write" : `pwrite @${showWhere(this.where)}`}(h${this.pick}, ${this.length} bytes, seed ${this.seed})`
  }
}

/** pread, or read at the descriptor's offset (`where` undefined). */
class Read extends OnHandle {
  constructor(
    pick: number,
    readonly where: Where | undefined,
    readonly length: number
  ) {
    super(pick)
  }
  async run(m: Model, r: Real): Promise<void> {
    const h = this.handle(m)
    const size = h.inode.data.length
    const offset = this.where === undefined ? h.pos : resolve(this.where, size)
    const verb = this.where === undefined ? "read" : "pread"
    const what = `${verb} #${this.slot} (${h.mode}) of ${this.length} bytes at ${offset}, file ${size} bytes`
    if (missed(h)) return count(`${verb} skipped: a reader opened before a change`), log(r, `(${what}: skipped, opened before a change)`)
    log(r, what)
    const fd = fdOf(r, this.slot)
    const buf = Buffer.alloc(this.length)
    const position = this.where === undefined ? null : offset
    if (!readable(h)) return count(`${verb} EBADF`), expectErrno("EBADF", () => fs.readSync(fd, buf, 0, buf.length, position), what)
    const n = fs.readSync(fd, buf, 0, buf.length, position)
    sameBytes(buf.subarray(0, n), h.inode.data.subarray(offset, offset + this.length), what)
    if (this.where === undefined) h.pos = offset + n
    count(verb)
  }
  toString() {
    return `${this.where === undefined ? "read" : `pread @${showWhere(this.where)}`}(h${this.pick}, ${this.length} bytes)`
  }
}

class Ftruncate extends OnHandle {
  constructor(
    pick: number,
    readonly to: Where
  ) {
    super(pick)
  }
  async run(m: Model, r: Real): Promise<void> {
    const h = this.handle(m)
    const size = h.inode.data.length
    const to = Math.min(resolve(this.to, size), MAX_SIZE)
    const what = `ftruncate #${this.slot} (${h.mode}) from ${size} to ${to} bytes`
    log(r, what)
    const fd = fdOf(r, this.slot)
    if (!writable(h)) return count("ftruncate EINVAL"), expectErrno("EINVAL", () => fs.ftruncateSync(fd, to), what)
    fs.ftruncateSync(fd, to)
    h.inode.resize(to)
    count(to < size ? "ftruncate shrink" : "ftruncate grow")
    checkFstat(h, r, this.slot, what)
  }
  toString() {
    return `ftruncate(h${this.pick}, ${showWhere(this.to)})`
  }
}

class Fsync extends OnHandle {
  constructor(
    pick: number,
    readonly data: boolean
  ) {
    super(pick)
  }
  async run(m: Model, r: Real): Promise<void> {
    const h = this.handle(m)
    const what = `${this.data ? "fdatasync" : "fsync"} #${this.slot}`
    log(r, what)
    const fd = fdOf(r, this.slot)
    if (this.data) fs.fdatasyncSync(fd)
    else fs.fsyncSync(fd)
    count(this.data ? "fdatasync" : "fsync")
    checkFstat(h, r, this.slot, what)
  }
  toString() {
    return `${this.data ? "fdatasync" : "fsync"}(h${this.pick})`
  }
}

class Truncate implements Cmd {
  constructor(
    readonly name: string,
    readonly to: Where
  ) {}
  check() {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const inode = m.names.get(this.name)
    const size = inode?.data.length ?? 0
    const to = Math.min(resolve(this.to, size), MAX_SIZE)
    const what = `truncate ${this.name} from ${size} to ${to} bytes`
    log(r, what)
    if (inode === undefined) return count("truncate ENOENT"), expectErrno("ENOENT", () => fs.truncateSync(at(r, this.name), to), what)
    fs.truncateSync(at(r, this.name), to)
    inode.resize(to)
    count(to < size ? "truncate shrink" : "truncate grow")
  }
  toString() {
    return `truncate(${this.name}, ${showWhere(this.to)})`
  }
}

/** stat of a name, or a whole read of it: the size and the content the model has. */
class Look implements Cmd {
  constructor(
    readonly name: string,
    readonly whole: boolean
  ) {}
  check() {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const inode = m.names.get(this.name)
    const what = `${this.whole ? "read all of" : "stat"} ${this.name} (model: ${inode === undefined ? "none" : `${inode.data.length} bytes`})`
    log(r, what)
    const f = at(r, this.name)
    if (inode === undefined) return count("stat ENOENT"), expectErrno("ENOENT", () => (this.whole ? fs.readFileSync(f) : fs.statSync(f)), what)
    const size = fs.statSync(f).size
    if (size !== inode.data.length) throw new Error(`${what}: stat says ${size} bytes`)
    if (this.whole) sameBytes(fs.readFileSync(f), inode.data, what)
    count(this.whole ? "read all" : "stat")
  }
  toString() {
    return `${this.whole ? "readFile" : "stat"}(${this.name})`
  }
}

class FstatCmd extends OnHandle {
  async run(m: Model, r: Real): Promise<void> {
    const h = this.handle(m)
    const what = `fstat #${this.slot}`
    log(r, what)
    checkFstat(h, r, this.slot, what)
    count("fstat")
  }
  toString() {
    return `fstat(h${this.pick})`
  }
}

/** rename over whatever `to` names: descriptors follow their files, the replaced file lives on in its descriptors. */
class Rename implements Cmd {
  constructor(
    readonly from: string,
    readonly to: string
  ) {}
  check() {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const inode = m.names.get(this.from)
    const open = (n: string) => m.handles.filter((h) => h?.inode === m.names.get(n)).length
    const what = `rename ${this.from} (${inode ? `${open(this.from)} open` : "none"}) to ${this.to} (${m.names.has(this.to) ? `${open(this.to)} open` : "none"})`
    log(r, what)
    if (inode === undefined) return count("rename ENOENT"), expectErrno("ENOENT", () => fs.renameSync(at(r, this.from), at(r, this.to)), what)
    fs.renameSync(at(r, this.from), at(r, this.to))
    count(this.from === this.to ? "rename onto itself" : m.names.has(this.to) ? "rename over a file" : "rename")
    if (this.from === this.to) return
    m.names.set(this.to, inode)
    m.names.delete(this.from)
  }
  toString() {
    return `rename(${this.from}, ${this.to})`
  }
}

class Unlink implements Cmd {
  constructor(readonly name: string) {}
  check() {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const inode = m.names.get(this.name)
    const what = `unlink ${this.name} (${inode ? `${m.handles.filter((h) => h?.inode === inode).length} open` : "none"})`
    log(r, what)
    if (inode === undefined) return count("unlink ENOENT"), expectErrno("ENOENT", () => fs.unlinkSync(at(r, this.name)), what)
    fs.unlinkSync(at(r, this.name))
    m.names.delete(this.name)
    count("unlink")
  }
  toString() {
    return `unlink(${this.name})`
  }
}

/** A write through a shared memory map of the whole file (mmapper.py): it cannot grow the file. */
class MmapWrite implements Cmd {
  constructor(
    readonly name: string,
    readonly f: number,
    readonly length: number,
    readonly seed: number
  ) {}
  check() {
    return true
  }
  async run(m: Model, r: Real): Promise<void> {
    const inode = m.names.get(this.name)
    const size = inode?.data.length ?? 0
    const offset = Math.floor(this.f * size)
    const data = bytesOf(this.seed, Math.min(this.length, size - offset))
    const what = `mmap write of ${data.length} bytes at ${offset} of ${this.name} (model: ${inode === undefined ? "none" : `${size} bytes`})`
    log(r, what)
    if (inode !== undefined && size === 0) return // nothing to map
    const got = await r.mapper.write(at(r, this.name), offset, data)
    if (inode === undefined) {
      if ("errno" in got && got.errno === 2) return count("mmap ENOENT")
      throw new Error(`${what}: the model has no such file, mmapper.py answered ${JSON.stringify(got)}`)
    }
    if ("errno" in got) throw new Error(`${what}: failed with errno ${got.errno}: ${got.message}`)
    if (got.size !== size) throw new Error(`${what}: the map's file had ${got.size} bytes`)
    if (got.before !== sha(inode.data)) throw new Error(`${what}: the map showed other bytes than the model before the write`)
    inode.put(offset, data)
    count("mmap write")
  }
  toString() {
    return `mmapWrite(${this.name}, ${this.f}*size, ${this.length} bytes, seed ${this.seed})`
  }
}

/** fc.commands picks each arbitrary alike: the common operations are listed more than once. */
const commands: Array<fc.Arbitrary<Cmd>> = [
  ...Array.from({ length: 3 }, () => fc.tuple(name, fc.constantFrom(...(Object.keys(MODES) as Array<Mode>))).map(([n, o]) => new Open(n, o))),
  slot.map((s) => new Close(s)),
  slot.map((s) => new Reopen(s)),
  ...Array.from({ length: 3 }, () => fc.tuple(slot, where, length, seed).map(([s, w, l, x]) => new Write(s, w, l, x))),
  fc.tuple(slot, length, seed).map(([s, l, x]) => new Write(s, undefined, l, x)),
  fc.tuple(slot, where, length).map(([s, w, l]) => new Read(s, w, l)),
  fc.tuple(slot, where, length).map(([s, w, l]) => new Read(s, w, l)),
  fc.tuple(slot, length).map(([s, l]) => new Read(s, undefined, l)),
  fc.tuple(slot, toSize).map(([s, t]) => new Ftruncate(s, t)),
  fc.tuple(name, toSize).map(([n, t]) => new Truncate(n, t)),
  fc.tuple(slot, fc.boolean()).map(([s, d]) => new Fsync(s, d)),
  slot.map((s) => new FstatCmd(s)),
  fc.tuple(name, fc.boolean()).map(([n, w]) => new Look(n, w)),
  fc.tuple(name, name).map(([a, b]) => new Rename(a, b)),
  name.map((n) => new Unlink(n)),
  fc.tuple(name, fc.integer({ min: 0, max: 999 }), length, seed).map(([n, f, l, x]) => new MmapWrite(n, f / 1000, l, x))
]

// ---------------------------------------------------------------------------------------------
// After a run

/** The files a folder should hold: name -> size and sha256. */
type Expected = ReadonlyMap<string, { readonly size: number; readonly sha: string }>

const expectedOf = (m: Model): Expected => new Map([...m.names].map(([n, i]) => [n, { size: i.data.length, sha: sha(i.data) }]))

/** Differences between a folder (of a mount or a work tree) and what it should hold. */
const differences = (dir: string, want: Expected, where: string): Array<string> => {
  // a work tree's folder holds its marker (docs/layout.md)
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n !== ".shareboxdir").sort() : []
  const out: Array<string> = []
  if (names.join(",") !== [...want.keys()].sort().join(",")) out.push(`${where}: holds [${names.join(", ")}], the model [${[...want.keys()].sort().join(", ")}]`)
  for (const [n, w] of want) {
    const f = path.join(dir, n)
    if (!fs.existsSync(f)) continue
    const size = fs.statSync(f).size
    const data = fs.readFileSync(f)
    if (size !== w.size || data.length !== w.size || sha(data) !== w.sha) out.push(`${where}/${n}: stat ${size} bytes, read ${data.length} bytes ${sha(data).slice(0, 12)}, the model ${w.size} bytes ${w.sha.slice(0, 12)}`)
  }
  return out
}

// ---------------------------------------------------------------------------------------------

interface Setup {
  readonly host: HostDirs
  readonly options: ReadonlyArray<string>
  readonly env: NodeJS.ProcessEnv
  /** whether each run waits for the write-back and checks the work tree */
  readonly replays: boolean
}

describe("random reads, writes, truncates and maps of open files follow a model of the files", () => {
  const w = new World("sharebox-randomio")
  const setups: Array<Setup> = []
  /** every run's folder and what it must hold, read back after the remount */
  const finals: Array<{ readonly setup: Setup; readonly dir: string; readonly want: Expected }> = []
  let mapper: Mapper
  let runs = 0
  /** runs still going: one interrupted at the time limit goes on (a predicate cannot be stopped) */
  let inFlight = 0

  const mount = (s: Setup) => {
    const r = sharebox([s.host.mnt, "-o", [`gitdir=${s.host.gitdir}`, `name=${s.host.name}`, ...s.options].join(",")], { env: s.env })
    if (r.code !== 0) throw new Error(`mount of ${s.host.name} failed (${r.code}): ${r.stderr}`)
  }

  beforeAll(() => {
    setups.push({ host: w.host("P"), options: [], env: { SHAREBOX_QUIET_MS: "50" }, replays: true })
    setups.push({ host: w.host("Q"), options: ["passthrough=off"], env: {}, replays: false })
    for (const s of setups) mount(s)
    mapper = new Mapper()
  }, 60_000)

  afterAll(async () => {
    mapper?.close()
    console.log(`randomio: ${runs} runs; ${Object.entries(stats).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(", ")}`)
    expect(await w.cleanup()).toEqual([])
  }, 120_000)

  /** Writes the files a run starts with; on a host that replays, they are committed before the run. */
  const begin = async (m: Model, r: Real, setup: Setup, start: ReadonlyArray<{ size: number; seed: number } | null>): Promise<void> => {
    for (const [i, file] of start.entries()) {
      if (file === null) continue
      const data = bytesOf(file.seed, file.size)
      log(r, `(before the run: ${NAMES[i]} written with ${data.length} bytes)`)
      fs.writeFileSync(at(r, NAMES[i]!), data)
      const h = m.open(NAMES[i]!, "w") as Handle
      h.inode.put(0, data)
    }
    if (setup.replays) await replayed(setup)
  }

  const replayed = async (setup: Setup): Promise<void> => {
    const done = await eventually(() => statusValue(setup.host, "pending") === "0" && statusValue(setup.host, "open files") === "0", 20_000, 20)
    if (!done) throw new Error(`${setup.host.name}: the journal was not replayed within 20 s (pending ${statusValue(setup.host, "pending")})`)
  }

  /** Closes what the run left open, then reads the folder back through the mount and, on a host that replays, from the work tree. */
  const finish = async (m: Model, r: Real, setup: Setup): Promise<void> => {
    for (let s = 0; s < SLOTS; s++) {
      if (r.fds[s] !== undefined) fs.closeSync(r.fds[s]!)
      r.fds[s] = undefined
      m.handles[s] = undefined
    }
    const want = expectedOf(m)
    // a file unlinked or renamed over while open lives on as .fuse_hidden* (libfuse's way) until
    // its release, which the kernel sends after close returns
    let seen: Array<string> = []
    await eventually(() => (seen = differences(path.join(setup.host.mnt, r.dir), want, `mount ${setup.host.name}: ${r.dir}`)).length === 0, 5_000, 20)
    if (seen.length) throw new Error(seen.join("\n"))
    finals.push({ setup, dir: r.dir, want })
    if (!setup.replays) return
    await replayed(setup)
    const tree = differences(path.join(setup.host.gitdir, r.dir), want, `work tree of ${setup.host.name}: ${r.dir}`)
    if (tree.length) throw new Error(tree.join("\n"))
  }

  it(
    `${RUNS} runs of up to ${OPS} operations: every read, size and error is the model's, and the files reach the work tree`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(setups.length - 1), initially, fc.commands(commands, { maxCommands: OPS, size: "max", ...(REPLAY !== undefined ? { replayPath: REPLAY } : {}) }), async (which, start, cmds) => {
          inFlight++
          const setup = setups[which]!
          const dir = `run${++runs}`
          fs.mkdirSync(path.join(setup.host.mnt, dir))
          const m = new Model()
          const r: Real = { host: setup.host, dir, fds: Array.from({ length: SLOTS }, () => undefined), mapper, trace: [] }
          try {
            await begin(m, r, setup, start)
            await fc.asyncModelRun(() => ({ model: m, real: r }), cmds)
            log(r, "(end of run: every descriptor closed, the folder read back)")
            await finish(m, r, setup)
          } catch (e: any) {
            for (const fd of r.fds) if (fd !== undefined) fs.closeSync(fd)
            const trace = r.trace.map((t, i) => `  ${i + 1}. ${t}`).join("\n")
            throw new Error(`${e?.message ?? e}\nin ${setup.host.name}:${dir}, which did:\n${trace}`, { cause: e })
          } finally {
            inFlight--
          }
        }),
        {
          numRuns: RUNS,
          ...(SEED !== undefined ? { seed: SEED } : {}),
          ...(PATH !== undefined ? { path: PATH } : {}),
          verbose: 1,
          // a failure's shrinking on a loaded machine can outlast the test's time: stopped a minute
          // before it, the failure is reported with the smallest case found so far
          interruptAfterTimeLimit: TIME_LIMIT - 60_000,
          markInterruptAsFailure: true
        }
      )
    },
    TIME_LIMIT
  )

  it("after an unmount and a mount again, every run's folder holds what its model ended with", async () => {
    expect(await eventually(() => inFlight === 0, 60_000), "the last run ended").toBe(true)
    for (const s of setups) w.unmount(s.host)
    for (const s of setups) expect(await w.settled(s.host), `${s.host.name} let go of its gitdir`).toBe(true)
    for (const s of setups) mount(s)
    const problems = finals.flatMap((f) => differences(path.join(f.setup.host.mnt, f.dir), f.want, `${f.setup.host.name} remounted: ${f.dir}`))
    expect(problems).toEqual([])
  }, 120_000)

  // Regressions (the bug the header names): a read-only open read the content it was opened on, a
  // later write open a staging copy, and both filled the one page cache of the file (with passthrough
  // off, every mount not run as root or before Linux 6.9; with it on, for a reader the kernel does
  // not read itself). The reader's read put its old bytes there and the writer read them back
  // instead of its own write; a map of the page by the writer then wrote them over it.
  /** Five files of "abcdef" in `dir`: `open` makes the reader (and whatever comes first), then a writer writes "XY" at 1 and must read it back after the reader's read. */
  const writerReadsBack = (dir: string, openReader: (f: string) => number) => {
    fs.mkdirSync(dir)
    for (let i = 0; i < 5; i++) {
      const f = path.join(dir, `f${i}`)
      fs.writeFileSync(f, "abcdef")
      const reader = openReader(f)
      const writer = fs.openSync(f, "r+")
      try {
        fs.writeSync(writer, "XY", 1)
        fs.readSync(reader, Buffer.alloc(6), 0, 6, 0)
        const back = Buffer.alloc(6)
        fs.readSync(writer, back, 0, 6, 0)
        expect(back.toString()).toBe("aXYdef")
      } finally {
        fs.closeSync(writer)
        fs.closeSync(reader)
      }
      expect(fs.readFileSync(f, "utf8")).toBe("aXYdef")
    }
  }

  it("regression: a writer reads back its own write though a reader opened before it has read the file (passthrough off)", () => {
    const q = setups.find((s) => s.options.includes("passthrough=off"))!
    writerReadsBack(path.join(q.host.mnt, "pinned"), (f) => fs.openSync(f, "r"))
  })

  it("regression: a writer reads back its own write though a reader that opened during an earlier write has read the file (passthrough on)", () => {
    const q = setups.find((s) => !s.options.includes("passthrough=off"))!
    writerReadsBack(path.join(q.host.mnt, "pinned-on"), (f) => {
      const first = fs.openSync(f, "r+")
      const reader = fs.openSync(f, "r")
      fs.closeSync(first)
      return reader
    })
  })
})
