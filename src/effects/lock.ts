/**
 * The gitdir lock: one sharebox process (a daemon, or a command working directly) at a time.
 *
 * The lock is the kernel's: flock(2) on `lock.flock` beside the pid record, so that it goes with
 * its holder however that ends, kill -9 included, and no two processes can take it over from a dead
 * one at once (a pid file created exclusively cannot be taken over safely: remove-then-create let
 * two of twelve racers in). Node has no flock, so the flock(1) command of util-linux (there on every
 * Linux that has FUSE) holds it in a child process running `cat` on a pipe from this process: when
 * this process ends, the pipe closes, `cat` ends and the kernel lets the lock go. That pipe end is
 * close-on-exec, so no other child of ours keeps the lock alive; the child runs in a session of its
 * own, so a Ctrl-C at a terminal does not take the lock away while we clean up. (The fs-ext package
 * has flock but must be compiled at every install and is barely maintained; a native helper of our
 * own would be one more thing to build.)
 *
 * `lock` itself names the holder's pid, for messages: written once the lock is held, removed
 * before it is let go, so one found by the next holder was left by a holder that died holding it.
 * `lock.flock` is never removed: a process already waiting on it would lock a file nobody else sees.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync, promises as fs } from "node:fs"
import { Busy } from "./errors.js"

/** flock(1)'s exit code when the lock is held by another process (--conflict-exit-code). */
const HELD_ELSEWHERE = 75
/** Echoed back by `cat` once flock(1) holds the lock and has started it. */
const HELD = "held\n"

/** A zombie (killed, not yet reaped by its new parent) answers kill(0) but holds nothing. */
const isZombie = (pid: number): boolean => {
  try {
    return /^ Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^\d+ \(.*\)/s, ""))
  } catch {
    return false
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return !isZombie(pid)
  } catch (e: any) {
    return e.code === "EPERM"
  }
}

const kernelFileOf = (file: string) => `${file}.flock`

/**
 * Whether some process holds a flock on `kernelFile` (the kernel's /proc/locks, matched by inode);
 * undefined when that cannot be told, as for a gitdir last used by a sharebox without one.
 */
const kernelLockHeld = async (kernelFile: string): Promise<boolean | undefined> => {
  try {
    const { ino } = await fs.stat(kernelFile)
    const locks = await fs.readFile("/proc/locks", "utf8")
    return locks.split("\n").some((l) => / FLOCK /.test(l) && l.includes(`:${ino} `))
  } catch {
    return undefined
  }
}

/** The pid of the process holding the lock, when one does (not this process). */
export const lockHolder = async (file: string): Promise<number | undefined> => {
  try {
    const pid = Number((await fs.readFile(file, "utf8")).trim())
    if (!(Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))) return undefined
    // a pid record left by a crash whose pid now belongs to some other process
    return (await kernelLockHeld(kernelFileOf(file))) === false ? undefined : pid
  } catch {
    return undefined
  }
}

const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()))

/** Tries the kernel lock once: the child holding it, or undefined when another process holds it. */
const takeKernelLock = async (kernelFile: string): Promise<ChildProcess | undefined> => {
  // made here so that it is private: flock(1) would make it 0666 less the umask
  await fs.writeFile(kernelFile, "", { flag: "a", mode: 0o600 })
  const child = spawn("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", String(HELD_ELSEWHERE), kernelFile, "cat"], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true
  })
  let stderr = ""
  let stdout = ""
  child.stderr!.on("data", (d) => (stderr += d))
  child.stdin!.on("error", () => undefined) // EPIPE: flock(1) ended without starting cat
  const taken = await new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`flock ${kernelFile} gave no answer in 30s`))
    }, 30_000)
    child.stdout!.on("data", (d) => {
      stdout += d
      if (stdout === HELD) {
        clearTimeout(timer)
        resolve(true)
      }
    })
    child.once("error", (e: any) => {
      clearTimeout(timer)
      reject(e.code === "ENOENT" ? new Error("sharebox needs the flock command (util-linux) to lock its gitdir") : e)
    })
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      if (code === HELD_ELSEWHERE) resolve(false)
      else reject(new Error(`flock ${kernelFile} failed: ${stderr.trim() || signal || `exit code ${code}`}`))
    })
    child.stdin!.write(HELD)
  })
  if (!taken) return undefined
  // held for as long as this process lives, without keeping it alive
  child.unref()
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.()
  return child
}

export class Lock {
  private released = false

  private constructor(
    readonly file: string,
    private readonly holder: ChildProcess,
    /** the previous holder died holding the lock (its pid record was still there) */
    readonly crashed: boolean
  ) {
    holder.once("exit", () => {
      if (!this.released) process.stderr.write(`sharebox: the flock process holding ${kernelFileOf(file)} ended; another sharebox process may take this gitdir\n`)
    })
  }

  static async acquire(file: string, gitdir: string): Promise<Lock> {
    // a holder that has the lock but has not written its pid yet, or is letting go, is given a moment
    const until = Date.now() + 2000
    for (;;) {
      const holder = await takeKernelLock(kernelFileOf(file))
      if (holder) {
        try {
          const crashed = await fs.access(file).then(() => true, () => false)
          await fs.writeFile(file, `${process.pid}\n`, { mode: 0o600 })
          return new Lock(file, holder, crashed)
        } catch (e) {
          await letGo(holder)
          throw e
        }
      }
      const pid = await lockHolder(file)
      if (pid !== undefined) throw new Busy({ gitdir, pid })
      if (Date.now() > until) throw new Busy({ gitdir, pid: 0 })
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** Waits up to `seconds` for the lock. */
  static async acquireWaiting(file: string, gitdir: string, seconds: number): Promise<Lock> {
    const until = Date.now() + seconds * 1000
    for (;;) {
      try {
        return await Lock.acquire(file, gitdir)
      } catch (e) {
        if (!(e instanceof Busy) || Date.now() > until) throw e
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    // the record goes first: the next holder must not find it, or it would think we crashed
    await fs.rm(this.file, { force: true })
    await letGo(this.holder)
  }
}

/** Ends the child holding the kernel lock and waits until it has (the lock is free then). */
const letGo = async (holder: ChildProcess): Promise<void> => {
  const exited = exitOf(holder)
  holder.stdin!.end()
  const timer = setTimeout(() => {
    try {
      process.kill(-holder.pid!, "SIGKILL") // flock(1) and its cat, its own process group
    } catch {}
  }, 5000)
  await exited
  clearTimeout(timer)
}
