/**
 * The git a host's services use (ports.ts `GitPort`), over a real repository: each method the one
 * git command it always was in the services, argument arrays, paths after `--`.
 */
import { plainTime, plainWriter, shareboxCommitter } from "../domain/plainwriters.js"
import { saneTime } from "../domain/time.js"
import { buildFastImport } from "./fastimport.js"
import type { Git } from "./git.js"
import type { GitPort, LoggedChange } from "./ports.js"

const ZERO = /^0+$/

const lines = (text: string): Array<string> => text.split("\n").filter(Boolean)

/** `settled`: runs a refresh once the repository's long-lived git-annex processes wrote what they hold (Annex.settled). */
export const liveGit = (git: Git, settled: <A>(f: () => Promise<A>) => Promise<A> = (f) => f()): GitPort => ({
  headOid: () => git.headOid(),
  branch: () => git.branch(),
  revParse: (rev) => git.revParse(rev),
  commitTime: (oid) => git.commitTime(oid),
  loadTree: (commit) => git.loadTree(commit),
  async writeCommits(commits, parent, ref) {
    // the branch name only names the default ref, which is always given here
    await git.fastImport(buildFastImport(commits, "", parent, ref))
    return (await git.check(["rev-parse", "--verify", ref])).trim()
  },
  async firstParents(tip, since) {
    return lines(await git.check(["rev-list", "--reverse", "--first-parent", tip, ...(since ? [`^${since}`] : []), "--"]))
  },
  async firstParentTimes(tip) {
    return lines(await git.check(["log", "--first-parent", "--reverse", "--format=%H %ct", tip, "--"])).map((l) => {
      const [commit, ct] = l.split(" ")
      // a peer sets any date: one no Date can hold counts as the epoch
      return { commit: commit!, time: saneTime(Number(ct) * 1000, 0) }
    })
  },
  async updateRef(ref, oid, expected) {
    await git.check(["update-ref", ref, oid, ...(expected ? [expected] : [])])
  },
  async deleteRef(ref) {
    await git.check(["update-ref", "-d", ref])
  },
  isAncestor: (a, b) => git.isAncestor(a, b),
  async mergeBases(a, b) {
    return lines((await git.run(["merge-base", "--all", a, b])).stdout).sort()
  },
  async commitsApart(a, b) {
    const out = await git.check(["log", "--no-merges", "--format=%H%x09%(trailers:key=Sharebox-Settle,valueonly,separator=%x20)", `${a}...${b}`, "--"])
    return out
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => ({ oid: line.split("\t")[0]!, settle: (line.split("\t")[1] ?? "").trim() === "yes" }))
  },
  async countCommits(head) {
    return Number((await git.check(["rev-list", "--count", head, "--"])).trim())
  },
  async notOnRemotes(head) {
    return lines(await git.check(["rev-list", head, "--not", "--remotes", "--"]))
  },
  async forEachRef(prefix) {
    return lines(await git.check(["for-each-ref", "--format=%(refname)", prefix]))
  },
  remotes: () => git.remotes(),
  // several peers are fetched at once: FETCH_HEAD, which nothing reads, would be written by each
  fetch: (remote, opts) => git.run(["fetch", "--quiet", "--no-write-fetch-head", remote], opts),
  push: (remote, refspecs, opts) => git.run(["push", "--quiet", remote, ...refspecs], opts),
  checkout: (from, to) => git.checkout(from, to, settled),
  async indexIsAt(commit) {
    return (await git.run(["diff-index", "--cached", "--quiet", commit, "--"])).code === 0
  },
  async workTreeChanged() {
    return (await git.check(["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"])).trim() !== ""
  },
  async resetHard(commit) {
    await git.checkIndex(["reset", "-q", "--hard", commit])
  },
  changeLog: (head) => changeLog(git, [head]),
  plainChangesSince: (tip, since) => plainChangesSince(git, tip, since),
  blobSizes: (oids) => git.blobSizes(oids),
  readBlobs: (oids) => git.readBlobs(oids),
  blobToFile: (oid, file) => git.blobToFile(oid, file)
})

/**
 * `git log --raw` of every non-merge commit of `revs`, oldest first, read into changes. A commit
 * sharebox did not make (a plain git-annex peer's) has no marker line of its own: its writer and time
 * are its author's (domain/plainwriters.ts).
 */
const changeLog = async (git: Git, revs: ReadonlyArray<string>): Promise<Array<LoggedChange>> => {
  const format = "%x01%H %ct %at %(trailers:key=Sharebox-Time,valueonly,separator=%x20) %(trailers:key=Sharebox-Writers,valueonly,separator=%x20)%x02%ce%x02%an"
  const out = await git.check(["log", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-merges", "--reverse", `--format=${format}`, ...revs, "--"])
  const changes: Array<LoggedChange> = []
  // a record starts at \x01 and its commit id: an author's name or a trailer may hold a \x01 too
  for (const chunk of out.split(/\x01(?=[0-9a-f]{40,64} )/)) {
    if (!chunk) continue
    const nul = chunk.indexOf("\0")
    const [fixed = "", email = "", ...author] = (nul < 0 ? chunk : chunk.slice(0, nul)).split("\x02")
    const [commit, ct, at, ms, ...named] = fixed.trim().split(" ")
    const sharebox = shareboxCommitter(email.trim())
    // milliseconds from the commit's Sharebox-Time trailer when it is there and agrees with git's time
    // (a peer sets any date: one no Date can hold counts as the epoch)
    const time =
      sharebox === undefined
        ? plainTime(Number(at), Number(ct))
        : saneTime(ms && /^\d+$/.test(ms) && Math.floor(Number(ms) / 1000) === Number(ct) ? Number(ms) : Number(ct) * 1000, 0)
    const host = sharebox ?? plainWriter(author.join("\x02"))
    const writers = sharebox === undefined ? undefined : writersOf(host, named)
    const tokens = nul < 0 ? [] : chunk.slice(nul + 1).split("\0")
    for (let i = 0; i + 1 < tokens.length; i += 2) {
      const meta = tokens[i]!.trim()
      if (!meta.startsWith(":")) continue
      const [, mode, , oid] = meta.slice(1).split(/\s+/)
      const change = { commit: commit!, time, host, path: tokens[i + 1]!, mode: mode!, oid: oid && !ZERO.test(oid) ? oid : undefined }
      changes.push(writers ? { ...change, writers } : sharebox === undefined ? { ...change, plain: true } : change)
    }
  }
  return changes
}

/**
 * The changes of the commits `tip` has and `since` lacks, oldest first, when one of them is a plain
 * commit; none otherwise (a fleet of sharebox hosts only pays one `git log` without `--raw`).
 */
const plainChangesSince = async (git: Git, tip: string, since: string | undefined): Promise<Array<LoggedChange>> => {
  const revs = since ? [tip, `^${since}`] : [tip]
  const committers = await git.check(["log", "--no-merges", "--format=%ce", ...revs, "--"])
  if (lines(committers).every((e) => shareboxCommitter(e) !== undefined)) return []
  return changeLog(git, revs)
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The writers a text merge's commit names (`Sharebox-Writers`, effects/merging.ts): taken only when
 * they are two git-annex UUIDs, one of them the committer's. Anyone may write a trailer, as anyone
 * may write a committer's address: this names writers, it grants nothing.
 */
const writersOf = (host: string | undefined, named: ReadonlyArray<string>): ReadonlyArray<string> | undefined => {
  const ws = [...new Set(named.filter(Boolean))]
  return host !== undefined && ws.length === 2 && ws.every((w) => UUID.test(w)) && ws.includes(host) ? ws : undefined
}
