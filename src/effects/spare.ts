/**
 * Empty staging files made ahead of need. Creating a file on the disk is the slowest step of
 * creating one in the mount, and the kernel waits for it; so a few are made in the background, and
 * a new file in the mount takes one that is ready (or has one made on the spot when none is).
 * Spares left by a crash are ordinary unreferenced staging files: Staging.collect removes them at start.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export interface Spare {
  readonly id: string
  readonly fd: number
}

export class SpareFiles {
  private readonly ready: Array<Spare> = []
  private making = 0
  private closed = false

  constructor(
    private readonly dir: string,
    private readonly newId: () => string,
    private readonly keep = 16
  ) {}

  /** An empty staging file, open for reading and writing. */
  take(): Spare {
    const spare = this.ready.pop() ?? this.makeNow()
    this.refill()
    return spare
  }

  private makeNow(): Spare {
    const id = this.newId()
    return { id, fd: fs.openSync(path.join(this.dir, id), "w+", 0o600) }
  }

  private refill(): void {
    while (!this.closed && this.ready.length + this.making < this.keep) {
      this.making++
      const id = this.newId()
      const file = path.join(this.dir, id)
      fs.open(file, "w+", 0o600, (err, fd) => {
        this.making--
        if (err) return // made on the spot next time
        if (this.closed) return discard(file, fd)
        this.ready.push({ id, fd })
      })
    }
  }

  /** Removes the spares not taken. */
  close(): void {
    this.closed = true
    for (const s of this.ready.splice(0)) discard(path.join(this.dir, s.id), s.fd)
  }
}

/** Closes and removes a staging file that was never used. */
export const discard = (file: string, fd: number): void => {
  try {
    fs.closeSync(fd)
    fs.rmSync(file, { force: true })
  } catch {
    // an unreferenced staging file: removed at the next start
  }
}
