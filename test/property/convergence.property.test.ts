/**
 * Convergence (DESIGN.md section 4): 3-5 hosts make random offline edits (files, directories,
 * renames, deletions, and resolutions of conflict copies) and sync pairwise in random orders, git
 * style (see sim.ts: a commit DAG per schedule, fast-forwards, merge bases from ancestor sets, a
 * recursive virtual base when there are several). Then two final rounds in which every host syncs
 * from every other host, each round in a random order.
 *
 * What is needed, and asserted:
 * - after the first final round every host holds every user commit (each pulled from each);
 * - after the second, every host holds the same tree, writers included (so the same stored tree).
 *   Three-way merges are not associative: hosts that merged the same commits in different orders
 *   can hold different trees, and merging those again can flip between them forever (pinned
 *   below). The sync settles heads that hold the same user commits on one tree (`settle`), so the
 *   second round converges: trees only move down a total order, and every host pulls from the host
 *   holding the least tree;
 * - a third round changes nothing;
 * - no lost write: every key a user op wrote is in every final tree (at its own path, a rename's,
 *   or in a conflict copy) unless a user op on some host removed it from that host's tree (unlinked
 *   it, wrote over it, renamed something over it, or deleted a conflict copy holding it). A merge
 *   or a settle never excuses a missing key; only a user's own act does.
 *
 * SHAREBOX_CONVERGENCE_RUNS schedules (default 3000 in the default run that CI makes, 10000 in the
 * full run), and a quarter as many again with
 * a single merge base. On failure fast-check prints the seed and the shrunk schedule; shrunk
 * schedules that found bugs are pinned below.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { scaled } from "../integration/harness.js"
import { openConflicts } from "../../src/domain/merge.js"
import { applyInPlace } from "../../src/domain/reduce.js"
import { type Content, type Node, Tree, contentId } from "../../src/domain/tree.js"
import { show, treeProblem } from "./arbitraries.js"
import { Network, type Schedule, type SimOptions, type SimResult, SimTexts, UUIDS, schedule, simulate, textSchedule } from "./sim.js"

const RUNS = Number(process.env.SHAREBOX_CONVERGENCE_RUNS ?? scaled(3000, 10000))

const keysIn = (t: Tree): Set<string> => {
  const s = new Set<string>()
  for (const [, n] of t.entries()) if (n.type === "file") s.add(contentId(n.content))
  return s
}

/**
 * Whether a key a text merge took in lives on: some text merge's key it went into (or one those
 * went into in turn) is in the final tree, or a user removed that one (the text-merge law that
 * each side's changed lines are in the merged text is test/property/textmerge.property.test.ts).
 */
const inMerged = (sim: Network, present: ReadonlySet<string>, key: string): boolean => {
  const seen = new Set<string>()
  const todo = [...(sim.mergedInto.get(key) ?? [])]
  while (todo.length > 0) {
    const k = todo.pop()!
    if (seen.has(k)) continue
    seen.add(k)
    if (present.has(k) || (sim as SimResult).removed.has(k)) return true
    todo.push(...(sim.mergedInto.get(k) ?? []))
  }
  return false
}

const stats = { textMerges: 0, schedules: 0, merges: 0, conflicts: 0, settledInSteps: 0, settledInFinal: 0, sameAfterRound1: 0, keysChecked: 0 }

/** Runs a schedule and the final rounds, asserting everything the header promises. */
const check = (s: Schedule, options: SimOptions = {}): void => {
  const sim = simulate(s, options)
  const settledInSteps = sim.settled
  const trees = () => sim.heads.map((_, h) => show(sim.tree(h)).join("\n"))
  const round = (order: ReadonlyArray<number>) => sim.round(order)
  round(s.finalOrder)
  for (const h of sim.heads) expect(sim.dag.sameUserCommits(h, sim.heads[0]!)).toBe(true)
  if (new Set(trees()).size === 1) stats.sameAfterRound1++
  round([...s.finalOrder].reverse())
  const final = trees()
  expect(final).toEqual(final.map(() => final[0]))
  const tree = sim.dag.tree(sim.heads[0]!)
  expect(treeProblem(tree)).toBeUndefined()
  round(s.finalOrder)
  expect(trees()).toEqual(final)
  const present = keysIn(tree)
  const kept = [...sim.written].filter((k) => !sim.removed.has(k))
  expect(kept.filter((k) => !present.has(k) && !inMerged(sim, present, k))).toEqual([])
  stats.schedules++
  stats.merges += sim.merges
  stats.textMerges += sim.textMerges
  stats.conflicts += sim.conflicts
  stats.settledInSteps += settledInSteps
  stats.settledInFinal += sim.settled - settledInSteps
  stats.keysChecked += kept.length
}

describe("convergence", () => {
  it(`${RUNS} schedules: two final rounds of all-pairs syncs leave every host with the same tree, and no write a user kept is lost`, () => {
    fc.assert(
      fc.property(schedule, (s) => check(s)),
      { numRuns: RUNS }
    )
    console.log(
      `convergence: ${stats.schedules} schedules, ${stats.merges} three-way merges with ${stats.conflicts} conflict copies, ` +
        `${stats.sameAfterRound1} already identical after one final round; settled ${stats.settledInSteps} times before the final rounds ` +
        `and ${stats.settledInFinal} times in them; ${stats.keysChecked} kept keys checked; ${stats.textMerges} text merges`
    )
  })

  it(`${Math.ceil(RUNS / 4)} schedules with a single merge base (git merge-base without --all) converge too`, () => {
    fc.assert(
      fc.property(schedule, (s) => check(s, { base: "first" })),
      { numRuns: Math.ceil(RUNS / 4) }
    )
  })

  it(`${Math.ceil(RUNS / 2)} schedules with text merges (every key a text, edits of single lines), and a quarter as many where one host makes none: the same, and merged texts lose nothing`, () => {
    const before = stats.textMerges
    fc.assert(
      fc.property(textSchedule, (s) => check(s, { text: new SimTexts() })),
      { numRuns: Math.ceil(RUNS / 2) }
    )
    fc.assert(
      fc.property(textSchedule, (s) => check(s, { text: new SimTexts(), noTextOn: [0] })),
      { numRuns: Math.ceil(RUNS / 4) }
    )
    console.log(`convergence with texts (host 0 of each quarter run merging none): ${stats.textMerges - before} text merges`)
    expect(stats.textMerges - before).toBeGreaterThan(0)
  })
})

// ---------------------------------------------------------------------------------------------
// Text merges

describe("text merges converge", () => {
  const text = (s: string) => new Uint8Array(Buffer.from(s))
  const str = (n: Node | undefined, texts: SimTexts) => (n?.type === "file" && n.content.kind === "key" ? Buffer.from(texts.textOf(n.content.key)!).toString() : undefined)
  const LINES = ["one\n", "two\n", "three\n", "four\n", "five\n", "six\n", "seven\n", "eight\n"]

  /** `hosts` hosts share f.txt; host h then writes `edits[h]` (line index -> new line) offline; all sync until quiet. */
  const run = (hosts: number, edits: ReadonlyArray<ReadonlyArray<readonly [number, string]>>, order: ReadonlyArray<number> = []) => {
    const texts = new SimTexts()
    const net = new Network(hosts, { text: texts })
    const put = (h: number, lines: ReadonlyArray<string>, mtime: number) =>
      net.edit(h, (t) => t.set("f.txt", { type: "file", content: { kind: "key", key: texts.keyOf(text(lines.join("")), "f.txt") }, executable: false, mtime, host: UUIDS[h] }))
    put(0, LINES, 1)
    net.round(order)
    edits.forEach((e, h) => {
      const lines = [...LINES]
      for (const [i, l] of e) lines[i] = l
      if (e.length) put(h, lines, 10 + h)
    })
    net.round(order)
    net.round([...order].reverse())
    const trees = net.heads.map((_, h) => show(net.tree(h)).join("\n"))
    expect(trees, "every host holds the same tree").toEqual(trees.map(() => trees[0]))
    return { tree: net.tree(0), texts, net }
  }

  it("hosts editing different lines of one text file (lines apart) converge on the merged text, with no conflict copy", () => {
    for (const hosts of [2, 3, 4]) {
      for (const order of [[], [3, 1, 2, 0, 5, 4], [7, 7, 0, 1]]) {
        // lines 1, 3, 5, 7: changes of adjacent lines touch, and conflict as in git merge-file
        const edits = Array.from({ length: hosts }, (_, h) => [[2 * h, `host ${h}\n`] as const])
        const { tree, texts, net } = run(hosts, edits, order)
        const want = LINES.map((l, i) => (i % 2 === 0 && i / 2 < hosts ? `host ${i / 2}\n` : l)).join("")
        expect(str(tree.get("f.txt"), texts), `${hosts} hosts, order ${order}`).toBe(want)
        expect(openConflicts(tree)).toEqual([])
        expect(net.textMerges).toBeGreaterThan(0)
      }
    }
  })

  it("overlapping edits give a conflict copy, the same on every host", () => {
    const { tree, texts } = run(3, [[[1, "zero's two\n"]], [[1, "one's two\n"]], [[4, "two's five\n"]]])
    const conflicts = openConflicts(tree)
    expect(conflicts).toHaveLength(1)
    const both = [str(tree.get("f.txt"), texts), str(tree.get(conflicts[0]!.copy), texts)]
    // the two versions of line 2 meet; host 2's edit of line 5 is merged into the file (and into
    // the copy too when the copy's version had met it first)
    expect(both.map((t) => t!.split("\n")[1]).sort()).toEqual(["one's two", "zero's two"])
    expect(both[0]).toContain("two's five\n")
  })

  it("hosts that made the same text merge on their own hold the same tree, and their next sync has nothing to merge", () => {
    const texts = new SimTexts()
    const net = new Network(2, { text: texts })
    const put = (h: number, s: string, mtime: number) =>
      net.edit(h, (t) => t.set("f.txt", { type: "file", content: { kind: "key", key: texts.keyOf(text(s), "f.txt") }, executable: false, mtime, host: UUIDS[h] }))
    put(0, LINES.join(""), 1)
    net.round()
    put(0, ["ONE\n", ...LINES.slice(1)].join(""), 2)
    put(1, [...LINES.slice(0, 4), "FIVE\n", ...LINES.slice(5)].join(""), 3)
    const [h0, h1] = [net.heads[0]!, net.heads[1]!]
    net.syncFrom(0, h1)
    net.syncFrom(1, h0)
    expect(net.textMerges).toBe(2)
    expect(show(net.tree(0))).toEqual(show(net.tree(1)))
    const merges = net.merges
    net.round()
    net.round()
    expect(net.merges, "no further merge").toBe(merges)
    expect(str(net.tree(0).get("f.txt"), texts)).toBe(["ONE\n", ...LINES.slice(1, 4), "FIVE\n", ...LINES.slice(5)].join(""))
  })

  it("a host that merged the edits and one that kept a conflict copy (automerge off, or the content not to be had) settle on the copy: both edits kept", () => {
    const texts = new SimTexts()
    const net = new Network(2, { text: texts, noTextOn: [1] })
    const put = (h: number, s: string, mtime: number) =>
      net.edit(h, (t) => t.set("f.txt", { type: "file", content: { kind: "key", key: texts.keyOf(text(s), "f.txt") }, executable: false, mtime, host: UUIDS[h] }))
    put(0, LINES.join(""), 1)
    net.round()
    put(0, ["ONE\n", ...LINES.slice(1)].join(""), 2)
    put(1, [...LINES.slice(0, 4), "FIVE\n", ...LINES.slice(5)].join(""), 3)
    const [h0, h1] = [net.heads[0]!, net.heads[1]!]
    net.syncFrom(0, h1)
    net.syncFrom(1, h0)
    expect(net.textMerges).toBe(1)
    expect(openConflicts(net.tree(0))).toEqual([])
    expect(openConflicts(net.tree(1))).toHaveLength(1)
    net.round()
    net.round()
    expect(show(net.tree(0))).toEqual(show(net.tree(1)))
    const t = net.tree(0)
    const [c] = openConflicts(t)
    expect([str(t.get("f.txt"), texts), str(t.get(c!.copy), texts)].sort()).toEqual(
      [["ONE\n", ...LINES.slice(1)].join(""), [...LINES.slice(0, 4), "FIVE\n", ...LINES.slice(5)].join("")].sort()
    )
  })

  it("an edit that lost a conflict on one host and was text-merged on another is kept when the two meet (found by the property: it was lost)", () => {
    // hosts 0 and 2 edit line 1, host 1 line 3 (in this order: the later edit wins a conflict).
    // Host 0 merges 2's edit as a conflict copy, then text-merges 1's; host 1 text-merges 2's. When
    // host 0 syncs from host 1, their merge base is a virtual one that holds 2's edit at the path: host
    // 1's merged text read as an edit of it superseded host 0's copy of 2's edit, and the text merge
    // against that base took host 0's line 1, so 2's line was nowhere.
    const texts = new SimTexts()
    const net = new Network(3, { text: texts })
    const put = (h: number, lines: ReadonlyArray<string>, mtime: number) =>
      net.edit(h, (t) => t.set("f.txt", { type: "file", content: { kind: "key", key: texts.keyOf(text(lines.join("")), "f.txt") }, executable: false, mtime, host: UUIDS[h] }))
    put(0, LINES, 1)
    net.round()
    put(1, [...LINES.slice(0, 2), "THREE by 1\n", ...LINES.slice(3)], 2)
    put(2, ["ONE by 2\n", ...LINES.slice(1)], 3)
    put(0, ["ONE by 0\n", ...LINES.slice(1)], 4)
    net.sync(0, 2)
    expect(openConflicts(net.tree(0))).toHaveLength(1)
    net.sync(0, 1)
    net.sync(1, 2)
    expect(str(net.tree(1).get("f.txt"), texts)).toBe(["ONE by 2\n", LINES[1], "THREE by 1\n", ...LINES.slice(3)].join(""))
    net.sync(0, 1)
    const texts0 = [...net.tree(0).entries()].map(([, n]) => str(n, texts) ?? "")
    expect(texts0.some((s) => s.startsWith("ONE by 2\n")), texts0.join("\n--\n")).toBe(true)
    expect(texts0.some((s) => s.startsWith("ONE by 0\n")), texts0.join("\n--\n")).toBe(true)
    net.round()
    net.round()
    const all = net.heads.map((_, h) => show(net.tree(h)))
    for (const t of all) expect(t).toEqual(all[0])
    const final = [...net.tree(0).entries()].map(([, n]) => str(n, texts) ?? "")
    expect(final.some((s) => s.startsWith("ONE by 2\n"))).toBe(true)
    expect(final.some((s) => s.startsWith("ONE by 0\n"))).toBe(true)
    expect(final.every((s) => s === "" || s.includes("THREE by 1\n"))).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
// Shrunk counterexamples, pinned (each found a bug in merge.ts, fixed since)

const pinned: ReadonlyArray<{ readonly why: string; readonly schedule: Schedule }> = [
  {
    why: "a key was lost: each side deleted a different copy of it relative to the virtual base (now: a content both sides hold is kept), and an edit followed a rename although the other side had moved the old content into a conflict copy",
    schedule: JSON.parse(
      '{"hosts":5,"steps":[{"kind":"edit","host":0,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":1,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0},{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"edit","i":0,"j":0,"name":0,"exec":false,"time":1},{"kind":"move-over","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":3,"peer":1},{"kind":"edit","host":3,"ops":[{"kind":"rename","i":0,"j":0,"name":1,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"take-copy","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":2,"ops":[{"kind":"write","i":0,"j":0,"name":1,"exec":false,"time":0},{"kind":"move-over","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":2,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"rename","i":0,"j":0,"name":0,"exec":false,"time":0}]}],"finalOrder":[0,8,53,53,53,20,0,0,46,42,46,0,2,0,2,0,46,0,0,0]}'
    )
  },
  {
    why: "copy names flipped forever: an edit followed a merge's move of the losing version into its conflict copy, so one copy name held another version (now: moves into conflict copies are not renames)",
    schedule: JSON.parse(
      '{"hosts":5,"steps":[{"kind":"edit","host":2,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0},{"kind":"move-over","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":0,"peer":2},{"kind":"edit","host":4,"ops":[{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0},{"kind":"rename","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":1,"peer":2},{"kind":"edit","host":0,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":0,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"edit","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":2,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"move-over","i":0,"j":0,"name":0,"exec":false,"time":0}]}],"finalOrder":[22,80,0,3,51,23,29,14,0,0,0,24,0,15,0,48,49,25,15,25]}'
    )
  },
  {
    why: "the conflict copy of a version another host had edited since came and went with the merge base (now: the edit supersedes that copy)",
    schedule: JSON.parse(
      '{"hosts":5,"steps":[{"kind":"edit","host":0,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":4,"ops":[{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":2,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"take-copy","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"edit","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"edit","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"touch","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"edit","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"edit","i":0,"j":0,"name":0,"exec":false,"time":0}]}],"finalOrder":[59,2,0,96,0,88,0,1,60,3,0,0,49,1,0,55,1,0,4,50]}'
    )
  },
  {
    why: "two identical directories made on two hosts, one deleted: whether the other survives depends on the merge base, and the same final order needed three rounds (now: settled in the second)",
    schedule: JSON.parse(
      '{"hosts":5,"steps":[{"kind":"edit","host":4,"ops":[{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0},{"kind":"touch","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"rename","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":1,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"rmdir","i":0,"j":0,"name":0,"exec":false,"time":0},{"kind":"touch","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":0,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"chmod","i":0,"j":0,"name":0,"exec":false,"time":0}]}],"finalOrder":[67,0,67,19,96,0,0,67,0,0,0,33,0,0,0,67,39,19,67,39]}'
    )
  },
  {
    why: "a file renamed on one host while a merge on another moved it into a conflict copy: three-way merges alone flip between two trees forever (now: settled)",
    schedule: JSON.parse(
      '{"hosts":5,"steps":[{"kind":"edit","host":2,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":4,"peer":2},{"kind":"edit","host":2,"ops":[{"kind":"rename","i":0,"j":0,"name":1,"exec":false,"time":0},{"kind":"drop-copy","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"mkdir","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"sync","host":0,"peer":0},{"kind":"edit","host":0,"ops":[{"kind":"drop-copy","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"unlink","i":0,"j":0,"name":0,"exec":false,"time":0}]},{"kind":"edit","host":0,"ops":[{"kind":"write","i":0,"j":0,"name":0,"exec":false,"time":0}]}],"finalOrder":[0,15,15,37,3,64,30,38,59,0,0,38,15,0,0,0,1,0,38,39]}'
    )
  }
]

describe("convergence, pinned schedules", () => {
  for (const { why, schedule: s } of pinned) {
    it(why, () => {
      check(s)
      check(s, { base: "first" })
    })
  }

  it("without settling, three-way merges alone never converge on the last pinned schedule", () => {
    const s = pinned[pinned.length - 1]!.schedule
    const net = simulate(s, { settle: false })
    for (let r = 0; r < 12; r++) net.round(r % 2 ? [...s.finalOrder].reverse() : s.finalOrder)
    const trees = net.heads.map((_, h) => show(net.tree(h)).join("\n"))
    expect(new Set(trees).size).toBeGreaterThan(1)
  })
})

// ---------------------------------------------------------------------------------------------
// Resolutions: whatever one host decides reaches every host

describe("conflict resolutions reach every host", () => {
  const [U0, U1] = ["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "6fa459ea-ee8a-3ca4-894e-db77e160355e"]
  const content = (hex: string): Content => ({ kind: "key", key: `SHA256E-s1--${hex.repeat(8)}.txt` })
  const node = (hex: string, mtime: number, host: string): Node => ({ type: "file", content: content(hex), executable: false, mtime, host })
  const COPY = "f.conflict-1b4e28ba-aaaaaa.txt"

  /** Three hosts; hosts 0 and 1 edit f.txt concurrently; host 0 merges (or both do: criss-cross). */
  const conflicted = (options: SimOptions, crissCross: boolean): Network => {
    const net = new Network(3, options)
    net.edit(0, (t) => t.set("f.txt", node("00", 1, U0)))
    net.round()
    net.edit(0, (t) => t.set("f.txt", node("aa", 2, U0)))
    net.edit(1, (t) => t.set("f.txt", node("bb", 3, U1)))
    const before0 = net.heads[0]!
    net.sync(0, 1)
    if (crissCross) net.syncFrom(1, before0)
    else net.sync(1, 0)
    expect(openConflicts(net.tree(0))).toEqual([{ path: "f.txt", copy: COPY }])
    expect(show(net.tree(1))).toEqual(show(net.tree(0)))
    return net
  }

  const settle = (net: Network) => {
    net.round()
    net.round([5, 3, 1, 4, 2, 0])
    const trees = net.heads.map((_, h) => show(net.tree(h)))
    for (const t of trees) expect(t).toEqual(trees[0])
    return net.tree(0)
  }

  const resolutions: ReadonlyArray<[string, (t: Tree) => void, Array<[string, Node]>]> = [
    ["deleting the copy keeps the winner", (t) => applyInPlace(t, { op: "unlink", path: COPY }, 9, U1), [["f.txt", node("bb", 3, U1)]]],
    ["moving the copy over the original takes the copy", (t) => applyInPlace(t, { op: "rename", path: COPY, to: "f.txt" }, 9, U1), [["f.txt", node("aa", 2, U0)]]],
    [
      "editing the winner and deleting the copy keeps the edit",
      (t) => {
        applyInPlace(t, { op: "write", path: "f.txt", content: content("cc"), executable: false, base: null }, 9, U1)
        applyInPlace(t, { op: "unlink", path: COPY }, 9, U1)
      },
      [["f.txt", node("cc", 9, U1)]]
    ]
  ]

  for (const [what, resolve, want] of resolutions) {
    for (const crissCross of [false, true]) {
      it(`${what}, decided on a host that did not make the merge${crissCross ? ", after criss-cross merges" : ""}`, () => {
        const net = conflicted({}, crissCross)
        net.edit(1, resolve)
        const t = settle(net)
        expect(show(t)).toEqual(show(Tree.from(want)))
        expect(openConflicts(t)).toEqual([])
      })
    }
  }

  it("after criss-cross merges, a single merge base (not the recursive one) undoes taking the copy", () => {
    // Why sim.ts merges over a virtual base: the two merge commits have both edits as merge bases;
    // against host 0's edit alone, taking the copy looks like no change to f.txt and the copy
    // like something the other side added.
    const net = conflicted({ base: "first" }, true)
    net.edit(1, resolutions[1]![1])
    const t = settle(net)
    expect(openConflicts(t)).toEqual([{ path: "f.txt", copy: COPY }])
    expect(t.get("f.txt")).toEqual(node("bb", 3, U1))
  })
})
