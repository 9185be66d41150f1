/**
 * Commands take a mountpoint or a gitdir; both lead to the gitdir. A folder inside a mount or
 * inside a gitdir's work tree is neither, whatever files (`.git`, `.sharebox/gitdir`) a peer put
 * there: see locate.ts and effects/mounts.ts.
 */
import { UsageError } from "../effects/errors.js"
import { gitdirOfMount } from "../effects/mounts.js"
import { findTree } from "./locate.js"

export const resolveGitdir = async (arg: string | undefined): Promise<string> => {
  const t = await findTree(arg ?? ".")
  if (t?.path === "" && t.gitdir !== undefined) return t.gitdir
  if (t?.path === "" && t.mount !== undefined) return gitdirOfMount(t.mount)
  throw new UsageError({ message: `${arg ?? "."} is neither a sharebox mount nor a gitdir`, exitCode: 66 })
}
