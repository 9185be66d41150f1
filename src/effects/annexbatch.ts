/**
 * One long-lived git-annex process per kind of request (`get`, `drop`, `whereis`, each with its own
 * options), fed keys on stdin (`--batch-keys`) and answering one JSON line per key. A process per
 * key cost git-annex's start-up (and, to an ssh peer, a connection) every time: 100 files over ssh
 * took 176.6 s that way, against 2.31 s through one batch process.
 *
 * Requests are answered in the order they were asked. A process that says nothing for
 * `stallSeconds` while a request waits is killed with its whole process group (its transfers with
 * it), and every request waiting on it fails; the next request starts a new one. Progress lines
 * (`--json-progress`) count as something said, so a transfer that moves is never killed for taking
 * long.
 *
 * A process with nothing to do for `idleMs` ends: git-annex writes its keys database's changes (the
 * inodes of the files it filled) only when it exits, and until then `git status` in the gitdir
 * takes an unlocked file it filled for a modified one. A request after that starts a new process.
 */
import { CommandFailed, CommandTimedOut } from "./errors.js"
import { type LongLived, startLongLived } from "./longlived.js"

/** The JSON record git-annex answers one key with (the fields sharebox reads). */
export interface BatchRecord {
  readonly success: boolean
  readonly note?: string
  readonly "error-messages"?: ReadonlyArray<string>
  readonly whereis?: ReadonlyArray<{ readonly uuid: string; readonly description: string; readonly here: boolean }>
}

/** An empty answer: git-annex had nothing to do for the key (a get of content already here). */
export type BatchAnswer = BatchRecord | "nothing to do"

/** How long a batch process waits for another request before it ends. */
export const BATCH_IDLE_MS = 5_000

interface Waiting {
  readonly key: string
  readonly resolve: (a: BatchAnswer) => void
  readonly reject: (e: unknown) => void
}

export class AnnexBatch {
  private child: LongLived | undefined
  /** each settles once its process has exited: the current one's, and those ended and not gone yet */
  private readonly exits = new Set<Promise<void>>()
  private readonly waiting: Array<Waiting> = []
  private buffer = ""
  private stderr = ""
  private stall: NodeJS.Timeout | undefined
  private idle: NodeJS.Timeout | undefined

  constructor(
    private readonly top: string,
    /** e.g. ["get", "--json-progress"]; `--batch-keys --json --json-error-messages` are added */
    private readonly args: ReadonlyArray<string>,
    private readonly env: () => NodeJS.ProcessEnv,
    private readonly stallSeconds: number,
    private readonly idleMs = BATCH_IDLE_MS
  ) {}

  /** Asks about one key; answered when git-annex has done it. */
  request(key: string): Promise<BatchAnswer> {
    this.clearIdle()
    return new Promise((resolve, reject) => {
      const child = this.start()
      this.waiting.push({ key, resolve, reject })
      this.armStall()
      child.write(key + "\n")
    })
  }

  /**
   * Ends the process (after what it is doing, unless `now`); settles once it, and any ended before,
   * have exited, when git-annex has written what it held back (its keys database's changes, see
   * Git.checkout).
   */
  close(now = false): Promise<void> {
    this.clearIdle()
    const child = this.child
    if (child && now) this.kill(child)
    else child?.end()
    return Promise.all([...this.exits]).then(() => undefined)
  }

  /** How many of its processes have not exited yet (the current one and those ending). */
  get running(): number {
    return this.exits.size
  }

  private start(): LongLived {
    if (this.child) return this.child
    const args = ["-C", this.top, "annex", ...this.args, "--batch-keys", "--json", "--json-error-messages"]
    let exited!: () => void
    const exit = new Promise<void>((resolve) => (exited = resolve))
    this.exits.add(exit)
    void exit.then(() => this.exits.delete(exit))
    // a process group of its own (Command starts it so), which goes whole when it stalls
    const child = startLongLived("git", args, {
      env: this.env(),
      stdout: (d) => {
        if (this.child === child) this.onOutput(d)
      },
      stderr: (d) => {
        if (this.child !== child) return
        // only the end is kept: it names what went wrong
        this.stderr = (this.stderr + d.toString("utf8")).slice(-4096)
        this.armStall()
      },
      exited: (code, why) => {
        void child.close()
        exited()
        this.ended(child, new CommandFailed({ command: "git", args, exitCode: code, stderr: this.stderr.trim() || why || "git-annex ended" }))
      }
    })
    this.child = child
    this.buffer = ""
    this.stderr = ""
    return child
  }

  private onOutput(d: Buffer): void {
    this.buffer += d.toString("utf8")
    this.armStall()
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(nl + 1)
      this.answer(line)
    }
  }

  private answer(line: string): void {
    if (line.trim() === "") return this.answered("nothing to do")
    let rec: unknown
    try {
      rec = JSON.parse(line)
    } catch {
      return // not a record (a message git-annex wrote to stdout)
    }
    if (typeof rec !== "object" || rec === null || typeof (rec as { success?: unknown }).success !== "boolean") return // progress
    this.answered(rec as BatchRecord)
  }

  private answered(a: BatchAnswer): void {
    this.waiting.shift()?.resolve(a)
    if (this.waiting.length > 0) return
    this.clearStall()
    this.armIdle()
  }

  /**
   * With nothing waiting, the process ends after `idleMs`. It is let go of at once (nothing of it is
   * waited for), so a request that comes while it ends starts a new one rather than writing to a
   * closed input; `close` still waits for its exit.
   */
  private armIdle(): void {
    this.clearIdle()
    if (!this.child || this.idleMs <= 0) return
    this.idle = setTimeout(() => {
      this.idle = undefined
      const child = this.child
      if (!child || this.waiting.length > 0) return
      this.child = undefined
      child.end()
    }, this.idleMs)
    this.idle.unref?.()
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle)
    this.idle = undefined
  }

  private armStall(): void {
    this.clearStall()
    if (this.waiting.length === 0 || !this.child) return
    const child = this.child
    this.stall = setTimeout(() => {
      const e = new CommandTimedOut({ command: "git", args: ["annex", ...this.args], seconds: this.stallSeconds })
      this.kill(child)
      this.ended(child, e)
    }, this.stallSeconds * 1000)
    this.stall.unref?.()
  }

  private clearStall(): void {
    if (this.stall) clearTimeout(this.stall)
    this.stall = undefined
  }

  private kill(child: LongLived): void {
    child.kill()
  }

  private ended(child: LongLived, e: unknown): void {
    if (this.child !== child) return
    this.child = undefined
    this.clearStall()
    this.clearIdle()
    for (const w of this.waiting.splice(0)) w.reject(e)
  }
}
