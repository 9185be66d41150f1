/**
 * Paths given to commands (`get`, `drop`, `versions`, ...) may be inside a mount or inside a
 * gitdir's work tree, and need not exist (a deleted file to restore): walk up to the nearest
 * mount root or gitdir.
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { decodePath } from "../domain/paths.js"
import { UsageError } from "../effects/errors.js"

export interface Located {
  readonly gitdir: string
  /** the path inside the tree ("" for the root) */
  readonly path: string
}

const gitdirOfMount = async (dir: string): Promise<string | undefined> => {
  try {
    return (await fs.readFile(path.join(dir, ".sharebox", "gitdir"), "utf8")).trim()
  } catch {
    return undefined
  }
}

const isGitdir = async (dir: string): Promise<boolean> => {
  try {
    return (await fs.stat(path.join(dir, ".git", "annex"))).isDirectory()
  } catch {
    return false
  }
}

export const locate = async (p: string): Promise<Located> => {
  const abs = path.resolve(p)
  for (let dir = abs; ; dir = path.dirname(dir)) {
    const viaMount = await gitdirOfMount(dir)
    const rel = path.relative(dir, abs).split(path.sep).join("/")
    if (viaMount) return { gitdir: viaMount, path: rel }
    if (await isGitdir(dir)) {
      const decoded = decodePath(rel)
      if (rel !== "" && decoded === undefined) break
      return { gitdir: dir, path: rel === "" ? "" : decoded! }
    }
    if (dir === path.dirname(dir)) break
  }
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
