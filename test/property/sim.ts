/**
 * A model of sharebox hosts syncing, for the convergence property: each host has a head in a
 * shared commit DAG of trees, edits offline (committing its edits), and syncs with one peer at a
 * time the way git does, plus one rule of sharebox's own (see `Network`):
 *
 * - heads with the same user commits but different trees settle on one of them (`settle`);
 * - nothing to do when the peer's head is an ancestor of ours;
 * - fast-forward when ours is an ancestor of the peer's;
 * - otherwise a merge commit of `merge(base, ours, theirs)`, where base is the merge base: the
 *   single lowest common ancestor, or, when there are several (criss-cross merges), a virtual
 *   commit that merges them recursively, as git's recursive and ort strategies do (or, to model
 *   `git merge-base` without `--all`, the first of them).
 *
 * The schedule is plain data, so a shrunk counterexample can be pinned as a test case.
 */
import { createHash } from "node:crypto"
import fc from "fast-check"
import type { Operation } from "../../src/domain/events.js"
import { type MergeOptions, type MergeResult, compareTrees, merge, openConflicts, settle, textMergeKey } from "../../src/domain/merge.js"
import { joinPath } from "../../src/domain/paths.js"
import { applyInPlace } from "../../src/domain/reduce.js"
import { isMergeableText, mergeTexts } from "../../src/domain/textmerge.js"
import { type Content, type FileNode, Tree, contentId } from "../../src/domain/tree.js"

export type OpKind = "write" | "edit" | "edit-line" | "mkdir" | "rename" | "move-over" | "unlink" | "rmdir" | "chmod" | "touch" | "drop-copy" | "take-copy"

/** One user operation, with indices that pick paths from the host's tree when it runs. */
export interface OpTemplate {
  readonly kind: OpKind
  readonly i: number
  readonly j: number
  readonly name: number
  readonly exec: boolean
  /** mtime slot: a tiny range, so equal mtimes on both sides of a merge are common */
  readonly time: number
}

export type Step =
  | { readonly kind: "edit"; readonly host: number; readonly ops: ReadonlyArray<OpTemplate> }
  | { readonly kind: "sync"; readonly host: number; readonly peer: number }

export interface Schedule {
  readonly hosts: number
  readonly steps: ReadonlyArray<Step>
  /** orders the ordered pairs of each final round */
  readonly finalOrder: ReadonlyArray<number>
}

export const NAMES: ReadonlyArray<string> = ["a", "b", "c.txt", "d"]
export const UUIDS: ReadonlyArray<string> = [
  "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
  "6fa459ea-ee8a-3ca4-894e-db77e160355e",
  "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
  "0d6c2e6e-8f43-4a10-9b1e-5a3c1c7d2b11",
  "c3a1e2f0-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
]

const hex64 = (n: number): string => {
  let h = (n * 2654435761 + 0x9e3779b9) >>> 0
  let out = ""
  while (out.length < 64) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0
    out += (h >>> 0).toString(16).padStart(8, "0")
  }
  return out.slice(0, 64)
}

interface Commit {
  readonly parents: ReadonlyArray<number>
  readonly tree: Tree
  /** this commit and all its ancestors */
  readonly ancestors: ReadonlySet<number>
  /** the user commits (a host's own edits) among them */
  readonly userCommits: ReadonlySet<number>
}

export class Dag {
  readonly commits: Array<Commit> = []

  /** `user`: a host's own edits (not a merge, not a settling commit) */
  add(parents: ReadonlyArray<number>, tree: Tree, user = false): number {
    const id = this.commits.length
    const ancestors = new Set<number>([id])
    const userCommits = new Set<number>(user ? [id] : [])
    for (const p of parents) {
      for (const a of this.commits[p]!.ancestors) ancestors.add(a)
      for (const a of this.commits[p]!.userCommits) userCommits.add(a)
    }
    this.commits.push({ parents, tree, ancestors, userCommits })
    return id
  }

  /** Whether two commits hold the same user commits (`git rev-list --no-merges a...b` is empty). */
  sameUserCommits(a: number, b: number): boolean {
    const [x, y] = [this.commits[a]!.userCommits, this.commits[b]!.userCommits]
    return x.size === y.size && [...x].every((c) => y.has(c))
  }

  tree(id: number): Tree {
    return this.commits[id]!.tree
  }

  /** a is b or an ancestor of b */
  isAncestor(a: number, b: number): boolean {
    return this.commits[b]!.ancestors.has(a)
  }

  /** The lowest common ancestors of two commits, in id order. */
  lowestCommonAncestors(a: number, b: number): Array<number> {
    const common = [...this.commits[a]!.ancestors].filter((c) => this.commits[b]!.ancestors.has(c))
    return common.filter((c) => !common.some((d) => d !== c && this.isAncestor(c, d))).sort((x, y) => x - y)
  }

  /** The merge base: the one lowest common ancestor, or a virtual merge of several (git's recursive strategy). */
  mergeBase(a: number, b: number, mode: "recursive" | "first" = "recursive", options?: MergeOptions): number {
    const cs = this.lowestCommonAncestors(a, b)
    if (cs.length === 0) throw new Error("no common ancestor: every host starts from the root commit")
    if (mode === "first") return cs[0]!
    let v = cs[0]!
    for (const c of cs.slice(1)) {
      const base = this.mergeBase(v, c, mode, options)
      v = this.add([v, c], merge(this.tree(base), this.tree(v), this.tree(c), options).tree)
    }
    return v
  }
}

export interface SimOptions {
  /** merge base when there are several lowest common ancestors */
  readonly base?: "recursive" | "first"
  /** settle heads that hold the same user commits (see `settle`); off: always merge three-way */
  readonly settle?: boolean
  /** how hosts are named in conflict copies */
  readonly merge?: MergeOptions
  /**
   * Text merges of edit / edit conflicts, as effects/merging.ts makes them: the text of a key (when
   * it is known to be text) and the key of a merged text at a path.
   */
  readonly text?: TextSource
  /** hosts that make no text merges (-o automerge=off, or the contents were not to be had there) */
  readonly noTextOn?: ReadonlyArray<number>
}

export interface TextSource {
  readonly textOf: (key: string) => Uint8Array | undefined
  readonly keyOf: (text: Uint8Array, path: string) => string
}

/** The texts of a simulation's keys: every written key is a text of a few lines. */
export class SimTexts implements TextSource {
  readonly texts = new Map<string, Uint8Array>()
  textOf = (key: string): Uint8Array | undefined => this.texts.get(key)
  keyOf = (text: Uint8Array, _path: string): string => {
    const key = `SHA256E-s${text.length}--${createHash("sha256").update(text).digest("hex")}`
    this.texts.set(key, text)
    return key
  }
  /** A fresh key's text: eight lines of its own (lines apart are edits that merge). */
  fresh(key: string): void {
    this.texts.set(key, new Uint8Array(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${key.slice(-8)}.${i}\n`).join(""))))
  }
  /** The key of `key`'s text with line `line` (modulo its length) replaced by a line of `fresh`. */
  editLine(key: string, line: number, fresh: string): string | undefined {
    const text = this.texts.get(key)
    if (!text) return undefined
    const lines = Buffer.from(text).toString("latin1").split(/(?<=\n)/)
    lines[line % lines.length] = `${fresh.slice(-8)}\n`
    this.texts.set(fresh, new Uint8Array(Buffer.from(lines.join(""), "latin1")))
    return fresh
  }
}

export type SimResult = Network & {
  /** every key a user op wrote */
  readonly written: Set<string>
  /** keys a user op removed from a host's tree (unlink, overwrite, rename over) */
  readonly removed: Set<string>
}

const keysOf = (t: Tree): Map<string, number> => {
  const m = new Map<string, number>()
  for (const [, n] of t.entries()) if (n.type === "file") m.set(contentId(n.content), (m.get(contentId(n.content)) ?? 0) + 1)
  return m
}

/** Resolves a template against a tree: the operation it stands for, or undefined. */
export const resolveOp = (t: Tree, op: OpTemplate, freshKey: () => string, texts?: SimTexts): Operation | undefined => {
  const paths = [...t.paths()].sort()
  const files = paths.filter((p) => t.get(p)!.type === "file")
  const dirs = ["", ...paths.filter((p) => t.isDir(p))]
  const pick = <A>(xs: ReadonlyArray<A>, n: number): A | undefined => (xs.length ? xs[n % xs.length] : undefined)
  const fresh = () => joinPath(pick(dirs, op.j)!, NAMES[op.name % NAMES.length]!)
  const write = (path: string): Operation => ({ op: "write", path, content: { kind: "key", key: freshKey() }, executable: op.exec, base: null })
  switch (op.kind) {
    case "write":
      return write(fresh())
    case "edit": {
      const f = pick(files, op.i)
      return f === undefined ? undefined : write(f)
    }
    case "edit-line": {
      // one line of a text changed (a whole new content where texts are not modelled)
      const f = pick(files, op.i)
      if (f === undefined) return undefined
      const n = t.get(f) as FileNode
      const key = texts && n.content.kind === "key" ? texts.editLine(n.content.key, op.j, freshKey()) : undefined
      return key === undefined ? write(f) : { op: "write", path: f, content: { kind: "key", key }, executable: n.executable, base: null }
    }
    case "mkdir":
      return { op: "mkdir", path: fresh() }
    case "rename": {
      const from = pick(paths, op.i)
      return from === undefined ? undefined : { op: "rename", path: from, to: fresh() }
    }
    case "move-over": {
      const [from, to] = [pick(files, op.i), pick(files, op.j)]
      return from === undefined || to === undefined ? undefined : { op: "rename", path: from, to }
    }
    case "unlink": {
      const f = pick(files, op.i)
      return f === undefined ? undefined : { op: "unlink", path: f }
    }
    case "rmdir": {
      const d = pick(dirs.slice(1), op.i)
      return d === undefined ? undefined : { op: "rmdir", path: d }
    }
    case "chmod": {
      const f = pick(files, op.i)
      return f === undefined ? undefined : { op: "chmod", path: f, executable: op.exec }
    }
    case "touch": {
      const f = pick(paths, op.i)
      return f === undefined ? undefined : { op: "utimens", path: f, mtime: 1_700_000_000_000 + op.time * 1000 }
    }
    case "drop-copy":
    case "take-copy": {
      const c = pick(openConflicts(t), op.i)
      if (c === undefined) return undefined
      return op.kind === "drop-copy" ? { op: "unlink", path: c.copy } : { op: "rename", path: c.copy, to: c.path }
    }
  }
}

/** Every ordered pair (host, peer), in the order `order` gives. */
export const orderedPairs = (hosts: number, order: ReadonlyArray<number>): Array<[number, number]> => {
  const pairs: Array<[number, number]> = []
  for (let a = 0; a < hosts; a++) for (let b = 0; b < hosts; b++) if (a !== b) pairs.push([a, b])
  const rank = (k: number) => order.length ? order[k % order.length]! * 1000 + k : k
  return pairs.map((p, k) => [rank(k), p] as const).sort(([x], [y]) => x - y).map(([, p]) => p)
}

/**
 * Hosts over one commit DAG, all starting at an empty root commit. A sync of host `a` from `b`:
 * 1. heads with the same user commits: `a` takes `settle(a's tree, b's tree)` (a fast-forward when
 *    that is b's tree and a's head is an ancestor of b's; a new commit otherwise; nothing when a
 *    keeps its tree and b's head is an ancestor of a's);
 * 2. b's head an ancestor of a's: nothing; a's head an ancestor of b's: fast-forward;
 * 3. otherwise a merge commit of `merge(base, a's tree, b's tree)`.
 */
export class Network {
  readonly dag = new Dag()
  readonly heads: Array<number>
  merges = 0
  conflicts = 0
  /** syncs of heads with the same user commits and different trees that moved a host */
  settled = 0
  /** edit / edit conflicts made one file by a text merge */
  textMerges = 0
  /** each key a text merge took in -> the merged keys it went into */
  readonly mergedInto = new Map<string, Set<string>>()

  constructor(
    hosts: number,
    readonly options: SimOptions = {}
  ) {
    const root = this.dag.add([], new Tree())
    this.heads = Array.from({ length: hosts }, () => root)
  }

  tree(h: number): Tree {
    return this.dag.tree(this.heads[h]!)
  }

  /** Host `h` commits its own edits, made by `edit` on a copy of its tree. */
  edit(h: number, edit: (t: Tree) => void): void {
    const t = this.tree(h).clone()
    edit(t)
    this.commit(h, t)
  }

  /** Host `h` commits `t` as its own edit. */
  commit(h: number, t: Tree): void {
    this.heads[h] = this.dag.add([this.heads[h]!], t, true)
  }

  sync(a: number, b: number): void {
    this.syncFrom(a, this.heads[b]!)
  }

  /** A sync of host `a` from a commit (a peer's head as it was when it was fetched). */
  syncFrom(a: number, hb: number): void {
    const { dag, heads } = this
    const ha = heads[a]!
    if (ha === hb) return
    const [ta, tb] = [dag.tree(ha), dag.tree(hb)]
    if (this.options.settle !== false && dag.sameUserCommits(ha, hb)) {
      if (compareTrees(ta, tb) === 0) {
        if (dag.isAncestor(ha, hb)) heads[a] = hb
        return
      }
      const t = settle(ta, tb)
      if (t === tb) this.settled++
      if (t === tb && dag.isAncestor(ha, hb)) heads[a] = hb
      else if (!(t === ta && dag.isAncestor(hb, ha))) heads[a] = dag.add(dag.isAncestor(hb, ha) ? [ha] : [ha, hb], t)
      return
    }
    if (dag.isAncestor(hb, ha)) return
    if (dag.isAncestor(ha, hb)) {
      heads[a] = hb
      return
    }
    const base = dag.mergeBase(ha, hb, this.options.base ?? "recursive", this.options.merge)
    const { result: m, first } = this.mergeWithTexts(a, ha, dag.tree(base), ta, tb)
    this.merges++
    this.conflicts += m.conflicts.length
    heads[a] = dag.add([first, hb], m.tree)
  }

  /**
   * The merge, and the first parent of its commit: with text merges (effects/merging.ts), the
   * edit / edit conflicts whose three texts merge cleanly are merged again with those texts, and the
   * merged versions get a commit of their own on `ha` (not a user commit) below the merge commit.
   */
  private mergeWithTexts(a: number, ha: number, b: Tree, o: Tree, t: Tree): { result: MergeResult; first: number } {
    const plain = merge(b, o, t, this.options.merge)
    const text = this.options.noTextOn?.includes(a) ? undefined : this.options.text
    if (!text || plain.conflicts.length === 0) return { result: plain, first: ha }
    const textMerged = new Map<string, Content>()
    const edits: Array<[string, FileNode, FileNode, FileNode]> = []
    for (const p of new Set(plain.conflicts.map((c) => c.path))) {
      const [x, y, z] = [b.get(p), o.get(p), t.get(p)]
      if (x?.type !== "file" || y?.type !== "file" || z?.type !== "file") continue
      if (new Set([x, y, z].map((n) => contentId(n.content))).size !== 3) continue
      const texts = [x, y, z].map((n) => (n.content.kind === "key" ? text.textOf(n.content.key) : undefined))
      if (texts.some((s) => s === undefined || !isMergeableText(s))) continue
      edits.push([p, x, y, z])
      const r = mergeTexts(texts[0]!, texts[1]!, texts[2]!)
      if (r._tag !== "Merged") continue
      textMerged.set(textMergeKey(x.content, y.content, z.content), { kind: "key", key: text.keyOf(r.text, p) })
    }
    if (textMerged.size === 0) return { result: plain, first: ha }
    const result = merge(b, o, t, { ...this.options.merge, textMerged })
    const named = o.clone()
    for (const [p, x, y, z] of edits) {
      const n = result.tree.get(p)
      if (n?.type !== "file" || [x, y, z].some((s) => contentId(s.content) === contentId(n.content))) continue
      named.set(p, n)
      this.textMerges++
      for (const side of [y, z]) this.mergedInto.set(contentId(side.content), new Set([...(this.mergedInto.get(contentId(side.content)) ?? []), contentId(n.content)]))
    }
    return { result, first: this.dag.add([ha], named) }
  }

  /** Every host syncs from every other host once, in the order `order` gives. */
  round(order: ReadonlyArray<number> = []): void {
    for (const [a, b] of orderedPairs(this.heads.length, order)) this.sync(a, b)
  }
}

/** Runs a schedule's offline edits and syncs (not the final rounds). */
export const simulate = (s: Schedule, options: SimOptions = {}): SimResult => {
  const net = new Network(s.hosts, options)
  let counter = 0
  const texts = options.text instanceof SimTexts ? options.text : undefined
  const freshKey = () => {
    const key = `SHA256E-s1--${hex64(counter++)}`
    texts?.fresh(key)
    return key
  }
  const r: SimResult = Object.assign(net, { written: new Set<string>(), removed: new Set<string>() })
  for (const step of s.steps) {
    const h = step.host % s.hosts
    if (step.kind === "sync") {
      const p = step.peer % s.hosts
      if (p !== h) net.sync(h, p)
      continue
    }
    const t = net.tree(h).clone()
    let changed = false
    for (const tpl of step.ops) {
      const op = resolveOp(t, tpl, freshKey, texts)
      if (!op) continue
      const before = keysOf(t)
      if (applyInPlace(t, op, 1_700_000_000_000 + tpl.time * 1000, UUIDS[h]) !== undefined) continue
      changed = true
      if (op.op === "write" && op.content.kind === "key") r.written.add(op.content.key)
      const after = keysOf(t)
      for (const [k, n] of before) if ((after.get(k) ?? 0) < n) r.removed.add(k)
    }
    if (changed) net.commit(h, t)
  }
  return r
}

// ---------------------------------------------------------------------------------------------
// Generators

const opKinds: ReadonlyArray<[OpKind, number]> = [
  ["write", 5],
  ["edit", 5],
  ["edit-line", 4],
  ["mkdir", 3],
  ["rename", 3],
  ["move-over", 1],
  ["unlink", 2],
  ["rmdir", 1],
  ["chmod", 2],
  ["touch", 1],
  ["drop-copy", 2],
  ["take-copy", 2]
]

/** Mostly single-line edits of few files: the schedules text merges are tested with. */
const textOpKinds: ReadonlyArray<[OpKind, number]> = opKinds.map(([k, w]) => [k, k === "edit-line" ? 20 : k === "write" ? 3 : w])

const opTemplateOf = (kinds: ReadonlyArray<[OpKind, number]>): fc.Arbitrary<OpTemplate> =>
  fc.record({
    kind: fc.oneof(...kinds.map(([k, weight]) => ({ weight, arbitrary: fc.constant(k) }))),
    i: fc.nat(20),
    j: fc.nat(20),
    name: fc.nat(3),
    exec: fc.boolean(),
    time: fc.nat(3)
  })

const stepOf = (kinds: ReadonlyArray<[OpKind, number]>): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("edit" as const), host: fc.nat(4), ops: fc.array(opTemplateOf(kinds), { minLength: 1, maxLength: 6, size: "medium" }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("sync" as const), host: fc.nat(4), peer: fc.nat(4) }) }
  )

const scheduleOf = (kinds: ReadonlyArray<[OpKind, number]>): fc.Arbitrary<Schedule> =>
  fc.record({
    hosts: fc.integer({ min: 3, max: 5 }),
    steps: fc.array(stepOf(kinds), { minLength: 6, maxLength: 40, size: "medium" }),
    finalOrder: fc.array(fc.nat(100), { minLength: 20, maxLength: 20 })
  })

export const schedule: fc.Arbitrary<Schedule> = scheduleOf(opKinds)
export const textSchedule: fc.Arbitrary<Schedule> = scheduleOf(textOpKinds)
