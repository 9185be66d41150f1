/**
 * Sync: replay, fetch every peer, merge what they have (and what they pushed here), push, then the
 * content policy. Also what a person is told of it: the last sync's report, and each new conflict
 * copy once (through notifycmd).
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer } from "effect"
import { type Conflict, openConflicts } from "../domain/merge.js"
import { peerBranches, pushedBranches } from "../domain/peerbranch.js"
import { printable } from "../domain/printable.js"
import { classifyPeerFailure } from "../domain/peers.js"
import { ContentPolicy, type ContentPolicyShape } from "./contentpolicy.js"
import { askDaemon } from "./control.js"
import { writeAtomic } from "./durable.js"
import { peerEnv, sharedConnections } from "./gitenv.js"
import { HostConfig, type HostOptions, Repo } from "./hostconfig.js"
import { Merging, type Merger } from "./merging.js"
import { Presence, type PresenceCache } from "./presence.js"
import { Recovery } from "./recovery.js"
import { Replay, type Replayer } from "./replay.js"
import type { SyncReport } from "./results.js"
import { Serial, type SerialWork } from "./serial.js"
import { enableSpecialRemotes } from "./specialremotes.js"
import { saveSnapshot } from "./treecache.js"
import { withoutProgress } from "./progress.js"
import { ViewStore, type ViewState } from "./viewstore.js"
import type { Tree } from "../domain/tree.js"

/** A SyncReport while a sync fills it in. */
type SyncReporting = { -readonly [K in keyof SyncReport]-?: NonNullable<SyncReport[K]> extends ReadonlyArray<infer E> ? Array<E> : SyncReport[K] }

/**
 * 1 when a person must act (a peer's tree could not be chosen, a host key or key was refused, a push
 * rejected, the content policy failed), 75 when a peer was only unreachable (try again later), else 0.
 */
export const syncExitCode = (r: Pick<SyncReport, "unreachable" | "unmerged" | "failed">): number =>
  r.unmerged?.length || r.failed?.length ? 1 : r.unreachable.length ? 75 : 0

const isLocalUrl = (url: string): boolean => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+:/.test(url)

export class Syncer {
  lastSync: { time: number; report: SyncReport } | undefined
  readonly conflicts: Array<Conflict> = []

  constructor(
    private readonly repo: Repo["Type"],
    private readonly opts: HostOptions,
    private readonly views: ViewState,
    private readonly presence: PresenceCache,
    private readonly replayer: Replayer,
    private readonly merger: Merger,
    private readonly content: ContentPolicyShape,
    private readonly serial: SerialWork,
    /** the tree just read from git, for the next mount to read from the state folder instead */
    private unsavedSnapshot: { readonly commit: string; readonly tree: Tree } | undefined,
    lastSync: { time: number; report: SyncReport } | undefined
  ) {
    this.lastSync = lastSync
  }

  /** `ssh`: the GIT_SSH_COMMAND of the `sharebox sync` that asked for it, when it set one. */
  sync(progress: (line: string) => void = () => {}, ssh?: string): Promise<SyncReport> {
    const { annex } = this.repo
    return this.replayer.replay({ report: progress }).then(({ kept }) =>
      this.serial.exclusive(async () => {
        // one ssh connection per peer for the whole sync (fetch, content, push), and git-annex's
        // processes started meanwhile reach peers through the command this sync was run with
        const share = await sharedConnections()
        try {
          return await annex.withPeers({ ssh, share: share.dir }, () => this.syncWith(progress, ssh, share.dir, kept))
        } finally {
          await share.end()
        }
      })
    )
  }

  /**
   * A sync's work, with the serial lock held: `share`, the folder of its shared ssh connections;
   * `kept`, the versions its replay kept as conflict copies (changed elsewhere while written here).
   */
  private async syncWith(progress: (line: string) => void, ssh: string | undefined, share: string, kept: ReadonlyArray<Conflict>): Promise<SyncReport> {
    const { git, gitdir, branch, annex, layout } = this.repo
    // the replay's kept versions are conflicts like a merge's
    const report: SyncReporting = { reached: [], unreachable: [], unmerged: [], failed: [], conflicts: [...kept], merged: 0 }
    for (const c of kept) progress(`conflict: ${c.path} (other version kept as ${c.copy})`)
    const env = peerEnv(gitdir, { ssh, share })
    /** A peer that could not be talked to: unreachable for now, or in need of a person. */
    const failedWith = (name: string, output: string, fallback: string, what = "") => {
      const f = classifyPeerFailure(output, fallback)
      ;(f.kind === "needs-person" ? report.failed : report.unreachable).push({ name, reason: what + f.reason })
      return f
    }
    // Every peer at once, each with its own bound: two peers that do not answer cost one
    // timeout, not two. Each fetch writes only its own remote's refs (and no FETCH_HEAD).
    const remotes = await git.remotes()
    const fetched = await Promise.all(remotes.map((r) => this.fetchPeer(r, env)))
    remotes.forEach((r, i) => {
      const f = fetched[i]!
      if (f === "reached") report.reached.push(r.name)
      else if (f.unreachable !== undefined) report.unreachable.push({ name: r.name, reason: f.unreachable })
      else failedWith(r.name, f.output, f.fallback)
    })
    for (const u of report.unreachable) progress(`peer ${printable(u.name)} unreachable: ${printable(u.reason)}`)
    for (const u of report.failed) progress(`peer ${printable(u.name)} needs attention: ${printable(u.reason)}`)
    const candidates: Array<[string, string]> = (await this.pushedRefs()).map((r) => [r.slice("refs/heads/".length), r])
    const pushTo = new Map<string, string>()
    for (const name of report.reached) {
      const prefix = `refs/remotes/${name}/`
      const refs = await git.forEachRef(prefix)
      const branches = peerBranches(branch, refs.map((r) => r.slice(prefix.length)))
      if (branches.problem) {
        report.unmerged.push({ name, reason: branches.problem })
        progress(`peer ${printable(name)}: ${printable(branches.problem)}`)
      }
      for (const b of branches.merge) candidates.push([name, prefix + b])
      pushTo.set(name, branches.pushTo)
    }
    for (const [name, ref] of candidates) {
      const oid = await git.revParse(ref)
      if (!oid) continue
      const conflicts = await this.merger.mergeHead(name, oid)
      if (conflicts) {
        report.merged++
        report.conflicts.push(...conflicts)
        for (const c of conflicts) progress(`conflict: ${c.path} (other version kept as ${c.copy})`)
      }
    }
    this.conflicts.push(...report.conflicts)
    // merges the peers' git-annex branches (location logs)
    await annex.commitBranch()
    await enableSpecialRemotes(annex, gitdir, layout.state, progress, this.opts.peerTimeout).catch((e) => progress(`special remotes: ${e?.message ?? e}`))
    if (this.views.head) {
      // pushed to all at once, as fetched; told in the peers' order
      const pushes = await Promise.all(
        report.reached.map((name) =>
          git
            .push(name, [`${branch}:synced/${pushTo.get(name) ?? branch}`, "git-annex:synced/git-annex"], {
              env,
              timeoutSeconds: this.opts.peerTimeout,
              signal: this.serial.signal
            })
            .catch((e) => ({ code: 1, stderr: String(e?.message ?? e) }))
        )
      )
      report.reached.forEach((name, i) => {
        const p = pushes[i]!
        if (p.code === 0) return
        const f = failedWith(name, p.stderr, `git push exited ${p.code}`, "push: ")
        progress(`push to ${printable(name)} ${f.kind === "needs-person" ? "refused" : "incomplete"}: ${printable(f.reason)}`)
      })
    }
    this.views.recompute()
    await this.notifyNew().catch((e) => progress(`notify: ${e?.message ?? e}`))
    await this.content.run(progress).then(
      (fetched) => {
        if (fetched) return
        // files not fetched (each said above): for now when a peer was not reached, else a person's matter
        const reason = "content policy: some wanted content could not be fetched"
        ;(report.unreachable.length ? report.unreachable : report.failed).push({ name: "content policy", reason })
      },
      (e) => {
        const reason = String(e?.message ?? e)
        report.failed.push({ name: "content policy", reason })
        progress(`content policy: ${reason}`)
      }
    )
    this.lastSync = { time: Date.now(), report }
    await writeAtomic(layout.lastSync, JSON.stringify(this.lastSync))
    await this.presence.saveReads()
    await this.replayer.pruneReplayed()
    return report
  }

  /**
   * Fetches one peer (a peer mounted on this machine first writes back what it has): reached, not
   * there or stopping (`unreachable`), or failed with git's output to class.
   */
  private async fetchPeer(
    r: { readonly name: string; readonly url: string },
    env: NodeJS.ProcessEnv
  ): Promise<"reached" | { readonly unreachable: string } | { readonly unreachable?: undefined; readonly output: string; readonly fallback: string }> {
    const { git, gitdir } = this.repo
    if (isLocalUrl(r.url)) {
      const dir = path.resolve(gitdir, r.url.replace(/^file:\/\//, ""))
      try {
        await fs.access(dir)
      } catch {
        return { unreachable: `${dir} is not there` }
      }
      // A peer mounted on this machine: have it write back what it has before we fetch.
      await askDaemon(dir, { _tag: "replay", dryRun: false }, 10).catch(() => undefined)
    }
    try {
      const f = await git.fetch(r.name, { env, timeoutSeconds: this.opts.peerTimeout, signal: this.serial.signal })
      if (f.code === 0) return "reached"
      if (this.serial.signal.aborted) return { unreachable: "not reached: sharebox is stopping" }
      return { output: f.stderr, fallback: `git fetch exited ${f.code}` }
    } catch (e: any) {
      return { output: e?.message ?? String(e), fallback: "git fetch failed" }
    }
  }

  /**
   * Merges what peers pushed into this gitdir (`synced/BRANCH`), without any network: how a push from
   * a peer shows in the mount before the next sync here.
   */
  mergePushed(): Promise<ReadonlyArray<Conflict> | undefined> {
    return this.replayer.replay().then(() =>
      this.serial.exclusive(async () => {
        let conflicts: Array<Conflict> | undefined
        for (const ref of await this.pushedRefs()) {
          const oid = await this.repo.git.revParse(ref)
          const c = oid && (await this.merger.mergeHead(ref.slice("refs/heads/".length), oid))
          if (c) (conflicts ??= []).push(...c)
        }
        if (conflicts) {
          this.conflicts.push(...conflicts)
          await this.repo.annex.commitBranch()
          this.views.recompute()
          await this.notifyNew().catch((e) => this.opts.warn(`notify: ${e?.message ?? e}`))
        }
        return conflicts
      })
    )
  }

  /** What peers pushed into this gitdir (`refs/heads/synced/X`, X any branch of theirs), ours first. */
  async pushedRefs(): Promise<Array<string>> {
    const prefix = "refs/heads/synced/"
    const refs = await this.repo.git.forEachRef(prefix)
    return pushedBranches(this.repo.branch, refs.map((r) => r.slice(prefix.length))).map((b) => prefix + b)
  }

  /** Content policy run by the daemon at mount time (getall, pins); a tree snapshot if none was. */
  async afterMount(): Promise<void> {
    const snap = this.unsavedSnapshot
    this.unsavedSnapshot = undefined
    // only ever a tree as git gave it, never one this host derived in memory
    if (snap) await saveSnapshot(this.repo.layout.treeSnapshot, snap.commit, snap.tree).catch((e) => this.opts.warn(`tree snapshot: ${e?.message ?? e}`))
    await this.serial.exclusive(() => this.content.run(withoutProgress(this.opts.warn)))
  }

  /** Notifies once per conflict copy ever seen here (remembered across restarts). */
  private async notifyNew(): Promise<void> {
    const file = path.join(this.repo.layout.state, "notified.json")
    const seen = new Set<string>(await fs.readFile(file, "utf8").then((t) => JSON.parse(t) as Array<string>, () => []))
    let changed = false
    for (const c of this.openConflicts()) {
      if (seen.has(c.copy)) continue
      seen.add(c.copy)
      changed = true
      await this.opts.notify(`sharebox: conflict on ${c.path}; the other version is kept as ${c.copy}`)
    }
    if (changed) await writeAtomic(file, JSON.stringify([...seen]))
  }

  /** Conflict copies in the tree: neither side chosen yet. Every host derives the same list. */
  openConflicts(): Array<Conflict> {
    return openConflicts(this.views.view)
  }
}

export class Sync extends Context.Tag("sharebox/Sync")<Sync, Syncer>() {
  static layer = Layer.effect(
    Sync,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      const repo = yield* Repo
      const recovered = yield* Recovery
      const lastSync = yield* Effect.promise(() => fs.readFile(repo.layout.lastSync, "utf8").then((t) => JSON.parse(t), () => undefined))
      return new Syncer(
        repo,
        opts,
        yield* ViewStore,
        yield* Presence,
        yield* Replay,
        yield* Merging,
        yield* ContentPolicy,
        yield* Serial,
        recovered.unsavedSnapshot,
        lastSync
      )
    })
  )
}
