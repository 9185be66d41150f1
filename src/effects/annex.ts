/**
 * git-annex underneath: repository set-up, object paths, presence records, on-demand fetches.
 */
import { createHash } from "node:crypto"
import { promises as fs, constants as fsc } from "node:fs"
import * as path from "node:path"
import { CommandFailed } from "./errors.js"
import { Git } from "./git.js"
import { check, run } from "./proc.js"

/** Talking to peers never prompts, and an unreachable ssh peer is given up on quickly. */
export const peerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_TERMINAL_PROMPT: "0",
  GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes -o ConnectTimeout=10"
})

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

export class Annex {
  readonly git: Git
  constructor(readonly top: string) {
    this.git = new Git(top)
  }

  annex(args: ReadonlyArray<string>, opts: { input?: string; timeoutSeconds?: number } = {}) {
    return run("git", ["-C", this.top, "annex", ...args], { ...opts, env: peerEnv() })
  }

  async uuid(): Promise<string> {
    const u = await this.git.config("annex.uuid")
    if (!u) throw new CommandFailed({ command: "git", args: ["config", "annex.uuid"], exitCode: 1, stderr: `${this.top} is not a git-annex repository` })
    return u
  }

  objectFile(key: string): string {
    return path.join(this.top, objectPathOf(key))
  }

  async isPresent(key: string): Promise<boolean> {
    try {
      await fs.access(this.objectFile(key), fsc.R_OK)
      return true
    } catch {
      return false
    }
  }

  /**
   * Moves a finished staging file into the annex as the object of `key` (hard link, so open
   * readers of the staging file keep working; the caller removes the staging file later).
   */
  async ingest(staged: string, key: string): Promise<void> {
    const obj = this.objectFile(key)
    if (await this.isPresent(key)) return
    const dir = path.dirname(obj)
    await fs.mkdir(dir, { recursive: true })
    await fs.chmod(dir, 0o755)
    try {
      await fs.link(staged, obj)
    } catch (e: any) {
      if (e.code !== "EEXIST") await fs.copyFile(staged, obj)
    }
    await fs.chmod(obj, 0o444)
    await fs.chmod(dir, 0o555)
  }

  /** Records in the git-annex branch that this repository has these keys (one process). */
  async recordPresent(keys: ReadonlyArray<string>): Promise<void> {
    if (keys.length === 0) return
    const uuid = await this.uuid()
    const r = await this.annex(["setpresentkey", "--batch"], { input: keys.map((k) => `${k} ${uuid} 1\n`).join("") })
    if (r.code !== 0) throw new CommandFailed({ command: "git-annex", args: ["setpresentkey", "--batch"], exitCode: r.code, stderr: r.stderr })
    await this.commitBranch()
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
  }

  /** Fetches a key's content from whichever remote has it. */
  async get(key: string, timeoutSeconds: number): Promise<{ ok: boolean; message: string }> {
    const r = await this.annex(["get", "--key", key, "--json", "--json-error-messages"], { timeoutSeconds })
    if (r.code === 0 && (await this.isPresent(key))) return { ok: true, message: "" }
    let message = r.stderr.trim().split("\n").pop() ?? ""
    for (const line of r.stdout.split("\n")) {
      try {
        const j = JSON.parse(line)
        if (j["error-messages"]?.length) message = j["error-messages"].join(" ")
        else if (j.note) message = j.note
      } catch {}
    }
    return { ok: false, message: message || `git-annex get exited ${r.code}` }
  }

  /** uuid -> description of every repository git-annex knows (from its uuid.log). */
  async descriptions(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    const r = await this.git.run(["cat-file", "-p", "git-annex:uuid.log"])
    const best = new Map<string, number>()
    for (const line of r.stdout.split("\n")) {
      const m = /^(\S+) (.*?) timestamp=([\d.]+)s$/.exec(line.trim())
      if (!m) continue
      const t = Number(m[3])
      if ((best.get(m[1]!) ?? -1) <= t) {
        best.set(m[1]!, t)
        out.set(m[1]!, m[2]!)
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
    const r = await this.annex(["whereis", "--key", key, "--json"])
    let found: Array<any> = []
    try {
      found = JSON.parse(r.stdout.trim().split("\n")[0] || "{}").whereis ?? []
    } catch {
      return []
    }
    const names = found.length ? await this.descriptions() : new Map<string, string>()
    return found.map((w) => ({ uuid: String(w.uuid), description: names.get(w.uuid) || w.description || String(w.uuid), here: !!w.here }))
  }

  /** Names of the repositories git-annex knows to have a key (for messages). */
  async whereis(key: string): Promise<Array<string>> {
    return (await this.locations(key)).map((l) => l.description)
  }
}

/** Creates a git-annex repository in an empty (or missing) directory. */
export const initRepository = async (dir: string, description: string): Promise<void> => {
  await fs.mkdir(dir, { recursive: true })
  await check("git", ["init", "-q", "-b", "main", dir])
  await check("git", ["-C", dir, "annex", "init", "--quiet", description])
  // Content of executable files lives in the work tree as a hard link, not a second copy.
  await check("git", ["-C", dir, "config", "annex.thin", "true"])
}
