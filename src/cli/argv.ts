/**
 * Command-line forms from before subcommands, normalised to `sharebox VERB ...`:
 *   sharebox MNT -o gitdir=DIR          -> sharebox mount MNT -o gitdir=DIR
 *   sharebox GITDIR MNT -o OPTIONS      -> sharebox mount GITDIR MNT -o OPTIONS (as mount.fuse runs it)
 *   sharebox --command sync MNT         -> sharebox sync MNT
 * `-oVALUE` becomes `-o VALUE`.
 */
import type { AtimePolicy } from "../domain/times.js"
import type { KernelFlags } from "../fuse/mount.js"

export const VERSION = "0.1.0"

export const VERBS = ["mount", "sync", "replay", "log", "status", "versions", "restore", "revert", "whereis", "get", "drop", "pin", "unpin", "conflicts", "resolve", "init"] as const

const GLOBAL_FLAGS = new Set(["--help", "-h", "--version", "--completions", "--wizard", "--log-level"])

export const normaliseArgv = (args: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === "--command" && i + 1 < args.length) {
      out.unshift(args[++i]!)
      continue
    }
    if (a.startsWith("--command=")) {
      out.unshift(a.slice("--command=".length))
      continue
    }
    if (a.startsWith("-o") && a.length > 2) {
      out.push("-o", a.slice(2))
      continue
    }
    out.push(a)
  }
  const first = out.find((a, i) => !a.startsWith("-") && (i === 0 || out[i - 1] !== "-o"))
  if (first !== undefined && !(VERBS as ReadonlyArray<string>).includes(first) && !out.some((a) => GLOBAL_FLAGS.has(a))) {
    out.unshift("mount")
  } else if (first !== undefined && (VERBS as ReadonlyArray<string>).includes(first) && out[0] !== first) {
    out.splice(out.indexOf(first), 1)
    out.unshift(first)
  }
  // `restore --version ID`: the CLI parser would take --version as the built-in "show the version"
  if (out[0] === "restore") {
    for (let i = 1; i < out.length; i++) {
      if (out[i] === "--") break
      if (out[i] === "--version" && i + 1 < out.length) out[i] = "--version-id"
      else if (out[i]!.startsWith("--version=")) out[i] = "--version-id=" + out[i]!.slice("--version=".length)
    }
  }
  return out
}

export interface MountOptions {
  readonly gitdir?: string
  readonly name?: string
  readonly foreground: boolean
  readonly getall: boolean
  readonly writeback: boolean
  /** concurrent edits of a text file merge line by line where they do not overlap (-o automerge=off: a conflict copy) */
  readonly automerge: boolean
  /** the kernel reads open files itself where it can (the default) */
  readonly passthrough: boolean
  readonly allowOther: boolean
  readonly debug: boolean
  /** seconds between syncs the daemon runs on its own (0: none) */
  readonly syncInterval: number
  readonly numVersions?: number
  readonly copies?: number
  readonly cacheSize?: number
  readonly notifyCmd?: string
  /** -o ro: the kernel and the handlers refuse every change; syncs still bring peers' changes */
  readonly readonly: boolean
  /** the owner every node shows (-o uid=, gid=); undefined: the mounting user */
  readonly uid?: number
  readonly gid?: number
  /** permission bits no node shows (-o umask=) */
  readonly umask: number
  /** what the mount table shows as the source (-o fsname=; default: the source given, else sharebox) */
  readonly fsname?: string
  /** the kernel shows the type as fuse.SUBTYPE (-o subtype=; default sharebox) */
  readonly subtype?: string
  /** the mount flags handed to the kernel beyond the defaults (nosuid, nodev, rw) */
  readonly kernel: KernelFlags
  /** what reads do to the atimes the daemon keeps (-o noatime, relatime, strictatime) */
  readonly atime: AtimePolicy
  /** whether the root's listing shows `.sharebox/` (-o snapdir=visible); reachable by name either way */
  readonly listVirtual: boolean
  /** options accepted and not honoured, each with why: printed before mounting */
  readonly warnings: ReadonlyArray<string>
}

/** "500M", "2G", "1048576" -> bytes; undefined when not a size. */
export const parseSize = (v: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(v.trim())
  if (!m) return undefined
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"]
  return Math.round(Number(m[1]) * mult)
}

/**
 * Options for mount(8), systemd or mount.fuse, not for the filesystem: accepted and dropped. mount(8)
 * keeps x-* and comment= to itself and mount.fuse3 drops most of the rest, but a helper of another
 * make, or a person copying an fstab line, may pass them on.
 */
export const FOR_MOUNT = new Set(["auto", "noauto", "user", "nouser", "users", "owner", "group", "_netdev", "nofail", "defaults"])

/** Mount flags as pairs: the last one given wins, as with mount(8). */
export const FLAG_PAIRS = new Map<string, readonly [keyof KernelFlags, boolean]>([
  ["noexec", ["noexec", true]],
  ["exec", ["noexec", false]],
  ["sync", ["sync", true]],
  ["async", ["sync", false]],
  ["dirsync", ["dirsync", true]]
])

/** The atime options, the last one given winning; atime is mount(8)'s "not noatime", so relatime. */
export const ATIMES = new Map<string, AtimePolicy>([
  ["noatime", "noatime"],
  ["atime", "relatime"],
  ["relatime", "relatime"],
  ["strictatime", "strict"]
])

const KNOWN =
  "gitdir, name, foreground, getall, writeback, passthrough, automerge, syncinterval, numversions, copies, cachesize, notifycmd, allow_other, snapdir, " +
  "ro, rw, noexec, exec, noatime, atime, relatime, strictatime, sync, async, dirsync, nosuid, nodev, uid, gid, umask, fsname, subtype, default_permissions"

/** A user or group id: a whole number the kernel can show (not -1, which chown reads as "unchanged"). */
const parseId = (v: string | undefined): number | undefined => {
  const n = v !== undefined && /^\d{1,10}$/.test(v) ? Number(v) : NaN
  return Number.isInteger(n) && n < 0xffffffff ? n : undefined
}

/** Parses repeated, comma-separated `-o` values; an error message for the first bad one. */
export const parseMountOptions = (values: ReadonlyArray<string>): MountOptions | string => {
  let o: { -readonly [K in keyof MountOptions]: MountOptions[K] } = {
    foreground: false,
    getall: false,
    writeback: true,
    automerge: true,
    passthrough: true,
    allowOther: false,
    debug: false,
    syncInterval: 0,
    readonly: false,
    umask: 0,
    kernel: { noexec: false, sync: false, dirsync: false },
    atime: "relatime",
    listVirtual: false,
    warnings: []
  }
  const notHonoured: Array<string> = []
  // commas separate options; `\,` is a comma inside a value (as in other FUSE filesystems)
  const items = values.flatMap((v) => v.split(/(?<!\\),/).map((x) => x.replace(/\\,/g, ",")))
  for (const item of items) {
    if (item === "") continue
    const eq = item.indexOf("=")
    const [k, v] = eq < 0 ? [item, undefined] : [item.slice(0, eq), item.slice(eq + 1)]
    switch (k) {
      case "gitdir":
        if (!v) return "option gitdir needs a value: -o gitdir=DIR"
        o.gitdir = v
        break
      case "name":
        if (!v) return "option name needs a value: -o name=NAME"
        o.name = v
        break
      case "foreground":
      case "getall":
      case "debug":
        if (v !== undefined) return `option ${k} takes no value`
        o = { ...o, [k]: true }
        if (k === "debug") o.foreground = true
        break
      case "syncinterval": {
        const n = Number(v)
        if (!v || !Number.isInteger(n) || n < 0) return "option syncinterval needs a whole number of seconds: -o syncinterval=300"
        o.syncInterval = n
        break
      }
      case "numversions":
      case "copies": {
        const n = Number(v)
        if (!v || !Number.isInteger(n) || n < 0 || (k === "copies" && n < 1)) return `option ${k} needs a whole number${k === "copies" ? " of at least 1" : ""}: -o ${k}=3`
        if (k === "numversions") o.numVersions = n
        else o.copies = n
        break
      }
      case "cachesize": {
        const n = v === undefined ? undefined : parseSize(v)
        if (n === undefined) return "option cachesize needs a size: -o cachesize=20G"
        o.cacheSize = n
        break
      }
      case "notifycmd":
        if (v === undefined) return "option notifycmd needs a command: -o notifycmd='notify-send sharebox'"
        o.notifyCmd = v
        break
      case "allow_other":
        o.allowOther = true
        break
      case "writeback":
      case "automerge":
      case "passthrough":
        if (v !== "on" && v !== "off") return `option ${k} must be on or off`
        o[k] = v === "on"
        break
      case "snapdir":
        if (v !== "hidden" && v !== "visible") return "option snapdir must be hidden or visible"
        o.listVirtual = v === "visible"
        break
      case "ro":
      case "rw":
        if (v !== undefined) return `option ${k} takes no value`
        o.readonly = k === "ro"
        break
      // the kernel checks every access against the modes and owner shown, on every mount
      case "default_permissions":
      // a sharebox mount is always nosuid and nodev: its files come from peers, and a peer's
      // set-user-ID file must not run with its owner's rights here (device files cannot exist)
      case "nosuid":
      case "nodev":
        if (v !== undefined) return `option ${k} takes no value`
        break
      // mount.fuse3 adds both to every mount from fstab that does not say nosuid and nodev
      case "suid":
      case "dev":
        if (v !== undefined) return `option ${k} takes no value`
        if (!notHonoured.includes(k)) notHonoured.push(k)
        break
      case "uid":
      case "gid": {
        const n = parseId(v)
        if (n === undefined) return `option ${k} needs a number: -o ${k}=1000`
        o[k] = n
        break
      }
      case "umask":
        if (v === undefined || !/^[0-7]{1,4}$/.test(v)) return "option umask needs an octal number: -o umask=022"
        o.umask = parseInt(v, 8) & 0o7777
        break
      case "fsname":
        if (!v || /[\x00-\x1f\x7f]/.test(v)) return "option fsname needs a name: -o fsname=NAME"
        o.fsname = v
        break
      case "subtype":
        if (!v || !/^[A-Za-z0-9_.+-]+$/.test(v)) return "option subtype needs a name of letters, digits, _ . + or -: -o subtype=sharebox"
        o.subtype = v
        break
      default: {
        const flag = FLAG_PAIRS.get(k)
        if (flag && v === undefined) {
          o.kernel = { ...o.kernel, [flag[0]]: flag[1] }
          break
        }
        const atime = ATIMES.get(k)
        if (atime && v === undefined) {
          o.atime = atime
          break
        }
        if ((FOR_MOUNT.has(k) && v === undefined) || k.startsWith("x-") || k === "comment") break
        return `unknown option '${k}' (known: ${KNOWN})`
      }
    }
  }
  if (notHonoured.length > 0) {
    o.warnings = [`-o ${notHonoured.join(",")} not honoured: a sharebox mount is always nosuid,nodev (its files come from peers); say nosuid,nodev in fstab to keep mount.fuse from adding them`]
  }
  return o
}

/**
 * The mountpoint and `-o` values of a command line (normalised) that is only `mount MOUNTPOINT` or
 * `mount SOURCE MOUNTPOINT` (the form mount.fuse runs for an fstab line: `sharebox SOURCE
 * MOUNTPOINT -o OPTIONS`), and `-o VALUE`s; undefined for any other, which goes to the full
 * command-line parser.
 */
export const plainMount = (args: ReadonlyArray<string>): { source?: string; mountpoint: string; o: Array<string> } | undefined => {
  if (args[0] !== "mount") return undefined
  const positional: Array<string> = []
  const o: Array<string> = []
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!
    if (a === "-o" && i + 1 < args.length) o.push(args[++i]!)
    else if (!a.startsWith("-") && positional.length < 2) positional.push(a)
    else return undefined
  }
  if (positional.length === 1) return { mountpoint: positional[0]!, o }
  if (positional.length === 2) return { source: positional[0]!, mountpoint: positional[1]!, o }
  return undefined
}
