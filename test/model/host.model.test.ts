/**
 * Model-based test of a host's services (ViewStore, Staging, Replay, Merging, Sync, Recovery...)
 * over in-memory git, git-annex and journal (memhost.ts), on 2-3 hosts that are each other's
 * remotes. Commands: writes (as the FUSE layer makes them: a Staging session), mkdir, rmdir,
 * unlink, rename and chmod (`ViewStore.record`), replay, sync, a peer's push noticed, a clean
 * restart and a crash (the process dropped without its orderly end, its disk kept).
 *
 * The model is the pure core: per host, the committed tree and the pending events, whose view is
 * `reduceAll`; a replay commits what `planCommits` would; a sync fetches, merges with the pure
 * `merge` (sim.ts `Network`: fast-forward, settle, three-way over the merge base) and pushes as
 * the real sync does. After every command each host's view and committed tree are compared with
 * the model's; at the end every host syncs until quiet, and all must hold the same tree.
 *
 * SHAREBOX_MODEL_RUNS runs (default 10, about 3 s; 30 in the full run); on failure fast-check prints the seed and the
 * shrunk commands, the first value being the number of hosts (a command's host index is taken
 * modulo it); SHAREBOX_MODEL_SEED replays a seed.
 *
 * Not modelled: git-annex's location logs (the in-memory annex knows every copy at once), content
 * fetched on open (writes truncate), files open across a crash, a crash inside a replay or sync,
 * and unreachable peers.
 */
import { createHash } from "node:crypto"
import * as fsSync from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, vi } from "vitest"
import { scaled } from "../integration/harness.js"
import { EVENT_SCHEMA, type Event, type Operation } from "../../src/domain/events.js"
import { sha256Key } from "../../src/domain/key.js"
import { optimise } from "../../src/domain/optimise.js"
import { baseName, parentOf } from "../../src/domain/paths.js"
import { planCommits } from "../../src/domain/replayplan.js"
import { applyInPlace, reduceAll } from "../../src/domain/reduce.js"
import { storedTree } from "../../src/domain/storage.js"
import { type Tree, contentId, dirMode, fileMode, fileModeFields } from "../../src/domain/tree.js"
import { objectPathOf } from "../../src/effects/annex.js"
import { type MemAnnexes } from "./memannex.js"
import { type MemHost, type MemHostDisk, memHostDisk, openMemHost } from "./memhost.js"
import { MemNetwork } from "./memgit.js"
import { Network, UUIDS } from "../property/sim.js"

const RUNS = Number(process.env.SHAREBOX_MODEL_RUNS ?? scaled(10, 30))
const SEED = process.env.SHAREBOX_MODEL_SEED === undefined ? undefined : Number(process.env.SHAREBOX_MODEL_SEED)
const T0 = 1_700_000_000_000
const PATHS = ["a", "b.txt", "d", "d/a", "d/b.txt", "e", "e/c"]
/** the last four: edits of lines apart, which a sync merges (effects/textmerging.ts); the last is their merge */
const TEXTS = ["", "one", "two\n", "three three", "1\n2\n3\n4\n", "one\n2\n3\n4\n", "1\n2\n3\nfour\n", "one\n2\n3\nfour\n"]

const stats = { runs: 0, commands: 0, commits: 0, merges: 0, conflicts: 0, textMerges: 0, settled: 0, crashes: 0, pendingAtCrash: 0 }

/** The clock every service reads (mtimes, commit times): set by each command. */
let clock = T0

const sha = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex")

// ---------------------------------------------------------------------------------------------
// The model

class Model {
  readonly net: Network
  readonly pending: Array<Array<Event>>
  readonly seq: Array<number>
  /** the commit each host's `synced/main` holds (pushed there by peers) */
  readonly pushed: Array<number | undefined>
  /** host -> peer -> branch -> commit, as host's remote-tracking refs have them */
  readonly tracking: Array<Array<Map<string, number>>>

  /** the text of every key written, for the text merges of syncs */
  readonly texts = new Map<string, Uint8Array>()

  constructor(readonly hosts: number, names: ReadonlyMap<string, string>) {
    this.net = new Network(hosts, {
      merge: { hostLabel: (uuid) => names.get(uuid) ?? uuid.slice(0, 8) },
      text: {
        textOf: (key) => this.texts.get(key),
        keyOf: (text, p) => {
          const key = sha256Key(sha(Buffer.from(text)), text.length, baseName(p))
          this.texts.set(key, text)
          return key
        }
      }
    })
    this.pending = Array.from({ length: hosts }, () => [])
    this.seq = Array.from({ length: hosts }, () => 1)
    this.pushed = Array.from({ length: hosts }, () => undefined)
    this.tracking = Array.from({ length: hosts }, () => Array.from({ length: hosts }, () => new Map()))
  }

  /** A host with no commit yet has no branch: the root commit stands for that. */
  head(h: number): number | undefined {
    return this.net.heads[h] === 0 ? undefined : this.net.heads[h]
  }

  base(h: number): Tree {
    return this.net.tree(h)
  }

  view(h: number): Tree {
    return reduceAll(this.base(h), this.pending[h]!).tree
  }

  /** Records `op` if it applies to the view (as ViewStore.record does); true if it did. */
  record(h: number, op: Operation): boolean {
    if (applyInPlace(this.view(h), op, clock) !== undefined) return false
    this.pending[h]!.push({ ...op, v: EVENT_SCHEMA, seq: this.seq[h]!++, host: UUIDS[h]!, time: clock } as Event)
    return true
  }

  replay(h: number): void {
    const raw = this.pending[h]!
    if (raw.length === 0) return
    const { commits, tree } = planCommits(this.base(h), raw, optimise(raw), new Map(), UUIDS[h]!, objectPathOf)
    if (commits.some((c) => c.changes.length > 0)) this.net.commit(h, tree)
    this.pending[h] = []
  }

  mergePushed(h: number): void {
    const p = this.pushed[h]
    if (p !== undefined) this.net.syncFrom(h, p)
  }

  sync(h: number): void {
    this.replay(h)
    const peers = [...Array(this.hosts).keys()].filter((p) => p !== h)
    for (const p of peers) {
      const head = this.head(p)
      if (head !== undefined) this.tracking[h]![p]!.set("main", head)
      const pushed = this.pushed[p]
      if (pushed !== undefined) this.tracking[h]![p]!.set("synced/main", pushed)
    }
    this.mergePushed(h)
    for (const p of peers) for (const b of ["main", "synced/main"]) if (this.tracking[h]![p]!.has(b)) this.net.syncFrom(h, this.tracking[h]![p]!.get(b)!)
    const head = this.head(h)
    if (head === undefined) return
    for (const p of peers) {
      const old = this.pushed[p]
      if (old === undefined || this.net.dag.isAncestor(old, head)) this.pushed[p] = head
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The real hosts

/** Files by content (the key's hash, or the staging file's), mode, mtime; links; folders. */
const shown = (t: Tree, stagingFile: (id: string) => string): Array<string> =>
  [...t.entries()]
    .map(([p, n]) => {
      if (n.type !== "file") return `${p} ${n.type}${n.type === "symlink" ? ` ${n.target}` : ` ${dirMode(n).toString(8)}`}`
      const c = n.content
      const hash = c.kind === "key" ? c.key.split("--")[1]!.slice(0, 64) : c.kind === "staged" ? sha(fsSync.readFileSync(stagingFile(c.id))) : contentId(c)
      return `${p} file ${hash} ${fileMode(n).toString(8)} ${n.mtime}`
    })
    .sort()

const stored = (t: Tree): Array<string> => [...storedTree(t, objectPathOf).values()].map((e) => JSON.stringify(e)).sort()

class World {
  readonly net = new MemNetwork()
  readonly annexes: MemAnnexes = new Map()
  readonly disks: Array<MemHostDisk>
  readonly hosts: Array<MemHost> = []
  readonly warnings: Array<string> = []

  private constructor(
    readonly root: string,
    readonly n: number
  ) {
    this.disks = Array.from({ length: n }, (_, h) => memHostDisk(root, `h${h}`, UUIDS[h]!, this.net, this.annexes))
    for (let h = 0; h < n; h++) this.net.repo(`h${h}`).remotes = this.disks.filter((_, p) => p !== h).map((d) => d.name)
  }

  static async create(n: number): Promise<World> {
    const w = new World(fsSync.mkdtempSync(path.join(os.tmpdir(), "sharebox-model-")), n)
    for (let h = 0; h < n; h++) w.hosts.push(await w.open(h))
    return w
  }

  names(): Map<string, string> {
    return new Map(this.disks.map((d) => [d.uuid, d.name]))
  }

  async open(h: number): Promise<MemHost> {
    const host = await openMemHost(this.disks[h]!, this.net, this.annexes, {
      writeback: false,
      warn: (l) => this.warnings.push(`h${h}: ${l}`),
      log: () => {},
      notify: async () => {}
    })
    await host.syncer.afterMount()
    return host
  }

  async close(): Promise<void> {
    for (const h of this.hosts) await h.close().catch(() => undefined)
    fsSync.rmSync(this.root, { recursive: true, force: true })
  }

  /** Every host's view and committed tree are the model's. */
  check(m: Model): void {
    this.hosts.forEach((host, h) => {
      const file = (id: string) => host.staging.stagingFile(id)
      expect(shown(host.views.view, file), `view of h${h}`).toEqual(shown(m.view(h), file))
      expect(stored(host.views.base), `committed tree of h${h}`).toEqual(stored(m.base(h)))
      expect(host.views.pending.length, `pending events of h${h}`).toBe(m.pending[h]!.length)
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.AsyncCommand<Model, World>

abstract class OnHost implements Cmd {
  constructor(
    readonly host: number,
    readonly slot: number
  ) {}
  check(): boolean {
    return true
  }
  protected h(m: Model): number {
    return this.host % m.hosts
  }
  async run(m: Model, w: World): Promise<void> {
    clock = T0 + this.slot * 1000
    await this.apply(m, w, this.h(m))
    w.check(m)
  }
  abstract apply(m: Model, w: World, h: number): Promise<void>
  abstract toString(): string
}

class Write extends OnHost {
  constructor(host: number, slot: number, readonly path: string, readonly text: string, readonly exec: boolean) {
    super(host, slot)
  }
  async apply(m: Model, w: World, h: number) {
    const view = m.view(h)
    // the FUSE layer answers ENOENT/EISDIR before any session opens
    if (!view.isDir(parentOf(this.path)) || view.isDir(this.path)) return
    const { staging } = w.hosts[h]!
    const s = await staging.openSession(this.path, true, this.exec ? 0o755 : 0o644)
    fsSync.writeSync(s.fd, this.text, 0)
    staging.touchSession(s, Buffer.byteLength(this.text))
    await staging.releaseSession(s)
    const node = view.get(this.path)
    const mode = fileModeFields(node?.type === "file" ? fileMode(node) : this.exec ? 0o755 : 0o644)
    const key = sha256Key(sha(this.text), Buffer.byteLength(this.text), baseName(this.path))
    m.texts.set(key, new Uint8Array(Buffer.from(this.text)))
    m.record(h, { op: "write", path: this.path, content: { kind: "key", key }, ...mode, base: null })
  }
  toString() {
    return `write(h${this.host}, ${this.path}, ${JSON.stringify(this.text)}, ${this.exec ? "+x" : "-x"}) @${this.slot}`
  }
}

class Record extends OnHost {
  constructor(host: number, slot: number, readonly op: Operation) {
    super(host, slot)
  }
  async apply(m: Model, w: World, h: number) {
    const refusal = await w.hosts[h]!.views.record(this.op)
    expect(refusal === undefined, `${this} applies`).toBe(m.record(h, this.op))
  }
  toString() {
    const o = this.op
    return `${o.op}(h${this.host}, ${o.path}${o.op === "rename" ? ` -> ${o.to}` : o.op === "chmod" ? ` ${(o.mode ?? (o.executable ? 0o755 : 0o644)).toString(8)}` : ""}) @${this.slot}`
  }
}

class ReplayCmd extends OnHost {
  async apply(m: Model, w: World, h: number) {
    await w.hosts[h]!.replayer.replay()
    m.replay(h)
  }
  toString() {
    return `replay(h${this.host})`
  }
}

class SyncCmd extends OnHost {
  async apply(m: Model, w: World, h: number) {
    await w.hosts[h]!.syncer.sync()
    m.sync(h)
  }
  toString() {
    return `sync(h${this.host}) @${this.slot}`
  }
}

class MergePushed extends OnHost {
  async apply(m: Model, w: World, h: number) {
    await w.hosts[h]!.syncer.mergePushed()
    m.replay(h)
    m.mergePushed(h)
  }
  toString() {
    return `mergePushed(h${this.host}) @${this.slot}`
  }
}

class Restart extends OnHost {
  constructor(host: number, slot: number, readonly crash: boolean) {
    super(host, slot)
  }
  async apply(_m: Model, w: World, h: number) {
    const old = w.hosts[h]!
    if (this.crash) {
      stats.crashes++
      stats.pendingAtCrash += old.views.pending.length
      old.crash()
    }
    else await old.close()
    w.hosts[h] = await w.open(h)
  }
  toString() {
    return `${this.crash ? "crash" : "restart"}(h${this.host})`
  }
}

const host = fc.nat(2)
const slot = fc.nat(3)
const aPath = fc.constantFrom(...PATHS)

const write = fc.tuple(host, slot, aPath, fc.constantFrom(...TEXTS), fc.boolean()).map(([h, t, p, x, e]) => new Write(h, t, p, x, e))
/** a text of b.txt whose edits of lines apart a sync merges */
const writeText = fc.tuple(host, slot, fc.constantFrom(...TEXTS.slice(4)), fc.boolean()).map(([h, t, x, e]) => new Write(h, t, "b.txt", x, e))
const mkdir = fc.tuple(host, slot, fc.constantFrom("d", "e", "d/e")).map(([h, t, p]) => new Record(h, t, { op: "mkdir", path: p }))
const rename = fc.tuple(host, slot, aPath, aPath).map(([h, t, p, q]) => new Record(h, t, { op: "rename", path: p, to: q }))
const sync = fc.tuple(host, slot).map(([h, t]) => new SyncCmd(h, t))

/** fc.commands picks each arbitrary alike: the user's operations are listed more than once. */
const commands = [
  write,
  write,
  write,
  writeText,
  writeText,
  mkdir,
  rename,
  rename,
  fc.tuple(host, slot, aPath).map(([h, t, p]) => new Record(h, t, { op: "rmdir", path: p })),
  fc.tuple(host, slot, aPath).map(([h, t, p]) => new Record(h, t, { op: "unlink", path: p })),
  // a chmod of a file or a directory: the default modes, and others kept in the markers
  fc
    .tuple(host, slot, aPath, fc.constantFrom(0o644, 0o755, 0o600, 0o700, 0o640, 0o444, 0o1777, 0o711), fc.boolean())
    .map(([h, t, p, m, dir]) => new Record(h, t, { op: "chmod", path: p, executable: (m & 0o100) !== 0, mode: m, ...(dir ? { dir: true as const } : {}) })),
  fc.tuple(host, slot).map(([h, t]) => new ReplayCmd(h, t)),
  sync,
  sync,
  fc.tuple(host, slot).map(([h, t]) => new MergePushed(h, t)),
  fc.tuple(host, slot, fc.boolean()).map(([h, t, c]) => new Restart(h, t, c))
]

/** Every host syncs, round after round, until a round changes nothing; then all hold one tree. */
const converge = async (m: Model, w: World): Promise<void> => {
  for (let round = 0; round < 4; round++) {
    const before = w.hosts.map((h) => h.views.head)
    for (let h = 0; h < m.hosts; h++) await new SyncCmd(h, 3).run(m, w)
    if (round > 0 && w.hosts.every((h, i) => h.views.head === before[i])) break
  }
  const trees = w.hosts.map((h) => stored(h.views.base))
  expect(trees, "every host holds the same tree after syncing until quiet").toEqual(trees.map(() => trees[0]))
}

describe("a host's services over in-memory git, git-annex and journal", () => {
  beforeAll(() => {
    vi.spyOn(Date, "now").mockImplementation(() => clock)
  })
  afterAll(() => {
    vi.restoreAllMocks()
    console.log(
      `host model: ${stats.runs} runs, ${stats.commands} commands; model commits ${stats.commits}, three-way merges ${stats.merges} ` +
        `with ${stats.conflicts} conflict copies and ${stats.textMerges} text merges, settled ${stats.settled}; ${stats.crashes} crashes with ${stats.pendingAtCrash} pending events`
    )
  })

  it.effect("pinned: edits of lines apart on two hosts merge at the sync, in the services as in the model", () =>
    Effect.promise(async () => {
      const w = await World.create(2)
      try {
        const m = new Model(2, w.names())
        const cmds: Array<Cmd> = [
          new Write(0, 0, "b.txt", "1\n2\n3\n4\n", false),
          new SyncCmd(0, 0),
          new SyncCmd(1, 0),
          new Write(0, 1, "b.txt", "one\n2\n3\n4\n", false),
          new Write(1, 2, "b.txt", "1\n2\n3\nfour\n", false),
          new SyncCmd(0, 2),
          new SyncCmd(1, 3)
        ]
        await fc.asyncModelRun(() => ({ model: m, real: w }), cmds)
        await converge(m, w)
        expect(m.net.textMerges).toBe(1)
        const node = w.hosts[0]!.views.base.get("b.txt")
        expect(node?.type === "file" && node.content.kind === "key" ? node.content.key : undefined).toBe(sha256Key(sha("one\n2\n3\nfour\n"), 13, "b.txt"))
      } finally {
        await w.close()
      }
    })
  )

  it.effect(
    `${RUNS} runs: views and committed trees follow the pure reducer and merge through writes, replays, crashes and syncs, and hosts converge`,
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.integer({ min: 2, max: 3 }), fc.commands(commands, { maxCommands: 40, size: "large" }), async (n, cmds) => {
            const w = await World.create(n)
            try {
              const m = new Model(n, w.names())
              await fc.asyncModelRun(() => ({ model: m, real: w }), cmds)
              await converge(m, w)
              stats.runs++
              stats.commands += [...cmds].length
              stats.commits += m.net.dag.commits.length - 1
              stats.merges += m.net.merges
              stats.conflicts += m.net.conflicts
              stats.textMerges += m.net.textMerges
              stats.settled += m.net.settled
            } finally {
              await w.close()
            }
          }),
          { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), verbose: 1 }
        )
      ),
    Math.max(120_000, RUNS * 2_000)
  )
})
