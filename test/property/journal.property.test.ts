import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type Event, buildRecord, encodeRecord, parseJournal, parseRecord } from "../../src/domain/events.js"
import { anyEvent, treeEvent } from "./arbitraries.js"

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const byteLength = (s: string): number => bytes(s).length
/** Reading a file cut at an arbitrary byte: a split multi-byte character decodes to U+FFFD. */
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)

const events = fc.array(fc.oneof(anyEvent, treeEvent), { minLength: 1, maxLength: 6 })

describe("journal records", () => {
  it("a record parses back to the event it was built from", () => {
    fc.assert(
      fc.property(anyEvent, (e) => {
        const record = buildRecord(e)
        expect(record.endsWith("\n")).toBe(true)
        expect(record.indexOf("\n")).toBe(record.length - 1)
        expect(parseRecord(record.slice(0, -1))).toEqual(e)
      }),
      { numRuns: 2000 }
    )
  })

  it("the bytes the journal appends are the record's text in UTF-8", () => {
    const anyText = fc.string({ unit: "binary", maxLength: 40 })
    const withText = fc.tuple(anyEvent, anyText).map(([e, t]) => ({ ...e, path: `${e.path}${t}` }) as Event)
    fc.assert(
      fc.property(fc.oneof(anyEvent, withText), (e) => {
        expect(Buffer.from(encodeRecord(e))).toEqual(Buffer.from(buildRecord(e), "utf8"))
      }),
      { numRuns: 2000 }
    )
  })

  it("an intact journal parses to all its events with nothing torn", () => {
    fc.assert(
      fc.property(events, (es) => {
        const text = es.map(buildRecord).join("")
        const r = parseJournal(text)
        expect(r).toEqual({ _tag: "Ok", events: es, tornBytes: 0, validBytes: byteLength(text), partials: [] })
      }),
      { numRuns: 500 }
    )
  })

  it("a journal cut at any byte of its last record keeps exactly the earlier records", () => {
    fc.assert(
      fc.property(events, (es: Array<Event>) => {
        const head = es.slice(0, -1).map(buildRecord).join("")
        const all = bytes(head + buildRecord(es[es.length - 1]!))
        const start = byteLength(head)
        for (let cut = start; cut < all.length; cut++) {
          const text = decode(all.subarray(0, cut))
          const r = parseJournal(text)
          expect(r._tag, `cut at byte ${cut}`).toBe("Ok")
          if (r._tag !== "Ok") return
          expect(r.events).toEqual(es.slice(0, -1))
          expect(r.validBytes).toBe(start)
          expect(r.validBytes + r.tornBytes).toBe(byteLength(text))
          // Truncating the file to validBytes leaves a journal that parses cleanly.
          expect(parseJournal(decode(all.subarray(0, r.validBytes)))).toEqual({ ...r, tornBytes: 0 })
        }
        const whole = parseJournal(decode(all))
        expect(whole).toEqual({ _tag: "Ok", events: es, tornBytes: 0, validBytes: all.length, partials: [] })
      }),
      { numRuns: 150 }
    )
  })

  it("a damaged last line that still ends in a newline is dropped as torn", () => {
    fc.assert(
      fc.property(events, fc.nat(), (es, at) => {
        const lines = es.map(buildRecord)
        const last = lines[lines.length - 1]!
        lines[lines.length - 1] = damage(last.slice(0, -1), at) + "\n"
        const text = lines.join("")
        const r = parseJournal(text)
        const valid = byteLength(lines.slice(0, -1).join(""))
        expect(r).toEqual({ _tag: "Ok", events: es.slice(0, -1), validBytes: valid, tornBytes: byteLength(text) - valid, partials: [] })
      }),
      { numRuns: 300 }
    )
  })

  it("a damaged record before the last is reported as corrupt at its line", () => {
    const journals = fc
      .array(fc.oneof(anyEvent, treeEvent), { minLength: 2, maxLength: 6 })
      .chain((es) => fc.tuple(fc.constant(es), fc.integer({ min: 0, max: es.length - 2 }), fc.nat()))
    fc.assert(
      fc.property(journals, ([es, bad, at]) => {
        const lines = es.map(buildRecord)
        lines[bad] = damage(lines[bad]!.slice(0, -1), at) + "\n"
        const r = parseJournal(lines.join(""))
        expect(r).toEqual({ _tag: "Corrupt", line: bad + 1, events: es.slice(0, bad) })
      }),
      { numRuns: 300 }
    )
  })

  it("part of a record followed on its line by a whole one (a failed append, then the next): the part is dropped, the whole kept", () => {
    const journals = fc
      .array(fc.oneof(anyEvent, treeEvent, wide), { minLength: 2, maxLength: 6 })
      .chain((es) => fc.tuple(fc.constant(es), fc.integer({ min: 1, max: es.length - 1 }), fc.nat(), fc.boolean()))
    fc.assert(
      fc.property(journals, ([es, after, at, torn]) => {
        // the record before `after` was cut at any byte short of its newline
        const recs = es.map(encodeRecord)
        const failed = recs[after - 1]!
        const part = failed.subarray(0, 1 + (at % (failed.length - 1)))
        const kept = es.filter((_, i) => i !== after - 1)
        const tail = torn ? encodeRecord(wideEvent(99)).subarray(0, 20) : new Uint8Array(0)
        const file = Buffer.concat([...recs.slice(0, after - 1), part, ...recs.slice(after), tail])
        const r = parseJournal(file)
        expect(r).toEqual({
          _tag: "Ok",
          events: kept,
          partials: [{ line: after, bytes: part.length }],
          validBytes: file.length - tail.length,
          tornBytes: tail.length
        })
        // cut to validBytes, the file is the kept records with the part still in the middle
        expect(parseJournal(file.subarray(0, file.length - tail.length))).toEqual({ ...r, tornBytes: 0 })
      }),
      { numRuns: 500 }
    )
  })

  it("a line of junk before a whole record is still corruption unless it starts like a record", () => {
    const [a, b, c] = [buildRecord(ev(1)), buildRecord(ev(2)), buildRecord(ev(3))]
    expect(parseJournal(a + "junk" + b + c)).toEqual({ _tag: "Corrupt", line: 2, events: [ev(1)] })
    expect(parseJournal(a + "{junk" + b + c)).toMatchObject({ _tag: "Ok", events: [ev(1), ev(2), ev(3)], partials: [{ line: 2, bytes: 5 }] })
  })

  it("regression: an empty line in the middle is corruption, at the end it is torn", () => {
    const [a, b] = [buildRecord(ev(1)), buildRecord(ev(2))]
    expect(parseJournal(a + "\n" + b)).toEqual({ _tag: "Corrupt", line: 2, events: [ev(1)] })
    expect(parseJournal(a + b + "\n")).toMatchObject({ _tag: "Ok", events: [ev(1), ev(2)], tornBytes: 1 })
  })
})

/**
 * Replaces one character of a record line (never with a newline). CRC-32 detects every burst of
 * up to 32 bits, and one UTF-16 unit changes at most 4 UTF-8 bytes, so the damage is always seen.
 */
const damage = (line: string, at: number): string => {
  const i = at % line.length
  const c = line[i] === "x" ? "y" : "x"
  return line.slice(0, i) + c + line.slice(i + 1)
}

const ev = (seq: number): Event => ({ v: 1, seq, host: "h", time: seq, op: "mkdir", path: `d${seq}` })

/** Characters of two, three and four bytes, so a cut can fall inside one. */
const wideEvent = (seq: number): Event => ({ v: 1, seq, host: "h", time: seq, op: "mkdir", path: `é€😀/é€😀-${seq}` })
const wide = fc.nat({ max: 1000 }).map(wideEvent)
