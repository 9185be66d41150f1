/**
 * Lock files git leaves when it dies without cleaning up: a kill -9 or power cut of the whole
 * process group (sharebox crashed), or one git child killed on its own (the OOM killer, a person,
 * a timeout). While one exists git refuses to touch the index or that ref ("remove the file
 * manually to continue"), so every later sync or checkout would fail for good.
 *
 * A lock file is removed only if it is still there, unchanged, a second later: a live git that
 * holds one (a user's `git status`, a child that outlived its sharebox) finishes first.
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"

/** How long a git lock file must stay unchanged to count as abandoned. */
const STALE_GIT_LOCK_MS = 1000

/** The `*.lock` files git may hold in a repository: its own, the refs', git-annex's branch index. */
const lockFiles = async (dotgit: string): Promise<Array<string>> => {
  const out: Array<string> = []
  const top = await fs.readdir(dotgit).catch(() => [] as Array<string>)
  for (const f of top) if (f.endsWith(".lock")) out.push(path.join(dotgit, f))
  out.push(path.join(dotgit, "annex", "index.lock"))
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.name.endsWith(".lock")) out.push(p)
    }
  }
  await walk(path.join(dotgit, "refs"))
  return out
}

/** Removes the abandoned lock files of the repository at `gitdir`; says each through `warn`. */
export const clearStaleGitLocks = async (gitdir: string, warn: (line: string) => void, why: string): Promise<void> => {
  const dotgit = path.join(gitdir, ".git")
  const files = await lockFiles(dotgit)
  const stamps = async () => new Map((await Promise.all(files.map((f) => fs.stat(f).then((st) => [f, `${st.ino}:${st.mtimeMs}:${st.size}`] as const, () => undefined)))).filter((x) => x !== undefined))
  const before = await stamps()
  if (before.size === 0) return
  await new Promise((r) => setTimeout(r, STALE_GIT_LOCK_MS))
  for (const [f, stamp] of await stamps()) {
    if (before.get(f) !== stamp) continue
    await fs.rm(f, { force: true })
    warn(`removed ${path.relative(gitdir, f)}, left by a git process that ${why}`)
  }
}
