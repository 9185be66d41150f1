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
}

/** `<mode> SP <type> SP <oid> SP+ <size> TAB <path> NUL`, record by record. */
export class LsTreeParser {
  private rest: Buffer | undefined

  constructor(private readonly each: (e: LsTreeEntry) => void) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk
    let at = 0
    for (let nul = buf.indexOf(0, at); nul >= 0; nul = buf.indexOf(0, at)) {
      const tab = buf.indexOf(9, at)
      if (tab < 0 || tab > nul) throw new Error(`ls-tree: malformed record ${JSON.stringify(buf.toString("utf8", at, nul))}`)
      const [mode, , oid, size] = buf.toString("latin1", at, tab).split(/ +/)
      // the path decoded on its own: a slice of a longer string would keep that string alive
      this.each({ path: buf.toString("utf8", tab + 1, nul), mode: mode!, oid: oid!, size: size === "-" || size === undefined ? 0 : Number(size) })
      at = nul + 1
    }
    this.rest = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined
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
      const fields = buf.toString("latin1", at, nl).split(" ")
      if (fields.length < 3) {
        this.each(fields[0]!, undefined)
        at = nl + 1
        continue
      }
      const size = Number(fields[2])
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`cat-file: malformed header ${JSON.stringify(buf.toString("latin1", at, nl))}`)
      const end = nl + 1 + size + 1
      if (end > buf.length) {
        this.need = end - at
        break
      }
      this.each(fields[0]!, buf.subarray(nl + 1, nl + 1 + size))
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
