/**
 * git-annex underneath: repository set-up, object paths, presence records, on-demand fetches.
 * (About 430 lines: the batch processes' life (start, the refresh that waits for them, close) is
 * owned here with the rest of a repository's git-annex state; annexbatch.ts is one process's
 * protocol.)
 */
import { createHash } from "node:crypto"
import * as fsSync from "node:fs"
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { type BatchAnswer, type BatchRecord, AnnexBatch } from "./annexbatch.js"
import { CommandFailed, CommandTimedOut, userMessage } from "./errors.js"
import { logPresent } from "../domain/locationlog.js"
import { TRANSFER_STALL_SECONDS } from "../domain/peers.js"
import { Git, gitEnv, quotePath } from "./git.js"
import { type PeerWay, peerEnv } from "./gitenv.js"
import { check, run } from "./proc.js"

const MIXED = "0123456789zqjxkmvwgpfZQJXKMVWGPF"

/** git-annex's hashdirmixed for a key, e.g. `Xk/3P/` (two levels of letters from its MD5). */
export const hashDirMixed = (key: string): string => {
  const md5 = createHash("md5").update(key, "utf8").digest()
  const w = md5.readUInt32LE(0)
  let cs = ""
  for (let x = 0; x < 8; x++) cs += MIXED[(w >>> (6 * x)) & 31]
  let swapped = ""
  for (let i = 0; i + 1 < cs.length; i += 2) swapped += cs[i + 1]! + cs[i]!
  const s = swapped.slice(0, 4)
  return `${s.slice(0, 2)}/${s.slice(2, 4)}/`
}

export const objectPathOf = (key: string): string => `.git/annex/objects/${hashDirMixed(key)}${key}/${key}`

/** git-annex's hashdirlower for a key, e.g. `4f5/80d/` (the first hex digits of its MD5). */
export const hashDirLower = (key: string): string => {
  const md5 = createHash("md5").update(key, "utf8").digest("hex")
  return `${md5.slice(0, 3)}/${md5.slice(3, 6)}/`
}

/** Where the `git-annex` branch keeps the location log of a key. */
export const locationLogPath = (key: string): string => `${hashDirLower(key)}${key}.log`

const BRANCH = "refs/heads/git-annex"

/** How long `settle` waits for the batch processes (one may be in the middle of a transfer). */
const SETTLE_MS = 10_000

/** Keys moved into the annex per turn of the event loop. */
const INGEST_CHUNK = 256

/** The entries of a raw tree object: `MODE NAME\0` then the binary object id, over and over. */
const parseTree = (tree: Buffer, idBytes: number): Array<{ name: string; oid: string }> => {
  const out: Array<{ name: string; oid: string }> = []
  let at = 0
  while (at < tree.length) {
    const nul = tree.indexOf(0, at)
    if (nul < 0) break
    const entry = tree.subarray(at, nul).toString("utf8")
    out.push({ name: entry.slice(entry.indexOf(" ") + 1), oid: tree.subarray(nul + 1, nul + 1 + idBytes).toString("hex") })
    at = nul + 1 + idBytes
  }
  return out
}

/** A fast-import stream of one commit on the git-annex branch that writes these files. */
const buildBranchCommit = (files: ReadonlyArray<{ path: string; text: string }>, parent: string, uuid: string, now: number): Buffer => {
  const parts: Array<Buffer> = []
  const text = (s: string) => parts.push(Buffer.from(s, "utf8"))
  const data = (b: Buffer) => {
    text(`data ${b.length}\n`)
    parts.push(b, Buffer.from("\n"))
  }
  text(`commit ${BRANCH}\ncommitter sharebox <${uuid}@sharebox> ${Math.floor(now / 1000)} +0000\n`)
  data(Buffer.from("update\n"))
  text(`from ${parent}\n`)
  for (const f of files) {
    text(`M 100644 inline ${quotePath(f.path)}\n`)
    data(Buffer.from(f.text, "utf8"))
  }
  text("\ndone\n")
  return Buffer.concat(parts)
}

export class Annex {
  readonly git: Git
  constructor(readonly top: string) {
    this.git = new Git(top)
  }

  annex(args: ReadonlyArray<string>, opts: { input?: string; timeoutSeconds?: number } = {}) {
    return run("git", ["-C", this.top, "annex", ...args], { ...opts, env: this.env() })
  }

  async uuid(): Promise<string> {
    const u = await this.git.config("annex.uuid")
    if (!u) throw new CommandFailed({ command: "git", args: ["config", "annex.uuid"], exitCode: 1, stderr: `${this.top} is not a git-annex repository` })
    return u
  }

  objectFile(key: string): string {
    return path.join(this.top, objectPathOf(key))
  }

  /** Whether the object of `key` is in this repository's annex (what git-annex's own check looks at). */
  hasObject(key: string): boolean {
    return fsSync.existsSync(this.objectFile(key))
  }

  /**
   * Moves finished staging files into the annex as the objects of their keys (hard links, so open
   * readers of a staging file keep working; the caller removes the staging files later).
   *
   * Synchronous calls, a few hundred at a time with a turn of the event loop between: four
   * system calls per new key, with no thread-pool round trip each, and FUSE requests still served.
   */
  async ingest(items: ReadonlyArray<{ readonly staged: string; readonly key: string }>): Promise<void> {
    for (let i = 0; i < items.length; i += INGEST_CHUNK) {
      if (i > 0) await new Promise((r) => setImmediate(r))
      for (const { staged, key } of items.slice(i, i + INGEST_CHUNK)) this.ingestOne(staged, key)
    }
  }

  private ingestOne(staged: string, key: string): void {
    const obj = this.objectFile(key)
    const dir = path.dirname(obj)
    if (fsSync.mkdirSync(dir, { recursive: true, mode: 0o755 }) === undefined) {
      // the directory was there: the object may be too (or a drop left the directory read-only)
      if (fsSync.existsSync(obj)) return
      fsSync.chmodSync(dir, 0o755)
    }
    try {
      fsSync.linkSync(staged, obj)
    } catch (e: any) {
      if (e.code !== "EEXIST") fsSync.copyFileSync(staged, obj)
    }
    fsSync.chmodSync(obj, 0o444)
    fsSync.chmodSync(dir, 0o555)
  }

  /**
   * Records in the git-annex branch that this repository has these keys: the keys' location logs
   * are written straight into one commit on `refs/heads/git-annex` (its parent the branch's head),
   * as git-annex itself would write them, so no journal file per key and no journal commit. git-annex
   * notices that its branch moved (it compares the head with the one its index was made from) and
   * merges the commit into its index before it next commits.
   */
  async recordPresent(keys: ReadonlyArray<string>, now = Date.now()): Promise<void> {
    const wanted = [...new Set(keys)]
    if (wanted.length === 0) return
    const uuid = await this.uuid()
    // git-annex's journal shadows the branch: a key's log there is what git-annex commits next,
    // over ours. Commit it first; if something keeps writing it, let git-annex record the keys.
    if ((await this.journalFiles()) > 0) await this.commitBranch()
    for (let attempt = 0; attempt < 2; attempt++) {
      if ((await this.journalFiles()) > 0) break
      const head = await this.git.revParse(BRANCH)
      if (!head) break
      const paths = wanted.map(locationLogPath)
      const logs = await this.readLogs(head, wanted)
      const changed: Array<{ path: string; text: string }> = []
      wanted.forEach((_, i) => {
        const before = logs[i]?.toString("utf8")
        const after = logPresent(before, uuid, now)
        if (after !== before) changed.push({ path: paths[i]!, text: after })
      })
      if (changed.length === 0) return
      // fast-import refuses to move the branch if git-annex committed to it meanwhile: read again
      const r = await this.git.run(["fast-import", "--quiet", "--done"], { input: buildBranchCommit(changed, head, uuid, now) })
      if (r.code === 0) return
    }
    const r = await this.annex(["setpresentkey", "--batch"], { input: wanted.map((k) => `${k} ${uuid} 1\n`).join("") })
    if (r.code !== 0) throw new CommandFailed({ command: "git-annex", args: ["setpresentkey", "--batch"], exitCode: r.code, stderr: r.stderr })
    await this.commitBranch()
  }

  /**
   * The location logs of keys in a commit of the git-annex branch (undefined for a key with none).
   * The branch's trees are read level by level, each tree once: `cat-file --batch` of `COMMIT:PATH`
   * looks every path up from the root again, and a root tree git-annex wrote is a loose object,
   * inflated anew for each key.
   */
  private async readLogs(commit: string, keys: ReadonlyArray<string>): Promise<Array<Buffer | undefined>> {
    const paths = keys.map(locationLogPath)
    const [root] = await this.git.readObjects([`${commit}^{tree}`])
    if (!root) return paths.map(() => undefined)
    /** path of a tree or log -> its object id, for the levels read so far */
    const known = new Map<string, string>()
    const readLevel = async (dirs: ReadonlyArray<[string, Buffer]>) => {
      for (const [dir, tree] of dirs) for (const e of parseTree(tree, commit.length / 2)) known.set(dir + e.name, e.oid)
    }
    await readLevel([["", root]])
    for (const depth of [1, 2]) {
      const dirs = [...new Set(paths.map((p) => p.split("/").slice(0, depth).join("/")))].filter((d) => known.has(d))
      const trees = await this.git.readObjects(dirs.map((d) => known.get(d)!))
      await readLevel(dirs.flatMap((d, i) => (trees[i] ? [[d + "/", trees[i]!] as [string, Buffer]] : [])))
    }
    const found = paths.filter((p) => known.has(p))
    const blobs = await this.git.readObjects(found.map((p) => known.get(p)!))
    const byPath = new Map(found.map((p, i) => [p, blobs[i]]))
    return paths.map((p) => byPath.get(p))
  }

  /** How many files git-annex's journal holds (changes to its branch not committed yet). */
  private async journalFiles(): Promise<number> {
    try {
      return (await fs.readdir(path.join(this.top, ".git/annex/journal"))).length
    } catch (e: any) {
      if (e.code === "ENOENT") return 0
      throw e
    }
  }

  /** Commits git-annex's journal to its branch (and merges peers' branches), so a fetch sees it. */
  async commitBranch(): Promise<void> {
    // Not `git annex merge`: without a branch it also merges `synced/BRANCH` into the checked-out
    // branch (as `git annex sync` does), behind sharebox's back: a plain git-annex peer's push
    // then moved HEAD under the daemon, whose next replay failed for good ("Not updating
    // refs/heads/main"), and peers' heads got git's merge instead of sharebox's. Any command that
    // reads the git-annex branch updates it first: commits the journal and merges the peers'
    // git-annex branches (annex.merge-annex-branches), touching nothing else.
    const r = await this.annex(["numcopies"])
    if (r.code !== 0) throw new CommandFailed({ command: "git-annex", args: ["numcopies"], exitCode: r.code, stderr: r.stderr })
    // a git-annex process reads its branch once, when it starts: the batch processes started
    // before this would go on from the old location logs (a get missing a copy a peer now has)
    void this.closeBatches()
  }

  /**
   * Seconds a git-annex batch process may say nothing while a request waits (see AnnexBatch): a
   * transfer that moves is never killed for taking long.
   */
  stallSeconds = TRANSFER_STALL_SECONDS

  private readonly batches = new Map<string, AnnexBatch>()

  /** The batch process for one kind of request (one per distinct argument list, started on first use). */
  private batch(args: ReadonlyArray<string>): AnnexBatch {
    const id = args.join("\0")
    let b = this.batches.get(id)
    if (!b) {
      b = new AnnexBatch(this.top, args, () => this.env(), this.stallSeconds)
      this.batches.set(id, b)
    }
    return b
  }

  /** How the work at hand reaches peers (see withPeers): a command's ssh, a sync's shared connections. */
  private peers: PeerWay = {}

  /** The environment of git-annex's processes: ssh as peerEnv runs it, the work's own way first. */
  private env(): NodeJS.ProcessEnv {
    return gitEnv(peerEnv(this.top, this.peers))
  }

  /**
   * Runs `f` with git-annex reaching peers `way`'s way: through `ssh` (the GIT_SSH_COMMAND a
   * `sharebox sync`, `get` or `drop` was run with), so the content a command moves goes the way
   * its git fetch went, and through the connections `share` holds (a sync's). Batch processes
   * started before are ended (so new ones start with it), and again after.
   */
  async withPeers<A>(way: PeerWay, f: () => Promise<A>): Promise<A> {
    if ((way.ssh === undefined && way.share === undefined) || (way.ssh === this.peers.ssh && way.share === this.peers.share)) return f()
    const before = this.peers
    void this.closeBatches()
    this.peers = way
    try {
      return await f()
    } finally {
      this.peers = before
      void this.closeBatches()
    }
  }

  /** Ends the batch processes (those at work are killed when `now`); settles once all have exited. */
  closeBatches(now = false): Promise<unknown> {
    const exits = [...this.batches.values()].map((b) => b.close(now))
    this.batches.clear()
    return Promise.all(exits)
  }

  /** The refreshes running now (see `settled`): a get or drop waits for them before it starts. */
  private readonly refreshes = new Set<Promise<unknown>>()

  /**
   * Runs `f` (the checkout's refresh of the index) once the batch processes have exited (waiting
   * up to SETTLE_MS: a git-annex process writes its keys database's changes only then, and the
   * refresh needs them), with no get or drop starting before it is done (one would fill or empty a
   * file the refresh reads, and hold back what it did until it exits).
   */
  async settled<A>(f: () => Promise<A>): Promise<A> {
    const refresh = (async () => {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([this.closeBatches(), new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))])
      clearTimeout(timer)
      return await f()
    })()
    this.refreshes.add(refresh)
    try {
      return await refresh
    } finally {
      this.refreshes.delete(refresh)
    }
  }

  /** A request to a batch process that changes content here, once no refresh runs. */
  private async changing(args: ReadonlyArray<string>, key: string): Promise<unknown> {
    while (this.refreshes.size > 0) await Promise.allSettled([...this.refreshes])
    return this.batch(args).request(key).catch((e: unknown) => e)
  }

  /** Ends every long-lived process of this repository: the batch processes (killed) and git's reader. */
  async close(): Promise<void> {
    void this.closeBatches(true)
    await this.git.close()
  }

  /** Fetches a key's content from whichever remote has it. */
  async get(key: string): Promise<{ ok: boolean; message: string }> {
    const a = await this.changing(["get", "--json-progress"], key)
    if (this.hasObject(key)) return { ok: true, message: "" }
    return { ok: false, message: failureOf(a, "git-annex get") }
  }

  /**
   * Drops a key's content here. git-annex refuses when it cannot verify `numcopies` other copies;
   * `force` drops whatever the copies (old versions past the retention limit).
   */
  async drop(key: string, opts: { readonly numcopies?: number; readonly force?: boolean }): Promise<{ ok: boolean; message: string }> {
    const args = ["drop", ...(opts.force ? ["--force"] : []), ...(opts.numcopies !== undefined ? [`--numcopies=${Math.max(1, opts.numcopies)}`] : [])]
    const a = await this.changing(args, key)
    if (!this.hasObject(key)) return { ok: true, message: "" }
    return { ok: false, message: failureOf(a, "git-annex drop") }
  }

  /**
   * A file of the git-annex branch, "" when it is not there or is over `maxBytes`: the branch comes
   * from every peer, and a file over its bound is not read at all rather than held whole in memory
   * at every sync.
   */
  private async branchFile(name: string, maxBytes: number): Promise<string> {
    const size = Number((await this.git.run(["cat-file", "-s", `git-annex:${name}`])).stdout.trim())
    if (!(size > 0 && size <= maxBytes)) return ""
    const r = await this.git.run(["cat-file", "-p", `git-annex:${name}`])
    return r.code === 0 ? r.stdout : ""
  }

  remoteLog(): Promise<string> {
    return this.branchFile("remote.log", MAX_REMOTE_LOG_BYTES)
  }

  async enabledRemotes(): Promise<ReadonlySet<string>> {
    const r = await this.git.run(["config", "--get-regexp", "^remote\\..*\\.annex-uuid$"])
    return new Set(r.stdout.split("\n").map((l) => l.split(" ")[1] ?? "").filter(Boolean))
  }

  async enableRemote(name: string, timeoutSeconds: number): Promise<{ ok: boolean; message: string }> {
    const r = await this.annex(["enableremote", name], { timeoutSeconds }).catch((e: unknown) => ({ code: 1, stdout: "", stderr: userMessage(e) }))
    return { ok: r.code === 0, message: `${r.stderr}\n${r.stdout}` }
  }

  /** uuid -> description of every repository git-annex knows (from its uuid.log). */
  async descriptions(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    // one over its bound is not read: hosts are then named by UUID
    const log = await this.branchFile("uuid.log", MAX_UUID_LOG_BYTES)
    const best = new Map<string, number>()
    for (const line of log.split("\n")) {
      const m = /^(\S+) (.*?) timestamp=([\d.]+)s$/.exec(line.trim())
      if (!m) continue
      const t = Number(m[3])
      if ((best.get(m[1]!) ?? -1) <= t) {
        best.set(m[1]!, t)
        out.set(m[1]!, m[2]!.slice(0, MAX_DESCRIPTION))
      }
    }
    return out
  }

  /**
   * The repositories git-annex knows to have a key, named by their description (a host's -o name).
   * git-annex's own `description` there is for display ("[A]" for a remote named like its
   * description, "A [laptop]" otherwise), so the description comes from uuid.log where it has one.
   */
  async locations(key: string): Promise<Array<{ uuid: string; description: string; here: boolean }>> {
    const a = await this.batch(["whereis"]).request(key).catch(() => "nothing to do" as const)
    const found = a === "nothing to do" ? [] : (a.whereis ?? [])
    const names = found.length ? await this.descriptions() : new Map<string, string>()
    return found.map((w) => ({ uuid: String(w.uuid), description: names.get(w.uuid) || w.description || String(w.uuid), here: !!w.here }))
  }

  /** Names of the repositories git-annex knows to have a key (for messages). */
  async whereis(key: string): Promise<Array<string>> {
    return (await this.locations(key)).map((l) => l.description)
  }
}

/** What a failed batch request says: git-annex's error messages or note, or the process's failure. */
const failureOf = (a: BatchAnswer | unknown, what: string): string => {
  if (a === "nothing to do") return `${what} had nothing to do`
  if (a instanceof CommandTimedOut) return `git-annex said nothing for ${a.seconds} s (stalled)`
  if (a instanceof Error) return userMessage(a)
  const r = a as BatchRecord
  const errors = (r["error-messages"] ?? []).join(" ").replace(/\s+/g, " ").trim()
  return errors || r.note || `${what} failed`
}

/** uuid.log holds a line per repository ever known: far below this for any real fleet. */
const MAX_UUID_LOG_BYTES = 16 * 1024 * 1024

/** Descriptions name hosts in messages: longer ones are cut. */
const MAX_DESCRIPTION = 200

/**
 * Creates a git-annex repository in an empty (or missing) directory. The directory is made private
 * first: git makes its objects world-readable, so a 0755 gitdir shows every local user the content
 * and history of a private mount. (A repository its user made is left with the mode they chose.)
 */
export const initRepository = async (dir: string, description: string): Promise<void> => {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  await fs.chmod(dir, 0o700)
  await check("git", ["init", "-q", "-b", "main", dir])
  await check("git", ["-C", dir, "annex", "init", "--quiet", description])
  // Content of executable files lives in the work tree as a hard link, not a second copy.
  await check("git", ["-C", dir, "config", "annex.thin", "true"])
}

/** remote.log holds a line per change of a special remote's configuration. */
const MAX_REMOTE_LOG_BYTES = 1024 * 1024
