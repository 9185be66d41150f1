/**
 * Three-way merge of texts, line by line, with diff3's rule (as `git merge-file` decides): the
 * parts where both sides still hold the base's lines are stable; between two stable parts, a side
 * that left the base's lines alone takes the other side's change, two equal changes are one, and
 * two different changes are a conflict. Changes that touch (one side's change ends on the line
 * before the other's begins) are one unstable part, so they conflict, as in git.
 *
 * Bytes in, bytes out: a line is everything up to and including its `\n`, so `\r\n` stays part of
 * its line (CRLF files merge as well as LF ones, and a line's ending counts as part of its text),
 * and a last line without `\n` is a different line from the same text with one. Nothing is decoded:
 * each byte maps to one character (latin1), so any encoding comes back byte for byte.
 *
 * Symmetric by construction: the two sides are put in byte order first, so the result never depends
 * on which one is "ours". The line diff is Myers' O((N+M)D) algorithm, after trimming the common
 * head and tail, within a budget (MAX_DIFF_WORK): a diff past it makes the merge a conflict.
 */

/** The largest side merged as text (bytes); larger files are left to conflict copies. */
export const MAX_TEXT_BYTES = 1 << 20

/** How far a NUL byte is looked for, as git does to call a file binary. */
export const BINARY_PROBE_BYTES = 8000

/** Whether a content counts as text: at most MAX_TEXT_BYTES, no NUL in its first 8000 bytes. */
export const isMergeableText = (b: Uint8Array): boolean => {
  if (b.length > MAX_TEXT_BYTES) return false
  const n = Math.min(b.length, BINARY_PROBE_BYTES)
  for (let i = 0; i < n; i++) if (b[i] === 0) return false
  return true
}

export type TextMerge = { readonly _tag: "Merged"; readonly text: Uint8Array } | { readonly _tag: "Conflict" }

/** Splits bytes into lines, each with its `\n` (the last one may lack it). */
export const splitLines = (b: Uint8Array): Array<string> => {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1")
  const out: Array<string> = []
  let start = 0
  for (;;) {
    const nl = s.indexOf("\n", start)
    if (nl < 0) break
    out.push(s.slice(start, nl + 1))
    start = nl + 1
  }
  if (start < s.length) out.push(s.slice(start))
  return out
}

const joinLines = (lines: ReadonlyArray<string>): Uint8Array => new Uint8Array(Buffer.from(lines.join(""), "latin1"))

/**
 * What a line diff may cost before it gives up (the merge is then a conflict): about this many line
 * comparisons, and at most MAX_DIFF_EDITS differing lines, so a file of a million short lines
 * rewritten, or a peer's crafted file, costs a bounded time and memory (the kept trace is at most
 * MAX_DIFF_EDITS² numbers, 36 MB).
 */
export const MAX_DIFF_WORK = 50_000_000
export const MAX_DIFF_EDITS = 3000

/**
 * For each line of `a`, the index of the line of `b` it is matched with in a longest common
 * subsequence, or -1 (Myers' greedy algorithm, common head and tail trimmed first); undefined when
 * more lines differ than the budget allows.
 */
export const matchLines = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Int32Array | undefined => {
  const match = new Int32Array(a.length).fill(-1)
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) match[head] = head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) {
    match[a.length - 1 - tail] = b.length - 1 - tail
    tail++
  }
  const n = a.length - head - tail
  const m = b.length - head - tail
  if (n === 0 || m === 0) return match
  const at = (i: number) => a[head + i]!
  const bt = (j: number) => b[head + j]!
  const max = n + m
  const maxD = Math.min(max, MAX_DIFF_EDITS, Math.floor(MAX_DIFF_WORK / max))
  const off = max + 1
  const v = new Int32Array(2 * max + 3)
  // trace[d]: the furthest x on each diagonal k in [-d, d] before step d (at index k + d)
  const trace: Array<Int32Array> = []
  let found = false
  for (let d = 0; d <= maxD && !found; d++) {
    trace.push(v.slice(off - d, off + d + 1))
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1
      let y = x - k
      while (x < n && y < m && at(x) === bt(y)) {
        x++
        y++
      }
      v[off + k] = x
      if (x >= n && y >= m) {
        found = true
        break
      }
    }
  }
  if (!found) return undefined
  // walk back: each step d came from a diagonal of step d-1, then followed a snake
  let x = n
  let y = m
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!
    const get = (k: number) => vd[k + d]!
    const k = x - y
    const prevK = d === 0 ? 0 : k === -d || (k !== d && get(k - 1) < get(k + 1)) ? k + 1 : k - 1
    const prevX = d === 0 ? 0 : get(prevK)
    const prevY = prevX - prevK
    const startX = d === 0 ? 0 : prevK === k + 1 ? prevX : prevX + 1
    const startY = startX - k
    while (x > startX && y > startY) {
      x--
      y--
      match[head + x] = head + y
    }
    x = prevX
    y = prevY
  }
  return match
}

/**
 * The three-way merge of `base`, `a` and `b`: the merged text, or a conflict when both sides changed
 * the same (or touching) lines differently. Total; symmetric in `a` and `b`.
 */
export const mergeTexts = (base: Uint8Array, a: Uint8Array, b: Uint8Array): TextMerge => {
  // the two sides in byte order, so that the result cannot depend on which one is "ours"
  const [x, y] = Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a]
  // one side unchanged, or both alike: no diff needed (and no budget to run out of)
  const eq = (p: Uint8Array, q: Uint8Array) => Buffer.compare(Buffer.from(p), Buffer.from(q)) === 0
  if (eq(x, base) || eq(x, y)) return { _tag: "Merged", text: y }
  if (eq(y, base)) return { _tag: "Merged", text: x }
  const [lb, lx, ly] = [splitLines(base), splitLines(x), splitLines(y)]
  const mx = matchLines(lb, lx)
  const my = matchLines(lb, ly)
  if (!mx || !my) return { _tag: "Conflict" }
  const out: Array<string> = []
  const same = (p: ReadonlyArray<string>, q: ReadonlyArray<string>) => p.length === q.length && p.every((l, i) => l === q[i])
  let [i, j, k] = [0, 0, 0]
  while (i < lb.length || j < lx.length || k < ly.length) {
    if (i < lb.length && mx[i] === j && my[i] === k) {
      out.push(lb[i]!)
      i++
      j++
      k++
      continue
    }
    // the next base line both sides still hold, after the unstable part
    let e = i
    while (e < lb.length && (mx[e] === -1 || my[e] === -1)) e++
    const [je, ke] = e < lb.length ? [mx[e]!, my[e]!] : [lx.length, ly.length]
    const [pb, px, py] = [lb.slice(i, e), lx.slice(j, je), ly.slice(k, ke)]
    if (same(px, pb)) out.push(...py)
    else if (same(py, pb) || same(px, py)) out.push(...px)
    else return { _tag: "Conflict" }
    ;[i, j, k] = [e, je, ke]
  }
  return { _tag: "Merged", text: joinLines(out) }
}
