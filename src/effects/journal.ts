/**
 * The journal: an append-only file of event records in the gitdir's state folder. Appends are
 * serialised (one write call per record, in order); `close()` of a file in the mount returns only
 * after its record is written, so a kill -9 of the daemon cannot lose it.
 */
import { promises as fs } from "node:fs"
import { type Event, buildRecord, parseJournal } from "../domain/events.js"
import { JournalCorrupt } from "./errors.js"

export class Journal {
  private chain: Promise<unknown> = Promise.resolve()

  private constructor(
    readonly file: string,
    private handle: fs.FileHandle,
    private bytes: number
  ) {}

  /** Opens (creating) the journal; a torn last record is cut off and reported through `warn`. */
  static async open(file: string, warn: (line: string) => void): Promise<{ journal: Journal; events: ReadonlyArray<Event> }> {
    let text = ""
    try {
      text = await fs.readFile(file, "utf8")
    } catch (e: any) {
      if (e.code !== "ENOENT") throw e
    }
    const parsed = parseJournal(text)
    if (parsed._tag === "Corrupt") throw new JournalCorrupt({ file, line: parsed.line })
    if (parsed.tornBytes > 0) {
      warn(`journal: dropped a torn last record (${parsed.tornBytes} bytes) left by an interrupted write`)
      await fs.truncate(file, parsed.validBytes)
    }
    const handle = await fs.open(file, "a", 0o600)
    return { journal: new Journal(file, handle, parsed.validBytes), events: parsed.events }
  }

  get size(): number {
    return this.bytes
  }

  private serial<A>(f: () => Promise<A>): Promise<A> {
    const next = this.chain.then(f, f)
    this.chain = next.catch(() => undefined)
    return next
  }

  append(e: Event): Promise<void> {
    const rec = Buffer.from(buildRecord(e), "utf8")
    return this.serial(async () => {
      await this.handle.write(rec)
      this.bytes += rec.length
    })
  }

  sync(): Promise<void> {
    return this.serial(() => this.handle.datasync())
  }

  /** Rewrites the journal to hold only `keep` (atomically: temp file, fsync, rename). */
  rewrite(keep: ReadonlyArray<Event>): Promise<void> {
    return this.serial(async () => {
      const tmp = this.file + ".new"
      const text = keep.map(buildRecord).join("")
      const h = await fs.open(tmp, "w", 0o600)
      await h.write(text)
      await h.datasync()
      await h.close()
      await fs.rename(tmp, this.file)
      await this.handle.close()
      this.handle = await fs.open(this.file, "a", 0o600)
      this.bytes = Buffer.byteLength(text)
    })
  }

  close(): Promise<void> {
    return this.serial(() => this.handle.close())
  }
}
