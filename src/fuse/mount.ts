/**
 * The daemon: opens the host, mounts it, serves the control socket, and ends cleanly when the
 * mount goes away (`fusermount -u`) or on SIGTERM/SIGINT.
 */
import { promises as fs } from "node:fs"
import { getSystemErrorName } from "node:util"
import { setFlagsFromString } from "node:v8"
import { constants } from "node:os"
import { prepareSocketFolder } from "../effects/control.js"
import { type HostServices, openHost } from "../effects/hostlayer.js"
import type { ViewMirror } from "../effects/viewstore.js"
import { type Mounted, openMounted } from "../effects/daemon.js"
import { printable } from "../domain/printable.js"
import { mountTable } from "../effects/mounts.js"
import { run } from "../effects/proc.js"
import { type Settings, saveSettings } from "../effects/content.js"
import { makeNotifier } from "../effects/notifier.js"
import { VIRTUAL_ROOT } from "../domain/paths.js"
import type { AtimePolicy } from "../domain/times.js"
import type { CreatedHere, CreatesHere, Passthrough } from "./binding.js"
import { XATTR_PREFIX } from "./binding.js"
import { type Native, loadFuse } from "./native.js"
import type { LocalStore } from "./local.js"
import { makeOperations } from "./ops.js"
import type { FailureTag, Ports } from "./ports.js"
import type { Busy, CommandFailed, CommandTimedOut, ContentUnavailable, JournalCorrupt, JournalUnwritable, NotFound } from "../effects/errors.js"

/** The errno table is keyed on these errors' tags (ports.ts): a renamed error fails to compile here. */
type ShellFailure = Busy | CommandFailed | CommandTimedOut | ContentUnavailable | JournalCorrupt | JournalUnwritable | NotFound
type SameTags = [ShellFailure["_tag"]] extends [FailureTag] ? ([FailureTag] extends [ShellFailure["_tag"]] ? true : false) : false
/** Compiles only while `T` is `true`. */
type Assert<T extends true> = T
export type FailureTagsMatch = Assert<SameTags>

/** Every role the FUSE layer needs, played by the host's services. */
const portsOf = (host: HostServices): Ports => ({
  views: host.views,
  staging: host.staging,
  content: host.presence,
  locations: host.presence,
  recorder: host.views,
  // what .sharebox/ shows, from their several owners (no hot path)
  status: {
    get gitdir() {
      return host.repo.gitdir
    },
    get pending() {
      return host.views.pending
    },
    get sessions() {
      return host.staging.sessions
    },
    get lastSync() {
      return host.syncer.lastSync
    },
    openConflicts: () => host.syncer.openConflicts()
  },
  versions: {
    get head() {
      return host.views.head
    },
    history: () => host.versions.history()
  },
  past: host.versions.past
})

/** What was thrown, in words. */
const messageOf = (e: unknown): string => {
  const message = typeof e === "object" && e !== null && "message" in e ? e.message : undefined
  return String(message ?? e)
}

/** A system error's code (ENOENT, ...), if it is one. */
const codeOf = (e: unknown): unknown => (typeof e === "object" && e !== null && "code" in e ? e.code : undefined)

/** Mount flags the kernel enforces, as libfuse 2 passes them. */
export interface KernelFlags {
  readonly noexec: boolean
  readonly sync: boolean
  readonly dirsync: boolean
}

export interface DaemonConfig {
  readonly mountpoint: string
  readonly gitdir: string
  readonly writeback: boolean
  /** reads of open files by the kernel itself, where it can (-o passthrough=on|off) */
  readonly passthrough: boolean
  readonly getall: boolean
  readonly allowOther: boolean
  readonly debug: boolean
  readonly quietMs: number
  readonly syncInterval: number
  readonly settings: Settings
  /** command run once per new conflict (undefined: notify-send when installed) */
  readonly notifyCmd?: string
  /** -o ro: a read-only mount; syncs still bring peers' changes */
  readonly readonly: boolean
  /** whose the files are (-o uid=, gid=; default the mounting user) and the bits they hide (-o umask=) */
  readonly uid?: number
  readonly gid?: number
  readonly umask: number
  /** the source and type (fuse.SUBTYPE) the mount table shows */
  readonly fsname: string
  readonly subtype: string
  readonly kernel: KernelFlags
  /**
   * What reads do to atimes, which the daemon keeps (fuse/times.ts); noatime is the kernel's flag
   * too. libfuse 2 cannot hand the kernel relatime or strictatime: the mount table shows relatime
   * for both, the kernel's default, and the atimes stat shows follow the policy.
   */
  readonly atime: AtimePolicy
  /** whether the root's listing shows `.sharebox/` (-o snapdir=visible) */
  readonly listVirtual: boolean
}

/** A value inside libfuse's `-o` list: its option parser reads `\,` as a comma and `\\` as a backslash. */
const escapeOption = (v: string): string => v.replace(/[\\,]/g, (c) => "\\" + c)

/**
 * The options libfuse mounts with. Big writes and short cache timeouts: a sync can change any file
 * under the kernel's feet. default_permissions: the kernel checks each caller against the modes
 * and owner getattr shows, as on a local filesystem. No handler looks at the caller, so without it
 * allow_other would let every local user write and delete every file (root is let through either
 * way). A name the daemon changes on its own (a sync, a peer's push) the kernel may still find for
 * up to the entry timeout, for access(2) too: commands that change the tree of a mount do it
 * through the mount where they can (sharebox resolve). nosuid and nodev always: the files come
 * from peers.
 */
export const fuseOptionsOf = (cfg: DaemonConfig): ReadonlyArray<string> => [
    `fsname=${escapeOption(cfg.fsname)}`,
    `subtype=${cfg.subtype}`,
    "big_writes",
    "max_write=131072",
    "max_read=131072",
    "entry_timeout=1",
    "attr_timeout=1",
    "negative_timeout=0",
    "default_permissions",
    "nosuid",
    "nodev",
    ...(cfg.readonly ? ["ro"] : []),
    ...(cfg.kernel.noexec ? ["noexec"] : []),
    ...(cfg.atime === "noatime" ? ["noatime"] : []),
    ...(cfg.kernel.sync ? ["sync"] : []),
    ...(cfg.kernel.dirsync ? ["dirsync"] : []),
    ...(cfg.allowOther ? ["allow_other"] : [])
  ]

export const isMounted = async (mnt: string): Promise<boolean> => (await mountTable()).some((m) => m.point === mnt)

/** A mount whose daemon died (the kernel answers ENOTCONN): cleared so it can be mounted again. */
export const clearStaleMount = async (mnt: string): Promise<"none" | "cleared" | "live"> => {
  if (!(await isMounted(mnt))) return "none"
  try {
    // statfs, not stat: the kernel answers a stat from its attribute cache for up to a second after
    // the daemon died (a remount right after a kill -9 was refused as "already mounted"); a statfs
    // always goes to the daemon, and fails at once with ENOTCONN when there is none
    await fs.statfs(mnt)
    return "live"
  } catch (e: unknown) {
    if (codeOf(e) !== "ENOTCONN" && codeOf(e) !== "ECONNABORTED") return "live"
  }
  await run("fusermount", ["-uz", mnt])
  return (await isMounted(mnt)) ? "live" : "cleared"
}

/** The binding's fast path: reads and writes of open files served on the FUSE threads (packages/fuse-native/src/fastpath.c). */
const passthroughOf = (native: Native, kernelWanted: boolean): Passthrough => ({
  open: (fh, fd, kernel) => void native.fuse_native_passthrough_open(fh, fd, kernel ? 1 : 0),
  close: (fh) => void native.fuse_native_passthrough_open(fh, -1, 0),
  written: (fd) => native.fuse_native_passthrough_written(fd),
  kernelStatus: () => kernelStatusOf(native.fuse_native_kernel_passthrough_stats(), kernelWanted)
})

const EPERM = constants.errno.EPERM

/** The binding's figures for the kernel's passthrough (packages/fuse-native/src/passthrough.c), in words. */
export const kernelStatusOf = ([offered, on, opens, renewed, refused, errno, unprivileged]: ReadonlyArray<number>, wanted = true): string => {
  if (!wanted) return "off (-o passthrough=off)"
  if (!offered) return "off (this kernel does not offer it: Linux 6.9 or later with CONFIG_FUSE_PASSTHROUGH)"
  if (unprivileged) return "off (it takes root: the daemon has no CAP_SYS_ADMIN to hand files to the kernel)"
  const refusals = refused ? `; the kernel refused ${refused} backing file(s), last with ${getSystemErrorName(-errno!)}${errno === EPERM ? " (it takes root)" : ""}` : ""
  if (!on) return `off${refusals}`
  return `on: ${opens} open(s) read by the kernel, ${renewed} file(s) given a new inode beside the kernel's readers (a write, or a newer version)${refusals}`
}

/**
 * The binding's table of names that may exist (packages/fuse-native/src/names.c): a lookup of any
 * other name, such as the one every new file starts with, is answered there without waking
 * JavaScript. The virtual folder's paths are always asked here.
 */
const namesMirrorOf = (native: Native, local: LocalStore | undefined): ViewMirror => ({
  reset: (view) => native.fuse_native_names_reset(Buffer.from([...view.paths(), ...(local?.paths() ?? [])].join("\0") + "\0", "utf8"), VIRTUAL_ROOT),
  add: (p) => native.fuse_native_names_add(p)
})

/** An element of the binding's flat answers, which index.d.ts says the type of. */
const numberAt = (flat: ReadonlyArray<number | string>, i: number): number => {
  const v = flat[i]
  if (typeof v !== "number") throw new Error(`fuse-native answered ${String(v)} where a number belongs (element ${i})`)
  return v
}
const stringAt = (flat: ReadonlyArray<number | string>, i: number): string => {
  const v = flat[i]
  if (typeof v !== "string") throw new Error(`fuse-native answered ${String(v)} where a string belongs (element ${i})`)
  return v
}

/** The binding's creates of new files on its own threads (packages/fuse-native/src/creates.c, spares.c). */
const createsOf = (native: Native): CreatesHere => {
  const waiting = new Int32Array(1)
  native.fuse_native_created_init(waiting)
  return {
    waiting,
    take: () => {
      const flat = native.fuse_native_created_take()
      const out: Array<CreatedHere> = []
      for (let i = 0; i + 5 < flat.length; i += 6) {
        out.push({ fh: numberAt(flat, i), fd: numberAt(flat, i + 1), id: stringAt(flat, i + 2), path: stringAt(flat, i + 3), mode: numberAt(flat, i + 4), mtime: numberAt(flat, i + 5) })
      }
      return out
    },
    start: (dir, prefix) => native.fuse_native_spares_start(dir, prefix) === 1,
    reclaim: () => {
      const flat = native.fuse_native_spares_reclaim()
      const out: Array<{ fd: number; id: string }> = []
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ fd: numberAt(flat, i), id: stringAt(flat, i + 1) })
      return out
    }
  }
}

export const runDaemon = async (cfg: DaemonConfig, ready: (error?: string) => void): Promise<void> => {
  // V8 lets the heap grow to about four times what was live at the last full collection before it
  // collects again: after a remount of 100,000 files, an ls -lR piled 170 MB of garbage on 50 MB
  // live (RSS 320 MB). At twice, full collections come sooner, each a few ms of mostly concurrent
  // marking: RSS stays near 170 MB, the ls takes as long, a first mount some 60 ms longer. (Set
  // after the tree is loaded, it would wait for a full collection that never comes.)
  setFlagsFromString("--heap-growing-percent=100")
  const stamp = () => new Date().toISOString()
  // the daemon's log is read on terminals, and its lines carry names from peers
  const log = (line: string) => {
    if (cfg.debug) process.stderr.write(`${stamp()} ${printable(line)}\n`)
  }
  const warn = (line: string) => process.stderr.write(`${stamp()} sharebox: ${printable(line)}\n`)
  const Fuse = loadFuse()
  const native = Fuse.native
  // requests for .sharebox/ (status files that commands poll while they wait for the write-back)
  // are not use of the mount
  native.fuse_native_requests_quiet(VIRTUAL_ROOT)
  const served = () => native.fuse_native_requests_served()
  let host: HostServices
  try {
    // refused here, before anything is mounted, when the socket could not be served safely
    await prepareSocketFolder(cfg.gitdir)
    host = await openHost(cfg.gitdir, {
      writeback: cfg.writeback,
      getall: cfg.getall,
      log,
      warn,
      quietMs: cfg.quietMs,
      served,
      notify: makeNotifier(cfg.notifyCmd, warn)
    })
  } catch (e: unknown) {
    return ready(messageOf(e))
  }
  await saveSettings(host.content.host, cfg.settings)
  native.fuse_native_xattr_prefix?.(XATTR_PREFIX)
  const owner = { uid: cfg.uid ?? process.getuid?.() ?? 0, gid: cfg.gid ?? process.getgid?.() ?? 0, umask: cfg.umask }
  // whose files the binding's creates show (it creates none until told)
  native.fuse_native_owner(owner.uid, owner.gid, owner.umask)
  // the kernel's passthrough of reads, asked for at INIT
  native.fuse_native_kernel_passthrough(cfg.passthrough ? 1 : 0)
  const passthrough = passthroughOf(native, cfg.passthrough)
  const creates = createsOf(native)
  // a read-only mount changes no time either, as Linux leaves atimes on one
  const atime: AtimePolicy = cfg.readonly ? "noatime" : cfg.atime
  const ops = makeOperations(portsOf(host), { gitdir: host.repo.gitdir, log: warn, passthrough, creates, owner, readonly: cfg.readonly, atime, listVirtual: cfg.listVirtual, localRoot: host.repo.layout.local, served })
  // what the binding wrote without the handlers is in the staging files
  host.staging.trackWrites((fd) => passthrough.written(fd))
  // the files the binding created are adopted first, before any request and any new view
  const fuse = new Fuse(cfg.mountpoint, ops.table, { timeout: false, mountOptions: fuseOptionsOf(cfg), beforeOp: ops.adoptCreated })
  host.views.onBeforeChange(ops.adoptCreated)
  /** Lets the binding create files and answer chowns (once the names table is there, which they need). */
  const startCreating = () => {
    if (cfg.readonly) return // its creates and chowns would not ask the handlers, which refuse them
    // a chown of a name in the table: the owner kept or refused as attributes.ts's chown answers
    native.fuse_native_setattrs_here(1)
    if (!creates.start(host.repo.layout.staging, host.staging.bindingSparePrefix)) warn("the binding cannot make staging files: new files are created here")
  }
  /** Takes back the spares the binding holds and adopts what it made: before the host closes. */
  const stopCreating = () => {
    host.staging.discardSpares(creates.reclaim())
    ops.adoptCreated()
  }

  let mounted: Mounted | undefined
  let ending = false
  const end = async (why: string) => {
    if (ending) return
    ending = true
    log(`shutting down: ${why}`)
    clearInterval(watch)
    await mounted?.close().catch(() => undefined)
    stopCreating()
    // cuts short what waits on a peer, so a sync in flight answers its command at once
    await host.close().catch((e: unknown) => warn(`closing: ${messageOf(e)}`))
    await mounted?.control.drained(5000)
    if (await isMounted(cfg.mountpoint)) await run("fusermount", ["-uz", cfg.mountpoint]).catch(() => undefined)
    process.exit(0)
  }

  const watch = setInterval(() => {
    isMounted(cfg.mountpoint).then((m) => {
      if (!m && mountedOnce) void end("unmounted")
    }, () => undefined)
  }, 500)
  let mountedOnce = false

  fuse.mount(async (err: Error | null) => {
    if (err) {
      clearInterval(watch)
      await host.close().catch(() => undefined)
      return ready(`cannot mount ${cfg.mountpoint}: ${err.message}`)
    }
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => void end(sig))
    try {
      mounted = await openMounted(host, { mountpoint: cfg.mountpoint, syncInterval: cfg.syncInterval, readonly: cfg.readonly, log, warn })
    } catch (e: unknown) {
      // a mount the command line cannot reach would look served and answer nobody
      clearInterval(watch)
      await run("fusermount", ["-uz", cfg.mountpoint]).catch(() => undefined)
      await host.close().catch(() => undefined)
      return ready(`control socket: ${messageOf(e)}`)
    }
    mountedOnce = true
    log(`mounted ${cfg.gitdir} on ${cfg.mountpoint}`)
    ready()
    // after the mount is ready: until the table is made, every lookup asks the view here
    const mirror = namesMirrorOf(native, ops.local)
    host.views.mirrorView(mirror)
    if (ops.local) ops.local.names = mirror
    // new files are created in the binding only where it knows every name of the view
    startCreating()
    host.syncer.afterMount().catch((e: unknown) => warn(`getall: ${messageOf(e)}`))
  })
}
