/**
 * Getting what sharebox wrote onto the disk, in an order that a power cut cannot turn into a loss.
 *
 * The page cache survives a kill -9 of the daemon, not a power cut; and a rename (or a new name) is
 * on the disk only once its folder is fsynced. The journal is the only record of a write not yet
 * replayed, so replay lets it forget an event only after the event's content (annex objects and
 * their folders), the commit, the branch and the cursor are on the disk (Replay.replay).
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { CommandFailed } from "./errors.js"
import { run } from "./proc.js"

/** fsync(2) of a folder: the names made, renamed or removed in it are on the disk. */
export const syncDir = async (dir: string): Promise<void> => {
  const h = await fs.open(dir, "r")
  try {
    await h.sync()
  } finally {
    await h.close()
  }
}

/**
 * Replaces a file atomically (temp file, rename). With `durable`, its content and its name are on
 * the disk when this returns; without, a `syncFileSystems` later puts them there.
 */
export const writeAtomic = async (file: string, text: string, durable = false): Promise<void> => {
  const tmp = `${file}.${process.pid}.tmp`
  const h = await fs.open(tmp, "w", 0o600)
  try {
    await h.writeFile(text)
    if (durable) await h.datasync()
  } finally {
    await h.close()
  }
  await fs.rename(tmp, file)
  if (durable) await syncDir(path.dirname(file))
}

/**
 * Puts everything written so far on the filesystems that hold `paths` on the disk: syncfs(2), one
 * per filesystem, through coreutils `sync --file-system` (Node has no syncfs), so a replay costs
 * one child process however many files it wrote, and git's own writes (loose objects, packs,
 * refs: git fsyncs only packs by default) are covered without knowing their names.
 *
 * Measured on ext4 (2 cores, 2,000 / 10,000 new small files each in its own folder, as annex
 * objects are): `sync -f` 70 / 210 ms, fsync(2) of each file and its folder through the thread pool
 * (64 at a time) 900 / 2,600 ms. A replay of 2,000 writes calls it twice: 59 ms after the objects,
 * 10 ms after the commit; about 7 ms when nothing is dirty. It also flushes other programs' dirty
 * data on that filesystem; only the replay waits for that.
 *
 * Paths that do not exist are skipped. Without `sync --file-system` (not coreutils), sync(2).
 */
export const syncFileSystems = async (paths: ReadonlyArray<string>): Promise<void> => {
  const byDevice = new Map<number, string>()
  for (const p of paths) {
    const st = await fs.stat(p).catch(() => undefined)
    if (st && !byDevice.has(st.dev)) byDevice.set(st.dev, p)
  }
  if (byDevice.size === 0) return
  const args = ["--file-system", "--", ...byDevice.values()]
  const r = await run("sync", args)
  if (r.code === 0) return
  const all = await run("sync", [])
  if (all.code !== 0) throw new CommandFailed({ command: "sync", args, exitCode: r.code, stderr: r.stderr })
}
