/**
 * Commands take a mountpoint or a gitdir; both lead to the gitdir.
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { UsageError } from "../effects/errors.js"

export const resolveGitdir = async (arg: string | undefined): Promise<string> => {
  const p = path.resolve(arg ?? ".")
  try {
    return (await fs.readFile(path.join(p, ".sharebox", "gitdir"), "utf8")).trim()
  } catch {}
  try {
    const st = await fs.stat(path.join(p, ".git", "sharebox"))
    if (st.isDirectory()) return p
  } catch {}
  try {
    await fs.stat(path.join(p, ".git", "annex"))
    return p
  } catch {}
  throw new UsageError({ message: `${arg ?? "."} is neither a sharebox mount nor a gitdir`, exitCode: 66 })
}
