/**
 * The journal: an append-only file of event records in the gitdir's state folder. An append is one
 * synchronous write of one record (a few hundred bytes into the page cache), so `close()` of a file
 * in the mount returns only after its record is written and a kill -9 of the daemon cannot lose it,
 * without a round trip through the thread pool on every close.
 */
import * as fsSync from "node:fs"
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { type Event, encodeRecord, parseJournal } from "../domain/events.js"
import { syncDir } from "./durable.js"
import { JournalCorrupt, JournalUnwritable, userMessage } from "./errors.js"

const fdatasync = promisify(fsSync.fdatasync)

const writeAll = (fd: number, buf: Uint8Array): void => {
  for (let at = 0; at < buf.length; ) at += fsSync.writeSync(fd, buf, at, buf.length - at)
}

const { O_WRONLY, O_CREAT, O_TRUNC, O_APPEND } = fsSync.constants

export class Journal {
  /** sync, rewrite and close, one at a time */
  private chain: Promise<unknown> = Promise.resolve()
  /** one list per rewrite asked for and not done: the records appended since, for the new file */
  private readonly appendedDuringRewrite = new Set<Array<Uint8Array>>()
  /** why the part of a failed append could not be cut off (appends wait until it can be) */
  private uncut: unknown = undefined

  private constructor(
    readonly file: string,
    private fd: number,
    private bytes: number
  ) {}

  /**
   * Opens (creating) the journal; a torn last record is cut off, and so is any part of a record a
   * failed append left before another, each reported through `warn`.
   */
  static async open(file: string, warn: (line: string) => void): Promise<{ journal: Journal; events: ReadonlyArray<Event> }> {
    let data: Uint8Array = new Uint8Array(0)
    let created = false
    try {
      data = await fs.readFile(file)
    } catch (e: any) {
      if (e.code !== "ENOENT") throw e
      created = true
    }
    const parsed = parseJournal(data)
    if (parsed._tag === "Corrupt") throw new JournalCorrupt({ file, line: parsed.line })
    for (const p of parsed.partials) {
      warn(`journal: dropped part of a record (${p.bytes} bytes at the start of line ${p.line}) left by a write that failed; the record after it is kept`)
    }
    if (parsed.tornBytes > 0) {
      warn(`journal: dropped a torn last record (${parsed.tornBytes} bytes) left by an interrupted write`)
      // whatever happens next, the file is then exactly the `bytes` the journal counts from
      await fs.truncate(file, parsed.validBytes)
    }
    const fd = fsSync.openSync(file, "a", 0o600)
    // a new file's name is on the disk only once its folder is: without it, a fsync() of a file in
    // the mount would force a record into a journal that a power cut can take away whole
    if (created) {
      try {
        await syncDir(path.dirname(file))
      } catch (e) {
        fsSync.closeSync(fd)
        throw e
      }
    }
    const journal = new Journal(file, fd, parsed.validBytes)
    if (parsed.partials.length > 0) {
      // written out without them, so the next start does not report them again
      await journal
        .rewrite(parsed.events)
        .catch((e) => warn(`journal: could not write it out without those parts (${userMessage(e)}); they are dropped again at the next start`))
    }
    return { journal, events: parsed.events }
  }

  get size(): number {
    return this.bytes
  }

  private serial<A>(f: () => Promise<A>): Promise<A> {
    const next = this.chain.then(f, f)
    this.chain = next.catch(() => undefined)
    return next
  }

  /** Appends one record; it is in the file when this returns, and nothing of it when this throws. */
  append(e: Event): void {
    if (this.uncut !== undefined) this.cutBack()
    const rec = encodeRecord(e)
    try {
      writeAll(this.fd, rec)
    } catch (err) {
      // A write that fails part way (ENOSPC, EDQUOT, EFBIG) leaves the start of the record; the
      // next append would go on the same line, and that line would not parse at the next start.
      try {
        fsSync.ftruncateSync(this.fd, this.bytes)
      } catch (cause) {
        this.uncut = cause
      }
      throw err
    }
    this.bytes += rec.length
    for (const later of this.appendedDuringRewrite) later.push(rec)
  }

  /**
   * Tries again to cut off what a failed append left. Appending onto a part that may still be
   * there would put a record that is then acknowledged on a line that cannot be read back, so
   * until the cut succeeds (or a rewrite replaces the file) every append is refused.
   */
  private cutBack(): void {
    try {
      fsSync.ftruncateSync(this.fd, this.bytes)
      this.uncut = undefined
    } catch (cause) {
      this.uncut = cause
      throw new JournalUnwritable({ file: this.file, reason: userMessage(cause) })
    }
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
        // O_APPEND: once renamed it is the journal's descriptor, so nothing that can fail (such as
        // opening the file again) stands between the rename and the next append
        fd = fsSync.openSync(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        writeAll(fd, text)
        await fdatasync(fd)
        // from here to the rename nothing yields, so no append can slip between
        let bytes = text.length
        for (const rec of later) {
          writeAll(fd, rec)
          bytes += rec.length
        }
        fsSync.renameSync(tmp, this.file)
        const old = this.fd
        this.fd = fd
        fd = undefined
        this.bytes = bytes
        this.uncut = undefined // the part was in the old file
        try {
          fsSync.closeSync(old)
        } catch {
          // the old file is already replaced: nothing in it is needed
        }
      } catch (e) {
        // the old journal is as it was, with every append made meanwhile; a half-written temp
        // file would only hold on to the space that ran out
        if (fd !== undefined) {
          try {
            fsSync.closeSync(fd)
          } catch {}
          try {
            fsSync.rmSync(tmp, { force: true })
          } catch {
            // the next rewrite truncates it; the error that matters is the one below
          }
        }
        throw e
      } finally {
        this.appendedDuringRewrite.delete(later)
      }
      // the rename on the disk: a later sync() of the new file's records depends on it (until it
      // is there, a power cut brings back the old journal, whose replayed events the cursor covers)
      await syncDir(path.dirname(this.file))
    })
  }

  close(): Promise<void> {
    return this.serial(async () => {
      if (this.fd < 0) return
      fsSync.closeSync(this.fd)
      // the number may be given to another file: an append after close must not write there
      this.fd = -1
    })
  }
}
