/**
 * The journal: an append-only file of event records in the gitdir's state folder. An append is one
 * synchronous write of one record (a few hundred bytes into the page cache), so `close()` of a file
 * in the mount returns only after its record is written and a kill -9 of the daemon cannot lose it,
 * without a round trip through the thread pool on every close.
 */
import * as fsSync from "node:fs"
import { promises as fs } from "node:fs"
import { promisify } from "node:util"
import { type Event, encodeRecord, parseJournal } from "../domain/events.js"
import { JournalCorrupt } from "./errors.js"

const fdatasync = promisify(fsSync.fdatasync)

const writeAll = (fd: number, buf: Uint8Array): void => {
  for (let at = 0; at < buf.length; ) at += fsSync.writeSync(fd, buf, at, buf.length - at)
}

export class Journal {
  /** sync, rewrite and close, one at a time */
  private chain: Promise<unknown> = Promise.resolve()
  /** one list per rewrite asked for and not done: the records appended since, for the new file */
  private readonly appendedDuringRewrite = new Set<Array<Uint8Array>>()

  private constructor(
    readonly file: string,
    private fd: number,
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
    const fd = fsSync.openSync(file, "a", 0o600)
    return { journal: new Journal(file, fd, parsed.validBytes), events: parsed.events }
  }

  get size(): number {
    return this.bytes
  }

  private serial<A>(f: () => Promise<A>): Promise<A> {
    const next = this.chain.then(f, f)
    this.chain = next.catch(() => undefined)
    return next
  }

  /** Appends one record; it is in the file when this returns. */
  append(e: Event): void {
    const rec = encodeRecord(e)
    writeAll(this.fd, rec)
    this.bytes += rec.length
    for (const later of this.appendedDuringRewrite) later.push(rec)
  }

  sync(): Promise<void> {
    return this.serial(() => fdatasync(this.fd))
  }

  /**
   * Rewrites the journal to hold `keep` and whatever is appended meanwhile (atomically: temp file,
   * fsync, rename). Appends go on into the old file until the new one takes its place, so none is
   * lost, whenever the daemon dies.
   */
  rewrite(keep: ReadonlyArray<Event>): Promise<void> {
    // both taken now: `keep` may be an array that later appends grow
    const text = Buffer.concat(keep.map(encodeRecord))
    const later: Array<Uint8Array> = []
    this.appendedDuringRewrite.add(later)
    return this.serial(async () => {
      const tmp = this.file + ".new"
      let fd: number | undefined
      try {
        fd = fsSync.openSync(tmp, "w", 0o600)
        writeAll(fd, text)
        await fdatasync(fd)
        // from here to the rename nothing yields, so no append can slip between
        let bytes = text.length
        for (const rec of later) {
          writeAll(fd, rec)
          bytes += rec.length
        }
        fsSync.closeSync(fd)
        fd = undefined
        fsSync.renameSync(tmp, this.file)
        fsSync.closeSync(this.fd)
        this.fd = fsSync.openSync(this.file, "a", 0o600)
        this.bytes = bytes
      } finally {
        this.appendedDuringRewrite.delete(later)
        if (fd !== undefined) fsSync.closeSync(fd)
      }
    })
  }

  close(): Promise<void> {
    return this.serial(async () => fsSync.closeSync(this.fd))
  }
}
