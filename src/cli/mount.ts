/**
 * `sharebox mount`: check everything, initialise an empty gitdir, start the daemon, and return once
 * the mount is usable.
 */
import { spawn } from "node:child_process"
import { promises as fs, openSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { initRepository } from "../effects/annex.js"
import { checkSocketFolder } from "../effects/control.js"
import { DEFAULT_NUMVERSIONS } from "../effects/content.js"
import { UsageError } from "../effects/errors.js"
import { layoutOf } from "../effects/layout.js"
import { lockHolder } from "../effects/lock.js"
import { run } from "../effects/proc.js"
import { type DaemonConfig, clearStaleMount, runDaemon } from "../fuse/mount.js"
import { type MountOptions, parseMountOptions } from "./argv.js"

const usage = (message: string, exitCode = 64) => new UsageError({ message, exitCode })

const statOrUndefined = async (p: string) => fs.lstat(p).catch(() => undefined)

/** Checks the gitdir; initialises it when empty. Changes nothing when it refuses. */
export const prepareGitdir = async (gitdir: string, name: string): Promise<void> => {
  const st = await statOrUndefined(gitdir)
  if (!st) {
    const parent = await statOrUndefined(path.dirname(gitdir))
    if (!parent?.isDirectory()) throw usage(`gitdir ${gitdir} does not exist, nor does its parent directory`, 66)
    await initRepository(gitdir, name)
    return
  }
  if (!st.isDirectory()) throw usage(`gitdir ${gitdir} is not a directory`, 66)
  const entries = await fs.readdir(gitdir)
  if (entries.length === 0) {
    await initRepository(gitdir, name)
    return
  }
  const dotgit = await statOrUndefined(path.join(gitdir, ".git"))
  if (!dotgit) {
    if (entries.includes("HEAD") && entries.includes("objects")) throw usage(`gitdir ${gitdir} is a bare git repository; sharebox needs one with a work tree`, 66)
    throw usage(`gitdir ${gitdir} is not empty and is not a git repository; give an empty directory or a git-annex repository`, 66)
  }
  if (!dotgit.isDirectory()) throw usage(`gitdir ${gitdir} has a .git file (a linked work tree or submodule); give the main repository instead`, 66)
  const r = await run("git", ["-C", gitdir, "config", "--get", "annex.uuid"])
  if (r.code !== 0 || !r.stdout.trim()) {
    throw usage(`gitdir ${gitdir} is a git repository but not a git-annex one; run 'git -C ${gitdir} annex init' first if you want sharebox to use it`, 66)
  }
  const head = await run("git", ["-C", gitdir, "symbolic-ref", "-q", "HEAD"])
  if (head.code !== 0) throw usage(`gitdir ${gitdir} has a detached HEAD; check out a branch first`, 66)
}

export const checkMountpoint = async (mnt: string): Promise<void> => {
  const stale = await clearStaleMount(mnt)
  if (stale === "live") throw usage(`${mnt} is already mounted`, 75)
  if (stale === "cleared") process.stderr.write(`sharebox: cleared a stale mount on ${mnt}\n`)
  const st = await statOrUndefined(mnt)
  if (!st) throw usage(`mountpoint ${mnt} does not exist`, 66)
  if (!st.isDirectory()) throw usage(`mountpoint ${mnt} is not a directory`, 66)
  if ((await fs.readdir(mnt)).length > 0) throw usage(`mountpoint ${mnt} is not empty`, 66)
}

/**
 * The daemon's own entry (daemon.js beside this module, in dist/cli/ and in the bundle alike): it
 * does not load the command-line parser, so the daemon starts as fast as it can.
 */
const daemonScript = (): string => path.join(path.dirname(fileURLToPath(import.meta.url)), "daemon.js")

/** The PATH a shell searches when none is set: mount(8) clears it for the helpers it runs. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/** A folder's path with symlinks resolved, where it exists. */
const realOrResolved = (p: string): Promise<string> => fs.realpath(p).catch(() => path.resolve(p))

/**
 * The gitdir from `-o gitdir=` and from the source of `sharebox SOURCE MOUNTPOINT` (what mount.fuse
 * runs for an fstab line): either, or both naming one folder.
 */
const gitdirOf = async (source: string | undefined, option: string | undefined): Promise<string> => {
  if (source === undefined) {
    if (!option) throw usage("missing gitdir option: sharebox mount MOUNTPOINT -o gitdir=DIR")
    return path.resolve(option)
  }
  if (!(await statOrUndefined(source))?.isDirectory()) {
    throw usage(`source ${source} is not a directory: sharebox SOURCE MOUNTPOINT (as mount.fuse runs it for an fstab line) takes the gitdir as SOURCE`, 66)
  }
  if (option !== undefined && (await realOrResolved(source)) !== (await realOrResolved(option))) {
    throw usage(`the source ${source} and -o gitdir=${option} are different folders: name the gitdir once`)
  }
  return path.resolve(source)
}

export const mount = async (mountpoint: string, optionValues: ReadonlyArray<string>, source?: string): Promise<void> => {
  const parsed = parseMountOptions(optionValues)
  if (typeof parsed === "string") throw usage(parsed)
  const o: MountOptions = parsed
  const gitdir = await gitdirOf(source, o.gitdir)
  process.env.PATH ??= DEFAULT_PATH
  const mnt = path.resolve(mountpoint)
  if (mnt === gitdir || mnt.startsWith(gitdir + path.sep) || gitdir.startsWith(mnt + path.sep)) {
    throw usage("the mountpoint and the gitdir must not contain one another")
  }
  await checkMountpoint(mnt)
  for (const w of o.warnings) process.stderr.write(`sharebox: ${w}\n`)
  const gst = await statOrUndefined(gitdir)
  if (gst?.isDirectory()) {
    const holder = await lockHolder(layoutOf(gitdir).lock)
    if (holder !== undefined) throw usage(`gitdir ${gitdir} is in use by sharebox process ${holder}`, 75)
  }
  // the daemon checks it too, when it binds; here it is refused before the gitdir is initialised
  await checkSocketFolder(gitdir, layoutOf(gitdir).preferredSocket)
  await prepareGitdir(gitdir, o.name ?? os.hostname())
  const cfg: DaemonConfig = {
    mountpoint: mnt,
    gitdir,
    writeback: o.writeback,
    passthrough: o.passthrough,
    getall: o.getall,
    allowOther: o.allowOther,
    debug: o.debug || o.foreground,
    quietMs: Number(process.env.SHAREBOX_QUIET_MS ?? 1000),
    syncInterval: o.syncInterval,
    notifyCmd: o.notifyCmd,
    readonly: o.readonly,
    uid: o.uid,
    gid: o.gid,
    umask: o.umask,
    // as other FUSE filesystems, the mount table shows the source it was given (what mount -a
    // compares with the fstab line to see it is mounted)
    fsname: o.fsname ?? (source !== undefined ? gitdir : "sharebox"),
    subtype: o.subtype ?? "sharebox",
    kernel: o.kernel,
    atime: o.atime,
    listVirtual: o.listVirtual,
    settings: {
      numVersions: o.numVersions ?? DEFAULT_NUMVERSIONS,
      copies: o.copies ?? 1,
      cacheSize: o.cacheSize ?? 0,
      getall: o.getall,
      automerge: o.automerge
    }
  }
  if (o.foreground) {
    await new Promise<void>((resolve, reject) =>
      runDaemon(cfg, (err) => (err ? reject(usage(err, 1)) : resolve())).catch(reject)
    )
    await new Promise(() => {}) // the daemon exits the process when unmounted
  }
  await daemonise(cfg)
}

/** Starts the daemon detached, its output in the gitdir's log, and waits for its word. */
const daemonise = async (cfg: DaemonConfig): Promise<void> => {
  const layout = layoutOf(cfg.gitdir)
  await fs.mkdir(layout.state, { recursive: true, mode: 0o700 })
  const logFd = openSync(layout.log, "a", 0o600)
  const child = spawn(process.execPath, [daemonScript(), "__daemon", JSON.stringify(cfg)], {
    detached: true,
    stdio: ["ignore", logFd, logFd, "ipc"],
    cwd: "/"
  })
  const outcome = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(`the daemon did not report within 60s; see ${layout.log}`), 60_000)
    child.on("message", (m: any) => {
      clearTimeout(timer)
      resolve(m?.error)
    })
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve(`the daemon exited (code ${code}) before the mount was ready; see ${layout.log}`)
    })
  })
  if (outcome) {
    try {
      child.kill("SIGTERM")
    } catch {}
    throw usage(outcome, 1)
  }
  child.disconnect()
  child.unref()
}
