/**
 * The gitdir lock: one sharebox process (a daemon, or a command working directly) at a time.
 * A pid file created exclusively; a lock whose process is gone is stale and taken over.
 */
import { readFileSync, promises as fs } from "node:fs"
import { Busy } from "./errors.js"

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

export const lockHolder = async (file: string): Promise<number | undefined> => {
  try {
    const pid = Number((await fs.readFile(file, "utf8")).trim())
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

export class Lock {
  private constructor(readonly file: string) {}

  static async acquire(file: string, gitdir: string): Promise<Lock> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const h = await fs.open(file, "wx", 0o600)
        await h.write(`${process.pid}\n`)
        await h.close()
        return new Lock(file)
      } catch (e: any) {
        if (e.code !== "EEXIST") throw e
        const holder = await lockHolder(file)
        if (holder !== undefined) throw new Busy({ gitdir, pid: holder })
        // stale: its process is gone
        await fs.rm(file, { force: true })
      }
    }
    throw new Busy({ gitdir, pid: 0 })
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
    await fs.rm(this.file, { force: true })
  }
}
