/**
 * One long-lived `git cat-file --batch-command --buffer` per repository, for the reads a host makes
 * many times (blobs of history, location logs, plain blobs, sizes, names of commits): a fresh
 * `cat-file` cost git's start-up (a few ms, and a scan of the pack directory) on every call.
 *
 * Started on first use; requests are answered in the order asked (`contents` with the object's
 * bytes, `info` with its id, type and size; an object that is not there answers undefined). Each
 * call writes its commands and one `flush`, so a call of 10,000 names is one write and one stream
 * of answers. A process that ends while asked (killed, crashed) is started again and asked again,
 * once; one that says nothing for `stallSeconds` while asked is killed and what waits on it fails.
 * Idle for `idleSeconds`, it is let go (its input ended); `close()` ends it for good.
 *
 * Spawned with node's `spawn` (longlived.ts's `spawnLongLived`), not `@effect/platform`'s `Command`
 * as the git-annex batch processes are: one request answered before the next is asked (a file
 * opened, a name resolved) took longer through Command's stdin queue and output stream, and the
 * host waits on exactly those. bench/catfile.mjs, 10,000 small blobs in a pack, best of 7, on a
 * shared 2-core machine: 1,000 calls one after another 474 ms through Command, 324 ms by spawn
 * (two earlier runs: 718 / 364 and 340 / 367); 1,000 calls 100 at a time 215 / 215 ms; all in one
 * call 2,223 / 1,758 ms (git's own time, and noise, dominate; a fresh cat-file per call: 2,265 ms);
 * sizes of all 494 / 497 ms. Before, 1,000 calls each with a cat-file of its own: 13.4-18.1 s.
 */
import * as fs from "node:fs"
import { CommandFailed, CommandTimedOut } from "./errors.js"
import { type LongLived, spawnLongLived } from "./longlived.js"

export interface ObjectInfo {
  readonly oid: string
  readonly type: string
  readonly size: number
}

type Ask =
  | { readonly kind: "contents"; readonly done: (data: Buffer | undefined) => void }
  | { readonly kind: "info"; readonly done: (info: ObjectInfo | undefined) => void }
  | { readonly kind: "file"; readonly fd: number; readonly done: (found: boolean) => void }

type Waiting = Ask & { readonly name: string; readonly fail: (e: unknown) => void; tries: number }

/** The body of the answer being read: where its bytes go and how many are still to come. */
interface Body {
  readonly w: Waiting
  readonly size: number
  /** the contents read so far (a `contents` answer) */
  readonly data: Buffer | undefined
  at: number
}

/** A name cat-file can be asked for on one line (else it is not there, as far as it is asked). */
const askable = (name: string) => name !== "" && !/[\n\r\0]/.test(name) && name.trim() === name

const writeAt = (fd: number, buf: Buffer, position: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const step = (off: number) =>
      fs.write(fd, buf, off, buf.length - off, position + off, (e, n) => {
        if (e) return reject(e)
        if (off + n < buf.length) step(off + n)
        else resolve()
      })
    step(0)
  })

export class CatFile {
  private proc: LongLived | undefined
  /** asked and not answered yet: `waiting` from `next` on (an index, not `shift`: 10,000 at once) */
  private waiting: Array<Waiting> = []
  private next = 0
  private head: Array<Buffer> = []
  private body: Body | undefined
  private stderr = ""
  private lastHeard = 0
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    private readonly top: string,
    private readonly env: () => NodeJS.ProcessEnv,
    private readonly idleSeconds = 10,
    private readonly stallSeconds = 60,
    private readonly startProcess = spawnLongLived
  ) {}

  /** The objects' bytes, in the order asked (undefined: not there). */
  contents(names: ReadonlyArray<string>): Promise<Array<Buffer | undefined>> {
    return this.askAll<Buffer>("contents", names)
  }

  /** The objects' ids, types and sizes, in the order asked (undefined: not there). */
  info(names: ReadonlyArray<string>): Promise<Array<ObjectInfo | undefined>> {
    return this.askAll<ObjectInfo>("info", names)
  }

  /** Writes an object's bytes to `fd` from offset 0 as they arrive; false if it is not there. */
  toFile(name: string, fd: number): Promise<boolean> {
    if (!askable(name)) return Promise.resolve(false)
    return new Promise((done, fail) => this.ask([{ kind: "file", fd, done, name, fail, tries: 0 }]))
  }

  /** Ends the process (what waits on it fails) and starts no other. */
  async close(): Promise<void> {
    this.closed = true
    const proc = this.proc
    this.letGo(new CommandFailed({ command: "git", args: ["cat-file", "--batch-command"], exitCode: null, stderr: "closed" }))
    await proc?.close()
  }

  private askAll<T>(kind: "contents" | "info", names: ReadonlyArray<string>): Promise<Array<T | undefined>> {
    const out: Array<T | undefined> = new Array(names.length).fill(undefined)
    if (names.length === 0) return Promise.resolve(out)
    return new Promise((resolve, fail) => {
      let left = names.length
      const asks: Array<Waiting> = []
      names.forEach((name, i) => {
        const done = (v: T | undefined) => {
          out[i] = v
          if (--left === 0) resolve(out)
        }
        if (askable(name)) asks.push({ kind, done: done as never, name, fail, tries: 0 })
        else done(undefined)
      })
      if (asks.length) this.ask(asks)
    })
  }

  private ask(asks: ReadonlyArray<Waiting>): void {
    if (this.closed) {
      const e = new CommandFailed({ command: "git", args: ["cat-file", "--batch-command"], exitCode: null, stderr: "closed" })
      return asks.forEach((w) => w.fail(e))
    }
    const proc = this.start()
    if (this.asked() === 0) this.lastHeard = Date.now()
    let text = ""
    for (const w of asks) {
      w.tries++
      this.waiting.push(w)
      text += `${w.kind === "info" ? "info" : "contents"} ${w.name}\n`
    }
    proc.write(text + "flush\n")
    this.arm()
  }

  private start(): LongLived {
    if (this.proc) return this.proc
    this.head = []
    this.body = undefined
    this.stderr = ""
    const proc: LongLived = this.startProcess("git", ["-C", this.top, "cat-file", "--batch-command", "--buffer"], {
      env: this.env(),
      stdout: (chunk) => (this.proc === proc ? this.read(chunk, 0) : undefined),
      stderr: (chunk) => void (this.stderr = (this.stderr + chunk.toString("utf8")).slice(-4096)),
      exited: (code, why) => this.exited(proc, code, why)
    })
    this.proc = proc
    return proc
  }

  /** Reads answers from `chunk` on from `at`; a promise while a blob's bytes are being written. */
  private read(chunk: Buffer, at: number): void | Promise<void> {
    this.lastHeard = Date.now()
    while (at < chunk.length) {
      const b = this.body
      if (b) {
        if (b.at < b.size) {
          const n = Math.min(b.size - b.at, chunk.length - at)
          const piece = chunk.subarray(at, at + n)
          at += n
          if (b.w.kind === "file") {
            const position = b.at
            b.at += n
            return writeAt(b.w.fd, piece, position).then(
              () => (this.body === b ? this.read(chunk, at) : undefined),
              (e) => this.giveUp(e)
            )
          }
          piece.copy(b.data!, b.at)
          b.at += n
          continue
        }
        if (chunk[at] !== 10) return this.giveUp(this.malformed(`no newline after the ${b.size} bytes of ${b.w.name}`))
        at++
        this.body = undefined
        this.shift()
        if (b.w.kind === "contents") b.w.done(b.data)
        else if (b.w.kind === "file") b.w.done(true)
        continue
      }
      const nl = chunk.indexOf(10, at)
      if (nl < 0) {
        this.head.push(Buffer.from(chunk.subarray(at)))
        return
      }
      // `<oid> SP <type> SP <size>`, or `<name> SP missing` (or `ambiguous`)
      const line = this.head.length ? Buffer.concat([...this.head, chunk.subarray(at, nl)]) : chunk.subarray(at, nl)
      this.head = []
      at = nl + 1
      const w = this.waiting[this.next]
      if (!w) return this.giveUp(this.malformed(`an answer nobody asked for: ${line.toString("utf8")}`))
      const sp1 = line.indexOf(32)
      const sp2 = sp1 < 0 ? -1 : line.indexOf(32, sp1 + 1)
      let size = 0
      let i = sp2 + 1
      for (let c = line[i]; i > 0 && c !== undefined && c >= 48 && c <= 57; c = line[++i]) size = size * 10 + (c - 48)
      if (sp2 < 0 || i !== line.length || i === sp2 + 1 || !Number.isSafeInteger(size)) {
        const text = line.toString("utf8")
        if (!text.endsWith(" missing") && !text.endsWith(" ambiguous")) return this.giveUp(this.malformed(text))
        this.shift()
        if (w.kind === "file") w.done(false)
        else w.done(undefined)
        continue
      }
      if (w.kind === "info") {
        this.shift()
        w.done({ oid: line.toString("latin1", 0, sp1), type: line.toString("latin1", sp1 + 1, sp2), size })
        continue
      }
      this.body = { w, size, data: w.kind === "contents" ? Buffer.allocUnsafe(size) : undefined, at: 0 }
    }
    if (this.asked() === 0) {
      // all answered: the stall timer gives way to the idle one
      this.clearTimer()
      this.arm()
    }
  }

  private asked(): number {
    return this.waiting.length - this.next
  }

  private shift(): void {
    this.waiting[this.next++] = undefined as never
    if (this.next === this.waiting.length) {
      this.waiting = []
      this.next = 0
    }
  }

  /** Everything asked and not answered, taken out of the queue. */
  private takeAll(): Array<Waiting> {
    const all = this.waiting.slice(this.next)
    this.waiting = []
    this.next = 0
    return all
  }

  private malformed(what: string): CommandFailed {
    return new CommandFailed({ command: "git", args: ["cat-file", "--batch-command"], exitCode: null, stderr: `unexpected output: ${what}` })
  }

  /** The process is not to be trusted any more: it is killed and what waits on it fails with `e`. */
  private giveUp(e: unknown): void {
    this.letGo(e)
  }

  private letGo(e: unknown): void {
    const proc = this.proc
    if (!proc) return
    this.proc = undefined
    this.clearTimer()
    proc.kill()
    void proc.close()
    const failed = this.takeAll()
    this.body = undefined
    for (const w of failed) w.fail(e)
  }

  private exited(proc: LongLived, code: number | null, why: string | undefined): void {
    void proc.close()
    if (this.proc !== proc) return
    this.proc = undefined
    this.clearTimer()
    const again = this.takeAll()
    this.body = undefined
    if (again.length === 0) return
    const e = new CommandFailed({ command: "git", args: ["cat-file", "--batch-command"], exitCode: code, stderr: this.stderr.trim() || why || "cat-file ended" })
    // reads change nothing: asked again of a new process, once (a file is written again from 0)
    const retry = again.filter((w) => w.tries < 2 && !this.closed)
    for (const w of again) if (!retry.includes(w)) w.fail(e)
    for (const w of retry) if (w.kind === "file") fs.ftruncateSync(w.fd, 0)
    if (retry.length) this.ask(retry)
  }

  /** While asked: a stall timer on the last output; idle: a timer to let the process go. */
  private arm(): void {
    if (this.timer || !this.proc) return
    const asked = this.asked() > 0
    const due = asked ? this.lastHeard + this.stallSeconds * 1000 : Date.now() + this.idleSeconds * 1000
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        if (!this.proc) return
        if (this.asked() > 0) {
          if (Date.now() - this.lastHeard >= this.stallSeconds * 1000) {
            return this.giveUp(new CommandTimedOut({ command: "git", args: ["cat-file", "--batch-command"], seconds: this.stallSeconds }))
          }
        } else if (!asked) {
          // idle all along: its input ends and it exits on its own
          const proc = this.proc
          this.proc = undefined
          proc.end()
          return
        }
        this.arm()
      },
      Math.max(0, due - Date.now())
    )
    this.timer.unref?.()
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}
