/**
 * Events: one recorded filesystem change each, plain serialisable values.
 *
 * Journal records are one line each: the event as JSON, a tab, and a CRC-32 of the JSON in hex.
 * A torn last line (no newline, or a bad checksum on the last line) is what a crash mid-append
 * leaves; it is dropped. So is the part of a record that a failed append (a full disk) left at the
 * start of a line that goes on with a whole record. Any other bad line means the journal was
 * tampered with.
 */
import type { Content } from "./tree.js"

export const EVENT_SCHEMA = 1

/**
 * A file's mode in an event: `executable` (the owner's execute bit), and `mode`, the permission
 * bits, only where they are not the default for it (0644, 0755): records of files that never had
 * another mode read as they did before modes were kept (see `fileModeFields`).
 */
export type Operation =
  /** create or overwrite a file's content; `base` is the content id it replaced (null: new file) */
  | { readonly op: "write"; readonly path: string; readonly content: Content; readonly executable: boolean; readonly mode?: number; readonly base: string | null }
  /** `mode`: the permission bits, when not 0755 */
  | { readonly op: "mkdir"; readonly path: string; readonly mode?: number }
  | { readonly op: "rmdir"; readonly path: string }
  | { readonly op: "unlink"; readonly path: string }
  | { readonly op: "rename"; readonly path: string; readonly to: string }
  | { readonly op: "symlink"; readonly path: string; readonly target: string }
  /**
   * A file's mode (as in `write`), or, with `dir`, a directory's. Each applies only to its kind
   * (to anything else it is a no-op), so the optimiser can reason about a file's chmod as before.
   */
  | { readonly op: "chmod"; readonly path: string; readonly executable: boolean; readonly mode?: number; readonly dir?: true }
  | { readonly op: "utimens"; readonly path: string; readonly mtime: number }

export type Event = Operation & {
  readonly v: number
  /** per-host sequence number, strictly increasing */
  readonly seq: number
  /** the host's git-annex UUID */
  readonly host: string
  /** milliseconds since the epoch */
  readonly time: number
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

const utf8 = new TextEncoder()

const crcOfBytes = (bytes: Uint8Array, end: number): number => {
  let c = 0xffffffff
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** CRC-32 (IEEE) of a string's UTF-16 code units folded to bytes via UTF-8. */
export const crc32 = (s: string): number => {
  const bytes = utf8.encode(s)
  return crcOfBytes(bytes, bytes.length)
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0")

export const buildRecord = (e: Event): string => {
  const json = JSON.stringify(e)
  return `${json}\t${hex8(crc32(json))}\n`
}

const HEX_DIGITS = utf8.encode("0123456789abcdef")

/** `buildRecord`'s record as the UTF-8 bytes the journal holds, encoded once (every close makes one). */
export const encodeRecord = (e: Event): Uint8Array => {
  const json = JSON.stringify(e)
  // a UTF-16 code unit takes at most 3 bytes of UTF-8; then a tab, 8 hex digits, a newline
  const out = new Uint8Array(json.length * 3 + 10)
  const n = utf8.encodeInto(json, out).written
  const crc = crcOfBytes(out, n)
  out[n] = 0x09
  for (let k = 0; k < 8; k++) out[n + 1 + k] = HEX_DIGITS[(crc >>> (28 - 4 * k)) & 15]!
  out[n + 9] = 0x0a
  return out.subarray(0, n + 10)
}

/** Parses one record line (without its newline); undefined when it is not a valid record. */
export const parseRecord = (line: string): Event | undefined => {
  const tab = line.lastIndexOf("\t")
  if (tab < 0) return undefined
  const json = line.slice(0, tab)
  if (line.slice(tab + 1) !== hex8(crc32(json))) return undefined
  try {
    const e = JSON.parse(json) as Event
    return isEvent(e) ? e : undefined
  } catch {
    return undefined
  }
}

const isStr = (x: unknown): x is string => typeof x === "string"
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x)

/** A kept mode: a whole number of permission bits and the sticky bit (see `KEPT_MODE`). */
const isMode = (m: unknown): boolean => m === undefined || (typeof m === "number" && Number.isInteger(m) && m >= 0 && (m & ~0o1777) === 0)

const isContent = (c: any): c is Content =>
  c !== null &&
  typeof c === "object" &&
  ((c.kind === "key" && isStr(c.key)) ||
    (c.kind === "staged" && isStr(c.id) && isNum(c.size)) ||
    (c.kind === "blob" && isStr(c.oid) && isNum(c.size)))

export const isEvent = (e: any): e is Event => {
  if (e === null || typeof e !== "object") return false
  if (!isNum(e.v) || !isNum(e.seq) || !isStr(e.host) || !isNum(e.time) || !isStr(e.path)) return false
  switch (e.op) {
    case "write":
      return isContent(e.content) && typeof e.executable === "boolean" && isMode(e.mode) && (e.base === null || isStr(e.base))
    case "mkdir":
      return isMode(e.mode)
    case "rmdir":
    case "unlink":
      return true
    case "rename":
      return isStr(e.to)
    case "symlink":
      return isStr(e.target)
    case "chmod":
      return typeof e.executable === "boolean" && isMode(e.mode) && (e.dir === undefined || e.dir === true)
    case "utimens":
      return isNum(e.mtime)
    default:
      return false
  }
}

export type JournalParse =
  | {
      readonly _tag: "Ok"
      readonly events: ReadonlyArray<Event>
      readonly tornBytes: number
      readonly validBytes: number
      /** lines that began with part of a record and went on with a whole one: the part is dropped */
      readonly partials: ReadonlyArray<{ readonly line: number; readonly bytes: number }>
    }
  | { readonly _tag: "Corrupt"; readonly line: number; readonly events: ReadonlyArray<Event> }

/**
 * Record starts tried on one line: a partial record has one or two (the event, its content), so
 * this is far more than real damage needs, and it bounds the work a damaged line can cause.
 */
const MAX_RECORD_STARTS = 64

/**
 * The whole record that ends a line which is not one record, and where it starts. An append that
 * failed part way (a full disk) left the start of its record without a newline, and, before
 * journals cut such a part off, the next append went on the same line. That record was written
 * and acknowledged; the part was a write that reported its failure, so dropping it loses nothing.
 */
const recordAfterPartial = (line: string): { readonly at: number; readonly event: Event } | undefined => {
  if (!line.startsWith("{")) return undefined
  let tries = 0
  for (let at = line.indexOf('{"', 1); at > 0 && tries++ < MAX_RECORD_STARTS; at = line.indexOf('{"', at + 1)) {
    const event = parseRecord(line.slice(at))
    if (event) return { at, event }
  }
  return undefined
}

/**
 * Parses a whole journal (its bytes, or their text). Recovery: a damaged *last* record (torn
 * write) is dropped and reported in `tornBytes`; `validBytes` is the length of the intact prefix,
 * to which the file can be truncated. Offsets are counted in the bytes themselves: a partial record
 * can end inside a multi-byte character, which decodes to U+FFFD, of another length.
 */
export const parseJournal = (input: string | Uint8Array): JournalParse => {
  const bytes = typeof input === "string" ? utf8.encode(input) : input
  const text = typeof input === "string" ? input : new TextDecoder().decode(input)
  const events: Array<Event> = []
  const partials: Array<{ line: number; bytes: number }> = []
  // the text's newlines are the bytes' newlines, one for one (0x0a is never part of a longer character)
  let offset = 0
  let byteOffset = 0
  let lineNo = 0
  while (byteOffset < bytes.length) {
    lineNo++
    const nl = text.indexOf("\n", offset)
    const byteNl = bytes.indexOf(0x0a, byteOffset)
    const isLast = byteNl < 0 || byteNl === bytes.length - 1
    const line = nl < 0 ? text.slice(offset) : text.slice(offset, nl)
    let e = nl < 0 ? undefined : parseRecord(line)
    if (!e && nl >= 0) {
      const after = recordAfterPartial(line)
      if (after) {
        e = after.event
        partials.push({ line: lineNo, bytes: byteNl - byteOffset - utf8.encode(line.slice(after.at)).length })
      }
    }
    if (!e) {
      if (isLast) return { _tag: "Ok", events, validBytes: byteOffset, tornBytes: bytes.length - byteOffset, partials }
      return { _tag: "Corrupt", line: lineNo, events }
    }
    events.push(e)
    offset = nl + 1
    byteOffset = byteNl + 1
  }
  return { _tag: "Ok", events, validBytes: bytes.length, tornBytes: 0, partials }
}

/** Paths an event touches (for display and for conflict detection). */
export const eventPaths = (e: Operation): ReadonlyArray<string> => (e.op === "rename" ? [e.path, e.to] : [e.path])
