import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { isMergeableText, matchLines, mergeTexts, splitLines } from "../../src/domain/textmerge.js"

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"))
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1")
const merged = (base: string, a: string, b: string): string | "conflict" => {
  const r = mergeTexts(bytes(base), bytes(a), bytes(b))
  return r._tag === "Merged" ? text(r.text) : "conflict"
}

/** Texts of few distinct lines (repeats, CRLF, a missing last newline), so diffs are ambiguous. */
const line = fc.constantFrom("a\n", "b\n", "c\n", "\n", "a\r\n", "x", "é\n")
const anyText = fc.array(line, { maxLength: 12 }).map((ls) => ls.join(""))

/** A side made from a base by deleting, replacing and inserting lines. */
const editsOf = (base: ReadonlyArray<string>) =>
  fc.array(fc.tuple(fc.constantFrom("keep", "keep", "keep", "delete", "replace", "insert"), line), { minLength: base.length, maxLength: base.length }).map((ops) => {
    const out: Array<string> = []
    base.forEach((l, i) => {
      const [op, n] = ops[i]!
      if (op === "keep") out.push(l)
      else if (op === "replace") out.push(n)
      else if (op === "insert") out.push(n, l)
    })
    return out
  })
const triple = fc
  .array(line, { maxLength: 10 })
  .chain((b) => fc.tuple(fc.constant(b), editsOf(b), editsOf(b)))
  .map(([b, x, y]) => [b.join(""), x.join(""), y.join("")] as const)

/** The lines of `s` that `t` lacks, counted (a multiset difference). */
const added = (s: string, t: string): Array<string> => {
  const left = new Map<string, number>()
  for (const l of splitLines(bytes(t))) left.set(l, (left.get(l) ?? 0) + 1)
  const out: Array<string> = []
  for (const l of splitLines(bytes(s))) {
    const n = left.get(l) ?? 0
    if (n > 0) left.set(l, n - 1)
    else out.push(l)
  }
  return out
}

describe("the line diff", () => {
  it("matches a longest common subsequence, in order, of equal lines", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 15 }), fc.array(line, { maxLength: 15 }), (a, b) => {
        const m = matchLines(a, b)!
        let last = -1
        let count = 0
        for (let i = 0; i < a.length; i++) {
          if (m[i] === -1) continue
          expect(m[i]).toBeGreaterThan(last)
          expect(b[m[i]!]).toBe(a[i])
          last = m[i]!
          count++
        }
        // the length of a longest common subsequence, by dynamic programming
        const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
        for (let i = a.length - 1; i >= 0; i--)
          for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!)
        expect(count).toBe(dp[0]![0])
      }),
      { numRuns: 2000 }
    )
  })
})

describe("text merge laws", () => {
  it("identity: merge(b, b, x) = x, merge(b, x, b) = x, merge(b, x, x) = x", () => {
    fc.assert(
      fc.property(anyText, anyText, (b, x) => {
        expect(merged(b, b, x)).toBe(x)
        expect(merged(b, x, b)).toBe(x)
        expect(merged(b, x, x)).toBe(x)
      }),
      { numRuns: 3000 }
    )
  })

  it("symmetric: the same bytes (or a conflict) whichever side is ours", () => {
    fc.assert(
      fc.property(fc.oneof(triple, fc.tuple(anyText, anyText, anyText)), ([b, x, y]) => {
        expect(merged(b, x, y)).toBe(merged(b, y, x))
      }),
      { numRuns: 3000 }
    )
  })

  it("no lost write: a clean merge holds every line each side added", () => {
    fc.assert(
      fc.property(fc.oneof(triple, fc.tuple(anyText, anyText, anyText)), ([b, x, y]) => {
        const m = merged(b, x, y)
        if (m === "conflict") return
        for (const side of [x, y]) {
          const rest = added(m, "")
          for (const l of added(side, b)) {
            const at = rest.indexOf(l)
            expect(at, `${JSON.stringify(l)} of ${JSON.stringify(side)} in ${JSON.stringify(m)}`).toBeGreaterThanOrEqual(0)
            rest.splice(at, 1)
          }
        }
      }),
      { numRuns: 3000 }
    )
  })

  it("a side's deletion stays deleted when the other side left those lines alone", () => {
    expect(merged("a\nb\nc\nd\ne\n", "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n")).toBe("a\nc\nd\nE\n")
  })

  it("edits of lines apart merge; edits of the same or touching lines conflict (as git merge-file)", () => {
    expect(merged("1\n2\n3\n4\n5\n", "one\n2\n3\n4\n5\n", "1\n2\n3\n4\nfive\n")).toBe("one\n2\n3\n4\nfive\n")
    expect(merged("1\n2\n3\n", "1\ntwo\n3\n", "1\nTWO\n3\n")).toBe("conflict")
    expect(merged("1\n2\n3\n4\n", "1\ntwo\n3\n4\n", "1\n2\nthree\n4\n")).toBe("conflict")
    expect(merged("1\n2\n3\n", "1\ntwo\n3\n", "1\ntwo\n3\n")).toBe("1\ntwo\n3\n")
  })

  it("CRLF lines and a missing last newline come back byte for byte", () => {
    expect(merged("a\r\nb\r\nc\r\nd", "A\r\nb\r\nc\r\nd", "a\r\nb\r\nc\r\nD")).toBe("A\r\nb\r\nc\r\nD")
    expect(merged("a\nb\nc\nd", "a\nb\nc\nd\n", "A\nb\nc\nd")).toBe("A\nb\nc\nd\n")
  })

  it("a diff past its budget gives up: the merge is a conflict, in bounded time; unchanged sides still merge", () => {
    const many = (tag: string) => Array.from({ length: 200_000 }, (_, i) => `${tag}${i % 7}\n`).join("")
    const [b, x] = [many("b"), many("x")]
    const y = "changed\n" + b.slice(b.indexOf("\n") + 1)
    const t0 = Date.now()
    expect(merged(b, x, y)).toBe("conflict")
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(merged(b, x, b)).toBe(x)
    expect(merged(b, x, x)).toBe(x)
    expect(matchLines(splitLines(bytes(b)), splitLines(bytes(x)))).toBeUndefined()
  })

  it("text is at most 1 MiB with no NUL byte in its first 8000 bytes", () => {
    expect(isMergeableText(bytes("plain\n"))).toBe(true)
    expect(isMergeableText(new Uint8Array([104, 0, 105]))).toBe(false)
    const late = new Uint8Array(9000).fill(65)
    late[8500] = 0
    expect(isMergeableText(late)).toBe(true)
    expect(isMergeableText(new Uint8Array((1 << 20) + 1).fill(65))).toBe(false)
  })
})

describe("cross-checked against git merge-file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "textmerge-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const version = spawnSync("git", ["--version"], { encoding: "utf8" })
  const git = (b: string, x: string, y: string): string | "conflict" => {
    const [fb, fx, fy] = ["base", "ours", "theirs"].map((n) => path.join(dir, n))
    writeFileSync(fb!, b, "latin1")
    writeFileSync(fx!, x, "latin1")
    writeFileSync(fy!, y, "latin1")
    const r = spawnSync("git", ["merge-file", "-p", fx!, fb!, fy!], { encoding: "latin1", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" } })
    if (r.status === null || r.status < 0 || r.status > 127) throw new Error(`git merge-file: ${r.stderr}`)
    return r.status === 0 ? r.stdout : "conflict"
  }

  /**
   * Sides made from a base of distinct lines by deleting, replacing and inserting new distinct
   * lines: the longest common subsequence of a base and a side is unique, so any correct diff finds
   * the same one, and the decision and the text must be git's.
   */
  const distinct = fc
    .integer({ min: 0, max: 9 })
    .chain((n) => {
      const base = Array.from({ length: n }, (_, i) => `l${i}\n`)
      const side = (tag: string) =>
        fc
          .array(fc.constantFrom("keep", "keep", "keep", "delete", "replace", "insert"), { minLength: n + 1, maxLength: n + 1 })
          .map((ops) => {
            const out: Array<string> = []
            ops.forEach((op, i) => {
              const fresh = `${tag}${i}\n`
              if (i === n) {
                if (op === "insert") out.push(fresh)
                return
              }
              if (op === "keep") out.push(base[i]!)
              else if (op === "replace") out.push(fresh)
              else if (op === "insert") out.push(fresh, base[i]!)
            })
            return out.join("")
          })
      // the same edit on both sides now and then: git takes it once
      return fc.tuple(fc.constant(base.join("")), side("x"), fc.oneof(side("y"), side("x")))
    })

  it(`random small inputs of distinct lines: the same answer as ${version.stdout.trim()} merge-file -p`, () => {
    let clean = 0
    let conflicts = 0
    fc.assert(
      fc.property(distinct, ([b, x, y]) => {
        const ours = merged(b, x, y)
        expect(ours).toBe(git(b, x, y))
        if (ours === "conflict") conflicts++
        else clean++
      }),
      { numRuns: 400 }
    )
    console.log(`git merge-file agreed on ${clean} clean merges and ${conflicts} conflicts`)
    expect(clean).toBeGreaterThan(20)
    expect(conflicts).toBeGreaterThan(20)
  })
})
