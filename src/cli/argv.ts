/**
 * Command-line forms from before subcommands, normalised to `sharebox VERB ...`:
 *   sharebox MNT -o gitdir=DIR          -> sharebox mount MNT -o gitdir=DIR
 *   sharebox --command sync MNT         -> sharebox sync MNT
 * `-oVALUE` becomes `-o VALUE`.
 */
export const VERSION = "0.1.0"

export const VERBS = ["mount", "sync", "replay", "log", "status", "versions", "restore", "whereis", "get", "drop", "pin", "unpin", "conflicts", "resolve", "init"] as const

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
}

/** "500M", "2G", "1048576" -> bytes; undefined when not a size. */
export const parseSize = (v: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(v.trim())
  if (!m) return undefined
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"]
  return Math.round(Number(m[1]) * mult)
}

/** Options every FUSE filesystem is handed by mount(8)/mount.fuse; accepted and ignored. */
const GENERIC = new Set(["rw", "ro", "dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime", "relatime", "auto", "noauto", "user", "nouser", "users", "_netdev", "nofail", "defaults"])

/** Parses repeated, comma-separated `-o` values; an error message for the first bad one. */
export const parseMountOptions = (values: ReadonlyArray<string>): MountOptions | string => {
  let o: { -readonly [K in keyof MountOptions]: MountOptions[K] } = { foreground: false, getall: false, writeback: true, passthrough: true, allowOther: false, debug: false, syncInterval: 0 }
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
      case "passthrough":
        if (v !== "on" && v !== "off") return `option ${k} must be on or off`
        o[k] = v === "on"
        break
      default:
        if (GENERIC.has(k) && v === undefined) break
        return `unknown option '${k}' (known: gitdir, name, foreground, getall, writeback, passthrough, syncinterval, numversions, copies, cachesize, notifycmd, allow_other)`
    }
  }
  return o
}

/**
 * The mountpoint and `-o` values of a command line (normalised) that is only `mount MOUNTPOINT`
 * and `-o VALUE`s; undefined for any other, which goes to the full command-line parser.
 */
export const plainMount = (args: ReadonlyArray<string>): { mountpoint: string; o: Array<string> } | undefined => {
  if (args[0] !== "mount") return undefined
  let mountpoint: string | undefined
  const o: Array<string> = []
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!
    if (a === "-o" && i + 1 < args.length) o.push(args[++i]!)
    else if (!a.startsWith("-") && mountpoint === undefined) mountpoint = a
    else return undefined
  }
  return mountpoint === undefined ? undefined : { mountpoint, o }
}
