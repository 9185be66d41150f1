/**
 * The environment of git and git-annex processes: glibc's heap trim (gitEnv), and how peers are
 * talked to (peerEnv): one ssh command for git and git-annex alike.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { sshCommand } from "../domain/peers.js"
import { run } from "./proc.js"

/**
 * The environment of git processes. glibc gives the top of the heap back to the kernel whenever
 * 128 KiB of it is free; git deflates every object with a fresh zlib stream (a quarter of a MiB,
 * allocated and freed), so `fast-import` of 10,000 small blobs made 55,000 `brk` calls, each
 * freshly faulted page zeroed again: 1.7 s where 0.36 s does (docs/benchmarks.md). A higher trim
 * threshold keeps that memory in the process, which exits soon after. The caller's own
 * `GLIBC_TUNABLES` go after it, so a trim threshold set there wins.
 */
export const gitEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => {
  const keep = "glibc.malloc.trim_threshold=67108864"
  return { ...base, GLIBC_TUNABLES: base.GLIBC_TUNABLES ? `${keep}:${base.GLIBC_TUNABLES}` : keep }
}

/** core.sshCommand of each repository, read once per process. */
const configured = new Map<string, string | undefined>()

const configuredSsh = (top: string): string | undefined => {
  if (!configured.has(top)) {
    let value: string | undefined
    try {
      value = execFileSync("git", ["-C", top, "config", "--get", "core.sshCommand"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined
    } catch {
      value = undefined // not set (git exits 1)
    }
    configured.set(top, value)
  }
  return configured.get(top)
}

/** How a piece of work reaches peers: the ssh command it was run with, the folder of its shared connections. */
export interface PeerWay {
  readonly ssh?: string | undefined
  readonly share?: string | undefined
}

/**
 * How git and git-annex talk to peers: never a prompt, and one ssh command for both. git-annex
 * runs its own ssh unless GIT_ANNEX_USE_GIT_SSH is set, so without it content moved with no
 * connect timeout. The command is the user's (GIT_SSH_COMMAND, else the repository's
 * core.sshCommand, which GIT_SSH_COMMAND would otherwise hide) with sharebox's options where the
 * user set none (domain/peers.ts). A GIT_SSH program without GIT_SSH_COMMAND is the user's choice
 * and is left alone: it need not take ssh's options. `way.ssh` is the GIT_SSH_COMMAND a command
 * (`sharebox sync`, `get`, `drop`) handed the daemon, in place of the daemon's own; `way.share`, a
 * folder of shared connections (sharedConnections).
 */
export const peerEnv = (top: string | undefined, way: PeerWay = {}): NodeJS.ProcessEnv => {
  const { ssh, share } = way
  const base = ssh === undefined ? process.env : { ...process.env, GIT_SSH_COMMAND: ssh }
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: "0", GIT_ANNEX_USE_GIT_SSH: "1" }
  if (base.GIT_SSH && !base.GIT_SSH_COMMAND) return env
  return { ...env, GIT_SSH_COMMAND: sshCommand(base.GIT_SSH_COMMAND ?? (top ? configuredSsh(top) : undefined), share) }
}

/**
 * A folder for the ssh connections one piece of work shares (a sync: its fetch, content and push
 * go through one connection per peer), made private (mkdtemp: mode 0700) and short enough for
 * Unix sockets; `end` closes the connections and removes it. git-annex shares no connection
 * when it runs git's ssh command, and a login per step cost about a second each over ssh.
 */
export const sharedConnections = async (): Promise<{ readonly dir: string; end(): Promise<void> }> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "sbssh-"))
  return {
    dir,
    end: async () => {
      const sockets = await fs.readdir(dir).catch(() => [] as Array<string>)
      // `-O exit` asks a master to close: local, quick even when its peer went silent
      await Promise.all(sockets.map((s) => run("ssh", ["-o", `ControlPath=${path.join(dir, s).replace(/%/g, "%%")}`, "-O", "exit", "sharebox-peer"], { timeoutSeconds: 5 }).catch(() => undefined)))
      await fs.rm(dir, { recursive: true, force: true })
    }
  }
}
