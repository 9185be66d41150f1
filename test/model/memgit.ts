/**
 * git in memory, for the model-based test: commits of stored trees (domain/storage.ts entries, read
 * back with the same `treeFromStored` the live `loadTree` feeds), refs, and remotes that are other
 * in-memory repositories of one `MemNetwork` (fetch and push copy commits and move refs as git's
 * default refspecs do; a push that is not a fast-forward is refused, ref by ref).
 *
 * Ids are content hashes as in git, so two hosts that write the same commit agree on its id.
 */
import { createHash } from "node:crypto"
import { promises as fs } from "node:fs"
import type { Commit } from "../../src/domain/replayplan.js"
import { type LoadedTree, treeFromStored } from "../../src/domain/storage.js"
import type { GitPort, LoggedChange, PeerExchange } from "../../src/effects/ports.js"

interface Entry {
  readonly mode: string
  readonly oid: string
}

export interface MemCommit {
  readonly oid: string
  readonly parents: ReadonlyArray<string>
  readonly entries: ReadonlyMap<string, Entry>
  /** milliseconds, as the Sharebox-Time trailer keeps it */
  readonly time: number
  readonly host: string
  readonly settle: boolean
  /** the order commits were made in (what `git log`'s date order comes to here) */
  readonly made: number
}

const sha1 = (s: string | Buffer): string => createHash("sha1").update(s).digest("hex")

/** Objects are shared by every repository of a network (ids are hashes); what a repository has is its own. */
export class MemNetwork {
  readonly commits = new Map<string, MemCommit>()
  readonly blobs = new Map<string, Buffer>()
  readonly repos = new Map<string, MemRepo>()
  private made = 0

  repo(name: string): MemRepo {
    let r = this.repos.get(name)
    if (!r) this.repos.set(name, (r = new MemRepo(name, this)))
    return r
  }

  blob(data: string): string {
    const buf = Buffer.from(data, "utf8")
    const oid = sha1(Buffer.concat([Buffer.from(`blob ${buf.length}\0`), buf]))
    this.blobs.set(oid, buf)
    return oid
  }

  addCommit(c: Omit<MemCommit, "oid" | "made">): string {
    const oid = sha1(JSON.stringify([c.parents, [...c.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), c.time, c.host, c.settle]))
    if (!this.commits.has(oid)) this.commits.set(oid, { ...c, oid, made: this.made++ })
    return oid
  }

  commit(oid: string): MemCommit {
    const c = this.commits.get(oid)
    if (!c) throw new Error(`no commit ${oid}`)
    return c
  }

  /** `oid` and all its ancestors. */
  ancestors(oid: string): Set<string> {
    const seen = new Set<string>()
    const todo = [oid]
    while (todo.length) {
      const c = todo.pop()!
      if (seen.has(c)) continue
      seen.add(c)
      todo.push(...this.commit(c).parents)
    }
    return seen
  }
}

export class MemRepo {
  readonly refs = new Map<string, string>()
  /** the commits this repository holds */
  readonly has = new Set<string>()
  /** names of the repositories it has as git remotes */
  remotes: Array<string> = []
  /** remotes that cannot be reached now */
  readonly unreachable = new Set<string>()

  constructor(
    readonly name: string,
    readonly net: MemNetwork
  ) {}

  /** Takes a commit and its ancestors from the network's objects. */
  receive(oid: string): void {
    for (const c of this.net.ancestors(oid)) this.has.add(c)
  }

  resolve(rev: string): string | undefined {
    if (this.has.has(rev)) return rev
    for (const name of [rev, `refs/heads/${rev}`, `refs/remotes/${rev}`]) {
      const oid = this.refs.get(name)
      if (oid) return oid
    }
    return undefined
  }
}

const refused = (what: string): never => {
  throw new Error(`in-memory git: ${what}`)
}

/** The GitPort of `repo` (branch `main`). */
export const memGit = (repo: MemRepo, branch = "main"): GitPort => {
  const net = repo.net
  const commitOf = (rev: string) => net.commit(repo.resolve(rev) ?? refused(`unknown revision ${rev}`))
  const isAncestor = (a: string, b: string) => net.ancestors(b).has(a)
  const exchange = (code: number, stderr = ""): PeerExchange => ({ code, stderr })
  return {
    headOid: async () => repo.refs.get(`refs/heads/${branch}`),
    branch: async () => branch,
    revParse: async (rev) => repo.resolve(rev),
    commitTime: async (oid) => Math.floor(commitOf(oid).time / 1000) * 1000,
    async loadTree(commit): Promise<LoadedTree> {
      if (!commit) return treeFromStored([], 0)
      const c = commitOf(commit)
      const raw = [...c.entries].map(([path, e]) => {
        const data = net.blobs.get(e.oid)!
        return { path, mode: e.mode, oid: e.oid, size: data.length, data: data.toString("utf8") }
      })
      return treeFromStored(raw, Math.floor(c.time / 1000) * 1000)
    },
    async writeCommits(commits: ReadonlyArray<Commit>, parent, ref) {
      let tip = parent
      for (const c of commits) {
        const entries = new Map(tip ? commitOf(tip).entries : [])
        for (const ch of c.changes) {
          if (ch._tag === "Delete") {
            for (const p of [...entries.keys()]) if (p === ch.path || p.startsWith(ch.path + "/")) entries.delete(p)
          } else if ("oid" in ch.entry) entries.set(ch.entry.path, { mode: ch.entry.mode, oid: ch.entry.oid })
          else entries.set(ch.entry.path, { mode: ch.entry.mode, oid: net.blob(ch.entry.data) })
        }
        const parents = [...(tip ? [tip] : []), ...(c.merge ? [c.merge] : [])]
        tip = net.addCommit({ parents, entries, time: c.time, host: c.host, settle: (c.trailers ?? []).includes("Sharebox-Settle: yes") })
        repo.has.add(tip)
      }
      if (!tip) return refused("no commits to write")
      // fast-import moves a ref only forward
      const old = repo.refs.get(ref)
      if (old && !isAncestor(old, tip)) refused(`not updating ${ref}: ${tip} does not contain ${old}`)
      repo.refs.set(ref, tip)
      return tip
    },
    async firstParents(tip, since) {
      const out: Array<string> = []
      for (let c: string | undefined = tip; c && c !== since; c = net.commit(c).parents[0]) out.push(c)
      return out.reverse()
    },
    async firstParentTimes(tip) {
      const out: Array<{ commit: string; time: number }> = []
      for (let c: string | undefined = tip; c; c = net.commit(c).parents[0]) out.push({ commit: c, time: Math.floor(net.commit(c).time / 1000) * 1000 })
      return out.reverse()
    },
    async updateRef(ref, oid, expected) {
      if (expected !== undefined && repo.refs.get(ref) !== expected) refused(`${ref} is not at ${expected}`)
      repo.refs.set(ref, oid)
    },
    async deleteRef(ref) {
      repo.refs.delete(ref)
    },
    isAncestor: async (a, b) => isAncestor(a, b),
    async mergeBases(a, b) {
      const inB = net.ancestors(b)
      const common = [...net.ancestors(a)].filter((c) => inB.has(c))
      return common.filter((c) => !common.some((d) => d !== c && isAncestor(c, d))).sort()
    },
    async commitsApart(a, b) {
      const [x, y] = [net.ancestors(a), net.ancestors(b)]
      const apart = [...x].filter((c) => !y.has(c)).concat([...y].filter((c) => !x.has(c)))
      return apart.map((oid) => net.commit(oid)).filter((c) => c.parents.length < 2).map((c) => ({ oid: c.oid, settle: c.settle }))
    },
    countCommits: async (head) => net.ancestors(head).size,
    async notOnRemotes(head) {
      const shared = new Set<string>()
      for (const [ref, oid] of repo.refs) if (ref.startsWith("refs/remotes/")) for (const c of net.ancestors(oid)) shared.add(c)
      return [...net.ancestors(head)].filter((c) => !shared.has(c))
    },
    forEachRef: async (prefix) => [...repo.refs.keys()].filter((r) => r.startsWith(prefix)).sort(),
    remotes: async () => repo.remotes.map((name) => ({ name, url: `mem://${name}` })),
    async fetch(remote) {
      const peer = net.repos.get(remote)
      if (!peer || repo.unreachable.has(remote)) return exchange(128, `fatal: could not read from remote repository ${remote}`)
      for (const [ref, oid] of peer.refs) {
        if (!ref.startsWith("refs/heads/")) continue
        repo.receive(oid)
        repo.refs.set(`refs/remotes/${remote}/${ref.slice("refs/heads/".length)}`, oid)
      }
      return exchange(0)
    },
    async push(remote, refspecs) {
      const peer = net.repos.get(remote)
      if (!peer || repo.unreachable.has(remote)) return exchange(128, `fatal: could not read from remote repository ${remote}`)
      let code = 0
      let stderr = ""
      for (const spec of refspecs) {
        const [src, dst] = spec.split(":") as [string, string]
        // git-annex's branch is not kept here: the in-memory annex knows every location at once
        if (src === "git-annex") continue
        const oid = repo.resolve(src)
        if (!oid) return exchange(1, `error: src refspec ${src} does not match any`)
        const to = `refs/heads/${dst}`
        const old = peer.refs.get(to)
        peer.receive(oid)
        if (old && !isAncestor(old, oid)) {
          code = 1
          stderr = ` ! [rejected] ${src} -> ${dst} (non-fast-forward)`
          continue
        }
        peer.refs.set(to, oid)
      }
      return exchange(code, stderr)
    },
    checkout: async () => {},
    indexIsAt: async () => true,
    workTreeChanged: async () => false,
    resetHard: async () => {},
    async changeLog(head) {
      const commits = [...net.ancestors(head)].map((oid) => net.commit(oid)).filter((c) => c.parents.length < 2)
      commits.sort((a, b) => a.made - b.made)
      const out: Array<LoggedChange> = []
      for (const c of commits) {
        const before = c.parents[0] ? net.commit(c.parents[0]).entries : new Map<string, Entry>()
        const paths = new Set([...before.keys(), ...c.entries.keys()])
        for (const path of [...paths].sort()) {
          const [a, b] = [before.get(path), c.entries.get(path)]
          if (a?.oid === b?.oid && a?.mode === b?.mode) continue
          out.push({ commit: c.oid, time: c.time, host: c.host, path, mode: b?.mode ?? "000000", oid: b?.oid })
        }
      }
      return out
    },
    // every commit of the model is a sharebox host's
    async plainChangesSince() {
      return []
    },
    async blobSizes(oids) {
      return new Map(oids.flatMap((o) => (net.blobs.has(o) ? [[o, net.blobs.get(o)!.length] as const] : [])))
    },
    async readBlobs(oids) {
      return new Map(oids.flatMap((o) => (net.blobs.has(o) ? [[o, net.blobs.get(o)!] as const] : [])))
    },
    async blobToFile(oid, file) {
      await fs.writeFile(file, net.blobs.get(oid) ?? refused(`no blob ${oid}`), { mode: 0o600 })
    }
  }
}
