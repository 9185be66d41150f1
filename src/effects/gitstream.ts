/**
 * Parsers for git plumbing output that take it chunk by chunk as it arrives, so a 100,000-entry
 * tree is never held as one string or one buffer. Each record is handed on at once; nothing they
 * hand on points into a chunk after the call returns unless the caller keeps it.
 */

/** One entry of `git ls-tree -r -l -z`. */
export interface LsTreeEntry {
  readonly path: string
  readonly mode: string
  readonly oid: string
  /** blob size; 0 for entries that have none (submodules) */
  readonly size: number
  /** the path's bytes, only when they are not valid UTF-8 (`path` then has U+FFFD in their place) */
  readonly rawPath?: Uint8Array
}

/** The modes git writes, as the strings every entry of that mode shares. */
const MODES = new Map(["100644", "100755", "120000", "040000", "160000"].map((m) => [Number.parseInt(m, 8), m]))

/** `<mode> SP <type> SP <oid> SP+ <size> TAB <path> NUL`, record by record. */
export class LsTreeParser {
  private rest: Buffer | undefined

  constructor(private readonly each: (e: LsTreeEntry) => void) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk
    let at = 0
    for (let nul = buf.indexOf(0, at); nul >= 0; nul = buf.indexOf(0, at)) {
      // read byte by byte: a regular expression and a string per field cost more than the path
      let i = at
      let mode = 0
      for (let c = buf[i]!; c >= 48 && c <= 55; c = buf[++i]!) mode = mode * 8 + (c - 48)
      const modeEnd = i
      if (buf[i] !== 32) throw this.malformed(buf, at, nul)
      i = buf.indexOf(32, i + 1) // after the type
      if (i < 0 || i > nul) throw this.malformed(buf, at, nul)
      const oidAt = i + 1
      i = buf.indexOf(32, oidAt)
      if (i < 0 || i > nul) throw this.malformed(buf, at, nul)
      const oid = buf.toString("latin1", oidAt, i)
      while (buf[i] === 32) i++
      let size = 0
      for (let c = buf[i]!; c >= 48 && c <= 57; c = buf[++i]!) size = size * 10 + (c - 48)
      if (buf[i] === 45) i++ // "-": no size (submodules)
      if (buf[i] !== 9 || i > nul) throw this.malformed(buf, at, nul)
      // the path decoded on its own: a slice of a longer string would keep that string alive
      const path = buf.toString("utf8", i + 1, nul)
      const modeText = MODES.get(mode) ?? buf.toString("latin1", at, modeEnd)
      // a peer's tree may hold any bytes: a name that is not UTF-8 keeps them, to be left out by them
      if (path.includes("\uFFFD") && !Buffer.from(path).equals(buf.subarray(i + 1, nul))) {
        this.each({ path, mode: modeText, oid, size, rawPath: Uint8Array.from(buf.subarray(i + 1, nul)) })
      } else this.each({ path, mode: modeText, oid, size })
      at = nul + 1
    }
    this.rest = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined
  }

  private malformed(buf: Buffer, at: number, nul: number): Error {
    return new Error(`ls-tree: malformed record ${JSON.stringify(buf.toString("utf8", at, nul))}`)
  }

  /** Whether the output stopped in the middle of a record. */
  get partial(): boolean {
    return this.rest !== undefined
  }
}

/**
 * `git cat-file --batch` output: `<oid> SP <type> SP <size> LF <content> LF` per object, or
 * `<name> SP missing LF` (also `ambiguous`). `each` gets the object's bytes, or undefined for one
 * that is not there, in the order they were asked for; the bytes are a view valid only during the
 * call (copy what you keep).
 */
export class BatchParser {
  private parts: Array<Buffer> = []
  private have = 0
  /** bytes to wait for before the next record can be complete: a big blob is not re-joined per chunk */
  private need = 1

  constructor(private readonly each: (oid: string, data: Buffer | undefined) => void) {}

  push(chunk: Buffer): void {
    this.parts.push(chunk)
    this.have += chunk.length
    if (this.have < this.need) return
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.have)
    let at = 0
    for (;;) {
      const nl = buf.indexOf(10, at)
      if (nl < 0) {
        this.need = buf.length - at + 1
        break
      }
      // `<oid> SP <type> SP <size>`, or `<name> SP missing` (no second space)
      const sp1 = buf.indexOf(32, at)
      const sp2 = sp1 < 0 || sp1 > nl ? -1 : buf.indexOf(32, sp1 + 1)
      if (sp2 < 0 || sp2 > nl) {
        this.each(buf.toString("latin1", at, sp1 < 0 || sp1 > nl ? nl : sp1), undefined)
        at = nl + 1
        continue
      }
      let size = 0
      let i = sp2 + 1
      for (let c = buf[i]!; c >= 48 && c <= 57 && i < nl; c = buf[++i]!) size = size * 10 + (c - 48)
      if (i !== nl || i === sp2 + 1 || !Number.isSafeInteger(size)) throw new Error(`cat-file: malformed header ${JSON.stringify(buf.toString("latin1", at, nl))}`)
      const end = nl + 1 + size + 1
      if (end > buf.length) {
        this.need = end - at
        break
      }
      this.each(buf.toString("latin1", at, sp1), buf.subarray(nl + 1, nl + 1 + size))
      at = end
    }
    const rest = buf.subarray(at)
    this.parts = rest.length ? [rest] : []
    this.have = rest.length
    if (!rest.length) this.need = 1
  }

  /** Whether the output stopped in the middle of a record. */
  get partial(): boolean {
    return this.have > 0
  }
}
