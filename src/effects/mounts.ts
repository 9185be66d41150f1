/**
 * Which sharebox mounts exist, and what a command may trust to find a gitdir.
 *
 * A peer writes whatever files it likes into the shared tree, and the tree is checked out in the
 * gitdir's work tree and shown in the mount. So a `.sharebox/gitdir` file proves nothing, except at
 * the root of a real sharebox mount, where the daemon serves it (the virtual `.sharebox/`). Whether
 * a folder is such a root is asked of the kernel's mount table, which no peer can write. Likewise a
 * `.git` directory inside a mount is the tree's (a peer's `.git~`, shown as `.git`), never a gitdir.
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { UsageError } from "./errors.js"

/** One line of /proc/self/mountinfo (the fields sharebox uses). */
export interface MountEntry {
  /** the folder of the mounted filesystem that is mounted here ("/" unless a bind mount of a part) */
  readonly root: string
  readonly point: string
  readonly fstype: string
  readonly source: string
  readonly superOptions: string
}

/** The kernel escapes space, tab, newline and backslash in paths as `\ooo`. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))

/** Parses /proc/PID/mountinfo (proc(5)): optional fields end at a lone `-`. */
export const parseMountinfo = (text: string): Array<MountEntry> => {
  const out: Array<MountEntry> = []
  for (const line of text.split("\n")) {
    const f = line.split(" ")
    const sep = f.indexOf("-", 6)
    if (f.length < 7 || sep < 0 || f.length < sep + 4) continue
    out.push({ root: unescape(f[3]!), point: unescape(f[4]!), fstype: f[sep + 1]!, source: unescape(f[sep + 2]!), superOptions: f[sep + 3]! })
  }
  return out
}

export const mountTable = async (): Promise<Array<MountEntry>> => parseMountinfo(await fs.readFile("/proc/self/mountinfo", "utf8"))

/** fuse/mount.ts mounts with subtype=sharebox, which the kernel shows as this type. */
export const SHAREBOX_FSTYPE = "fuse.sharebox"

/**
 * A sharebox mount this user's daemon serves, whole: not another user's (FUSE records who mounted
 * it), not a bind mount of a folder inside one (its `.sharebox/` would be a tree folder).
 */
export const isShareboxMount = (m: MountEntry, uid: number | undefined = process.getuid?.()): boolean =>
  m.fstype === SHAREBOX_FSTYPE && m.root === "/" && (uid === undefined || new RegExp(`(^|,)user_id=${uid}(,|$)`).test(m.superOptions))

/** The mount points of the sharebox mounts (see isShareboxMount). */
export const shareboxMounts = async (): Promise<Array<string>> => (await mountTable()).filter((m) => isShareboxMount(m)).map((m) => m.point)

/**
 * The mount points of this user's other FUSE mounts, whole: a sharebox mounted with `-o subtype=`
 * is among them, which only its daemon can say (cli/locate.ts asks it).
 */
export const otherFuseMounts = async (uid: number | undefined = process.getuid?.()): Promise<Array<string>> =>
  (await mountTable())
    .filter((m) => m.fstype.startsWith("fuse.") && m.fstype !== SHAREBOX_FSTYPE && isShareboxMount({ ...m, fstype: SHAREBOX_FSTYPE }, uid))
    .map((m) => m.point)

/**
 * The sharebox mount a path without symlinks (a realpath) is in, innermost first, and the path
 * inside it ("" for the root); undefined when it is in none.
 */
export const mountOf = (mounts: ReadonlyArray<string>, real: string): { root: string; rel: string } | undefined => {
  let best: string | undefined
  for (const m of mounts) {
    const inside = real === m || real.startsWith(m.endsWith(path.sep) ? m : m + path.sep)
    if (inside && (best === undefined || m.length > best.length)) best = m
  }
  return best === undefined ? undefined : { root: best, rel: path.relative(best, real).split(path.sep).join("/") }
}

const isDir = async (p: string, follow: boolean): Promise<boolean> => ((await (follow ? fs.stat(p) : fs.lstat(p)).catch(() => undefined))?.isDirectory() ?? false)

/**
 * A gitdir: a real `.git` directory (a symlinked `.git` could lead anywhere) of a git-annex or
 * sharebox repository. Only for folders outside every sharebox mount: see mountOf.
 */
export const isGitdir = async (dir: string): Promise<boolean> =>
  (await isDir(path.join(dir, ".git"), false)) && ((await isDir(path.join(dir, ".git", "annex"), true)) || (await isDir(path.join(dir, ".git", "sharebox"), true)))

/**
 * The gitdir a sharebox mount root serves, from its daemon's `.sharebox/gitdir`. It must name a
 * sharebox gitdir by its absolute path; anything else is refused in one line.
 */
export const gitdirOfMount = async (root: string): Promise<string> => {
  const file = path.join(root, ".sharebox", "gitdir")
  let gitdir: string
  try {
    gitdir = (await fs.readFile(file, "utf8")).trim()
  } catch (e: any) {
    throw new UsageError({ message: `${root} is a sharebox mount, but ${file} cannot be read (${e?.code ?? e})`, exitCode: 66 })
  }
  const ok = path.isAbsolute(gitdir) && (await isDir(path.join(gitdir, ".git"), false)) && (await isDir(path.join(gitdir, ".git", "sharebox"), true))
  if (!ok) throw new UsageError({ message: `${file} names ${JSON.stringify(gitdir)}, which is not the absolute path of a sharebox gitdir`, exitCode: 66 })
  return gitdir
}
