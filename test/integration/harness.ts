/**
 * Real hosts for integration tests: each a gitdir and a mountpoint in a temp folder, mounted by the
 * real `bin/sharebox` as a user would, unmounted and checked (`git annex fsck --fast`, clean
 * `git status`) at the end.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, expect } from "vitest"

export const ROOT = path.resolve(import.meta.dirname, "../..")

/**
 * `SHAREBOX_TEST_FULL=1 bash scripts/test.sh` is the full run: tests that repeat a race or a kill
 * to catch it more often repeat it `full` times instead of `quick` (the README's default run,
 * which CI makes, stays under about 25 minutes).
 */
export const FULL = process.env.SHAREBOX_TEST_FULL === "1"
export const scaled = (quick: number, full: number): number => (FULL ? full : quick)

/**
 * Whether a test or block that only the full run makes runs: `describe.runIf(fullOnly(NAME))` or
 * `it.runIf(fullOnly(NAME))`. In the default run it prints, once per NAME, what it left out and how
 * to run it. Only for variants whose code path a default test covers too (say which, beside it).
 */
const leftOut = new Set<string>()
export const fullOnly = (name: string): boolean => {
  if (!FULL && !leftOut.has(name)) {
    leftOut.add(name)
    console.log(`skipped in the default run: ${name} (SHAREBOX_TEST_FULL=1 runs it)`)
  }
  return FULL
}
export const BIN = path.join(ROOT, "bin", "sharebox")

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const toRun = (r: SpawnSyncReturns<string>): Run => ({ code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" })

/** Runs a command (no shell) and returns its outcome; never throws on a non-zero exit. */
export const exec = (cmd: string, args: ReadonlyArray<string>, opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run =>
  toRun(
    spawnSync(cmd, args as Array<string>, {
      cwd: opts.cwd,
      input: opts.input,
      env: { ...process.env, ...opts.env },
      encoding: "utf8",
      timeout: opts.timeoutMs ?? 120_000
    })
  )

/**
 * Like `exec`, without blocking the event loop (long steps in a test should use it: vitest's worker
 * times out talking to its parent when the loop is blocked for a minute).
 */
export const execAsync = (cmd: string, args: ReadonlyArray<string>, opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(cmd, args as Array<string>, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000)
    child.on("error", (e) => {
      clearTimeout(timer)
      resolve({ code: -1, stdout, stderr: stderr + String(e) })
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })

/** Runs a shell snippet (for tools like cp -r, tar, rsync used the way a person would). */
export const sh = (script: string, cwd?: string): Run => exec("bash", ["-c", script], { cwd })

export const sharebox = (args: ReadonlyArray<string>, opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run =>
  exec(BIN, args, opts)

export const git = (dir: string, args: ReadonlyArray<string>): Run => exec("git", ["-C", dir, ...args])

export const isMounted = (mnt: string): boolean =>
  fs.readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === mnt)

/** A TCP port free on `host` (a loopback address) at the time of asking. */
export const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `f` until it returns true or `ms` pass. */
export const eventually = async (f: () => boolean, ms = 10_000, step = 100): Promise<boolean> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (f()) return true
    await sleep(step)
  }
  return f()
}

export interface HostDirs {
  readonly name: string
  readonly gitdir: string
  readonly mnt: string
}

export class World {
  readonly hosts: Array<HostDirs> = []
  private made: string | undefined

  constructor(readonly label = "sharebox-it") {}

  /** The world's folder, made when first needed: a block a run filters out leaves none behind. */
  get root(): string {
    return (this.made ??= fs.mkdtempSync(path.join(os.tmpdir(), `${this.label}-`)))
  }

  /** Creates the folders of a host (not mounted). */
  host(name: string): HostDirs {
    const h = { name, gitdir: path.join(this.root, name, "git"), mnt: path.join(this.root, name, "mnt") }
    fs.mkdirSync(h.gitdir, { recursive: true })
    fs.mkdirSync(h.mnt, { recursive: true })
    this.hosts.push(h)
    return h
  }

  /** Mounts a host with extra `-o` options; throws with sharebox's message when it fails. */
  mount(h: HostDirs, ...options: Array<string>): Run {
    const r = sharebox([h.mnt, "-o", [`gitdir=${h.gitdir}`, `name=${h.name}`, ...options].join(",")])
    if (r.code !== 0) throw new Error(`mount of ${h.name} failed (${r.code}): ${r.stderr}`)
    return r
  }

  /** Hosts A and B mounted (each with its `-o` options), each the other's git remote. */
  pair(aOptions: ReadonlyArray<string> = [], bOptions: ReadonlyArray<string> = []): [HostDirs, HostDirs] {
    const a = this.host("A")
    const b = this.host("B")
    this.mount(a, ...aOptions)
    this.mount(b, ...bOptions)
    this.connectAll()
    return [a, b]
  }

  /** Makes every host a git remote of every other (by host name). */
  connectAll(): void {
    for (const a of this.hosts) for (const b of this.hosts) if (a !== b) git(a.gitdir, ["remote", "add", b.name, b.gitdir])
  }

  sync(h: HostDirs, ...extra: Array<string>): Run {
    return sharebox(["sync", h.mnt, ...extra])
  }

  unmount(h: HostDirs): void {
    if (!isMounted(h.mnt)) return
    const r = exec("fusermount", ["-u", h.mnt])
    if (r.code !== 0) exec("fusermount", ["-uz", h.mnt])
  }

  /** Waits for a host's daemon to have let go of its gitdir after an unmount. */
  async settled(h: HostDirs, ms = 15_000): Promise<boolean> {
    return eventually(() => !fs.existsSync(path.join(h.gitdir, ".git", "sharebox", "lock")), ms)
  }

  /**
   * Runs `f` while host `h` is really gone (unmounted, its folder moved aside, so no peer can reach
   * it), then puts it back and mounts it again.
   */
  async whileAway(h: HostDirs, f: () => void | Promise<void>): Promise<void> {
    this.unmount(h)
    if (!(await this.settled(h))) throw new Error(`${h.name}'s daemon did not let go of its gitdir`)
    const home = path.dirname(h.gitdir)
    fs.renameSync(home, `${home}.away`)
    try {
      await f()
    } finally {
      fs.renameSync(`${home}.away`, home)
    }
    this.mount(h)
  }

  /** The repository contracts: fsck passes and the work tree is clean. Returns problems found. */
  contractProblems(h: HostDirs): Array<string> {
    const out: Array<string> = []
    if (!fs.existsSync(path.join(h.gitdir, ".git"))) return out
    const fsck = git(h.gitdir, ["annex", "fsck", "--fast", "--quiet"])
    if (fsck.code !== 0) out.push(`${h.name}: git annex fsck --fast failed: ${fsck.stderr || fsck.stdout}`)
    const st = git(h.gitdir, ["status", "--porcelain"])
    if (st.stdout.trim()) out.push(`${h.name}: git status not clean:\n${st.stdout}`)
    return out
  }

  /** `contractProblems` without blocking: cleanup checks every host's gitdir at once. */
  private async contractProblemsAsync(h: HostDirs): Promise<Array<string>> {
    const out: Array<string> = []
    if (!fs.existsSync(path.join(h.gitdir, ".git"))) return out
    // one after the other in a gitdir (git status may take its index lock), gitdirs side by side
    const fsck = await execAsync("git", ["-C", h.gitdir, "annex", "fsck", "--fast", "--quiet"])
    const st = await execAsync("git", ["-C", h.gitdir, "status", "--porcelain"])
    if (fsck.code !== 0) out.push(`${h.name}: git annex fsck --fast failed: ${fsck.stderr || fsck.stdout}`)
    if (st.stdout.trim()) out.push(`${h.name}: git status not clean:\n${st.stdout}`)
    return out
  }

  /** Unmounts everything, waits for the daemons, checks the contracts, removes the folder. */
  async cleanup(): Promise<Array<string>> {
    for (const h of this.hosts) this.unmount(h)
    for (const h of this.hosts) await this.settled(h)
    const problems = (await Promise.all(this.hosts.map((h) => this.contractProblemsAsync(h)))).flat()
    for (const h of this.hosts) if (isMounted(h.mnt)) exec("fusermount", ["-uz", h.mnt])
    if (this.made !== undefined) fs.rmSync(this.made, { recursive: true, force: true })
    return problems
  }
}

/**
 * The World of one describe block: its folder made when its setup first needs it, and after its
 * tests everything unmounted, the repository contracts checked (none broken) and the folder removed.
 */
export const useWorld = (label: string, cleanupMs = 60_000): World => {
  const w = new World(label)
  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, cleanupMs)
  return w
}

/**
 * A peer running plain git-annex (no sharebox) at `dir`: a clone of `from.clone` (a gitdir), or a new
 * repository on `from.branch`; `name` is its git-annex description and its committer. Throws with
 * git's message when a step fails.
 */
export const plainPeer = (dir: string, name: string, from: { readonly clone: string } | { readonly branch: string }): string => {
  const step = (args: ReadonlyArray<string>) => {
    const r = exec("git", args)
    if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`)
  }
  step("clone" in from ? ["clone", "-q", from.clone, dir] : ["init", "-q", "-b", from.branch, dir])
  step(["-C", dir, "config", "user.name", name])
  step(["-C", dir, "config", "user.email", `${name}@localhost`])
  step(["-C", dir, "annex", "init", "--quiet", name])
  return dir
}

export const read = (p: string): string => fs.readFileSync(p, "utf8")

/** What follows `label: ` on its line of a mount's `.sharebox/status`, or undefined. */
export const statusValue = (h: HostDirs, label: string): string | undefined =>
  read(path.join(h.mnt, ".sharebox", "status"))
    .split("\n")
    .find((l) => l.startsWith(`${label}: `))
    ?.slice(label.length + 2)
export const write = (p: string, s: string): void => fs.writeFileSync(p, s)

/** How many files the binding created since the mount (`.sharebox/status`). */
export const createdByBinding = (h: HostDirs): number => {
  const v = statusValue(h, "files created by the binding since mount")
  expect(v, "the status line").toMatch(/^\d+$/)
  return Number(v)
}

/**
 * Waits until the binding creates files: it starts once its names table is made, just after the
 * mount is ready, and its first spares are made on its own thread. Probe files are removed again.
 */
export const bindingCreates = async (h: HostDirs): Promise<boolean> => {
  const before = createdByBinding(h)
  let k = 0
  return eventually(() => {
    const probe = path.join(h.mnt, `probe-${k++}`)
    fs.writeFileSync(probe, "probe\n")
    fs.unlinkSync(probe)
    return createdByBinding(h) > before
  })
}

/** One entry of a mounted tree as a user sees it (for comparing hosts). */
export interface SnapEntry {
  readonly type: "file" | "dir" | "symlink" | "other"
  /** permission bits (files only; directories and symlinks have fixed modes) */
  readonly mode?: number
  readonly size?: number
  readonly sha256?: string
  readonly target?: string
  /** mtime in whole seconds (files and symlinks) */
  readonly mtime?: number
}

/**
 * Every path below `dir` (relative, sorted) with its type, permission bits, size, sha256 of the
 * content, symlink target and mtime; reading the files fetches absent content. `.sharebox` at the
 * top is left out.
 */
export const snapshot = (dir: string, opts: { mtimes?: boolean } = {}): Record<string, SnapEntry> => {
  const out: Record<string, SnapEntry> = {}
  const walk = (rel: string) => {
    const names = fs.readdirSync(path.join(dir, rel)).sort()
    for (const name of names) {
      if (rel === "" && name === ".sharebox") continue
      const r = rel === "" ? name : `${rel}/${name}`
      const full = path.join(dir, r)
      const st = fs.lstatSync(full)
      const mtime = opts.mtimes === false ? undefined : Math.floor(st.mtimeMs / 1000)
      if (st.isDirectory()) {
        out[r] = { type: "dir" }
        walk(r)
      } else if (st.isSymbolicLink()) {
        out[r] = { type: "symlink", target: fs.readlinkSync(full), mtime }
      } else if (st.isFile()) {
        const data = fs.readFileSync(full)
        out[r] = { type: "file", mode: st.mode & 0o777, size: data.length, sha256: createHash("sha256").update(data).digest("hex"), mtime }
        if (st.size !== data.length) out[`${r} (stat size)`] = { type: "other", size: st.size }
      } else out[r] = { type: "other" }
    }
  }
  walk("")
  return out
}

/** Pids of `sharebox __daemon` processes serving `gitdir` (from /proc/PID/cmdline). */
export const daemonPids = (gitdir: string): Array<number> => {
  const out: Array<number> = []
  const abs = path.resolve(gitdir)
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue
    let cmd: Array<string>
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0")
    } catch {
      continue
    }
    const i = cmd.indexOf("__daemon")
    if (i < 0) continue
    try {
      if (path.resolve(JSON.parse(cmd[i + 1] ?? "{}").gitdir ?? "") === abs) out.push(Number(d))
    } catch {}
  }
  return out
}

/** One open conflict as `sharebox conflicts --json` lists it. */
export interface ConflictJson {
  path: string
  copy: string
  versions: Array<{ path: string; host: string | null; time: string; size: number | null; key: string | null }>
}

/** A host's open conflicts (`sharebox conflicts --json`, which must succeed), ordered by copy. */
export const conflictsJson = (h: HostDirs): Array<ConflictJson> => {
  const r = sharebox(["conflicts", "--json", h.mnt])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ConflictJson)
    .sort((a, b) => (a.copy < b.copy ? -1 : 1))
}
