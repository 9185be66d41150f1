/**
 * Paths given to commands may be inside a mount or inside a gitdir's work tree, and need not exist
 * (a deleted file to restore): find the mount or gitdir they belong to.
 *
 * The folders of a path are looked at from the top down, so that nothing inside a tree is ever
 * asked where the tree is: a peer writes those files (see effects/mounts.ts). Inside a mount, only
 * the mount's root is asked; below a gitdir, a symlink (a peer's, it may lead anywhere) ends the
 * walk, and the rest is a path in that gitdir's tree.
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { decodePath } from "../domain/paths.js"
import { UsageError } from "../effects/errors.js"
import { askDaemon } from "../effects/control.js"
import { gitdirOfMount, isGitdir, mountOf, otherFuseMounts, shareboxMounts } from "../effects/mounts.js"

export interface Located {
  readonly gitdir: string
  /** the path inside the tree ("" for the root) */
  readonly path: string
}

/**
 * Whether a FUSE mount of another type is sharebox's (-o subtype=): the daemon of the gitdir its
 * `.sharebox/gitdir` names answers that it serves this mount point. A peer's files cannot answer.
 */
const servedBySharebox = async (root: string): Promise<boolean> => {
  const gitdir = await gitdirOfMount(root).catch(() => undefined)
  const ping = gitdir === undefined ? undefined : await askDaemon(gitdir, { _tag: "ping" }, 5).catch(() => undefined)
  if (ping === undefined || !("result" in ping)) return false
  // the daemon has the mount point as it was given, perhaps through a symlink
  return (await fs.realpath(ping.result.mountpoint).catch(() => ping.result.mountpoint)) === root
}

/** The sharebox mount root or the gitdir a path is in, and the path inside its tree (as given). */
export const findTree = async (p: string): Promise<{ mount?: string; gitdir?: string; path: string } | undefined> => {
  const names = path.resolve(p).split(path.sep).filter(Boolean)
  const sure = await shareboxMounts()
  // other FUSE mounts of this user's count once their daemon says they are sharebox's
  let unsure = await otherFuseMounts()
  /** the innermost gitdir so far, and how many names of the path lead to it */
  let found: { gitdir: string; depth: number } | undefined
  for (let depth = 0; depth <= names.length; depth++) {
    const dir = path.sep + names.slice(0, depth).join(path.sep)
    const st = await fs.lstat(dir).catch(() => undefined)
    if (!st) break // nothing below exists: the rest is a path in the tree found so far
    if (found && st.isSymbolicLink()) break
    // outside every tree, symlinks are the user's: followed, they may reach a mount (below a
    // gitdir there are none left to follow, as the walk stopped at the first)
    const real = await fs.realpath(dir).catch(() => undefined)
    let mount = real === undefined ? undefined : mountOf([...sure, ...unsure], real)
    while (mount && unsure.includes(mount.root) && !(await servedBySharebox(mount.root))) {
      unsure = unsure.filter((m) => m !== mount!.root)
      mount = mountOf([...sure, ...unsure], real!)
    }
    if (mount) return { mount: mount.root, path: [mount.rel, ...names.slice(depth)].filter(Boolean).join("/") }
    // below a gitdir, only one the user made counts (a checkout never makes a .git)
    if (await isGitdir(dir)) found = { gitdir: dir, depth }
  }
  return found && { gitdir: found.gitdir, path: names.slice(found.depth).join("/") }
}

export const locate = async (p: string): Promise<Located> => {
  const t = await findTree(p)
  if (t?.mount !== undefined) return { gitdir: await gitdirOfMount(t.mount), path: t.path }
  // the work tree stores names the mount shows as `.git` escaped (domain/paths.ts)
  const decoded = t?.path === "" ? "" : t && decodePath(t.path)
  if (t?.gitdir !== undefined && decoded !== undefined) return { gitdir: t.gitdir, path: decoded }
  throw new UsageError({ message: `${p} is not inside a sharebox mount or gitdir`, exitCode: 66 })
}

/** Locates several paths, which must all belong to one gitdir. */
export const locateAll = async (ps: ReadonlyArray<string>): Promise<{ gitdir: string; paths: Array<string> }> => {
  if (ps.length === 0) ps = ["."]
  const all = await Promise.all(ps.map(locate))
  const gitdir = all[0]!.gitdir
  if (all.some((l) => l.gitdir !== gitdir)) throw new UsageError({ message: "the paths belong to different shareboxes; give paths of one at a time", exitCode: 64 })
  return { gitdir, paths: all.map((l) => l.path) }
}
