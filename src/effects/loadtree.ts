/**
 * The tree stored in a commit: the measured fast path of a mount (a 100,000-file tree in under
 * 3 s). It keeps its own `ls-tree` and two `cat-file --batch` processes for the length of one load
 * (per mount, not per key) rather than asking the daemon's long-lived reader (catfile.ts): that
 * one answers on one pipe, and one pipe was what set the pace here (see `loadTree`); it also flushes
 * per call, and a load's chunks would queue behind, or hold up, whatever else the host is reading.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { keyOfAnnexLink } from "../domain/key.js"
import { DIR_MARKER, baseName } from "../domain/paths.js"
import { type LoadedTree, MAX_LINK_BYTES, MAX_MARKER_BYTES, SMALL_BLOB, StoredTreeBuilder } from "../domain/storage.js"
import { CommandFailed } from "./errors.js"
import { gitEnv } from "./gitenv.js"
import { BatchParser, LsTreeParser } from "./gitstream.js"

type Plumbing = { child: ChildProcessWithoutNullStreams; done: Promise<void> }

/**
 * The tree stored in `commit`. `ls-tree` and `cat-file --batch` run side by side: each chunk of
 * the listing asks at once for the blobs it needs (symlinks, markers, small files), both outputs
 * are parsed as they arrive, and the tree is built meanwhile (entries handed on in listing order
 * as soon as they are complete), so nothing is held whole and little is left once git is done.
 *
 * From the second chunk on the blobs are asked of two `cat-file` processes, chunk by chunk in
 * turn: cat-file writes each blob with two `write` calls of its own, and with one reader woken for
 * every one of them the pipe, not git, set the pace (100,000 symlinks: 1.5 s, 1.0 s with two).
 */
export const loadTree = async (top: string, commit: string, time: Promise<number>): Promise<LoadedTree> => {
  time.catch(() => undefined) // awaited at the end
  const builder = new StoredTreeBuilder()
  type Entry = { path: string; mode: string; oid: string; size: number; data: string | undefined; linkKey: string | undefined; waiting: boolean; rawPath?: Uint8Array }
  const listed: Array<Entry | undefined> = []
  let next = 0 // the first entry not yet handed to the builder
  const handOn = () => {
    for (let e = listed[next]; e && !e.waiting; e = listed[next]) {
      builder.add(e)
      listed[next++] = undefined
    }
  }
  const readers: Array<{ asked: Array<number>; answered: number; parser: BatchParser; proc: Plumbing }> = []
  const reader = () => {
    const r = { asked: [] as Array<number>, answered: 0 } as (typeof readers)[number]
    r.parser = new BatchParser((_, data) => {
      const e = listed[r.asked[r.answered++]!]!
      if (data && e.mode === "120000") {
        const target = data.toString("utf8")
        const key = keyOfAnnexLink(target)
        // the key decoded again on its own (it ends the target): see RawEntry.linkKey
        const own = key && data.toString("utf8", data.length - Buffer.byteLength(key))
        if (own && own === key) e.linkKey = own
        else e.data = target
      } else if (data) e.data = data.toString("utf8")
      e.waiting = false
      handOn()
    })
    r.proc = plumbing(top, ["cat-file", "--batch", "--buffer"], (d) => r.parser.push(d))
    readers.push(r)
    return r
  }
  let chunks = 0
  let wanted: Array<string> = []
  let asking: Array<number> = []
  const listing = new LsTreeParser((e) => {
    // directory markers are read whatever their size: a directory of a few dozen files has a
    // marker over SMALL_BLOB, and without it every file there loses its mtime and writer
    if (e.rawPath) return void listed.push({ path: e.path, mode: e.mode, oid: e.oid, size: e.size, data: undefined, linkKey: undefined, waiting: false, rawPath: e.rawPath })
    // a symlink target past PATH_MAX is no link anything follows: not read (a peer may make it 1 GB)
    const waiting = (e.mode === "120000" && e.size <= MAX_LINK_BYTES) || e.size <= SMALL_BLOB || (baseName(e.path) === DIR_MARKER && e.size <= MAX_MARKER_BYTES)
    listed.push({ path: e.path, mode: e.mode, oid: e.oid, size: e.size, data: undefined, linkKey: undefined, waiting })
    if (waiting) {
      asking.push(listed.length - 1)
      wanted.push(e.oid)
    }
  })
  const ls = plumbing(top, ["ls-tree", "-r", "-l", "-z", "--full-tree", commit], (d) => {
    listing.push(d)
    if (wanted.length) {
      const r = readers[chunks++ % 2] ?? reader()
      for (const i of asking) r.asked.push(i)
      r.proc.child.stdin.write(wanted.join("\n") + "\n")
    }
    wanted = []
    asking = []
    handOn()
  })
  const stopReaders = async () => {
    for (const r of readers) r.proc.child.kill()
    await Promise.all(readers.map((r) => r.proc.done.catch(() => undefined)))
  }
  try {
    await ls.done
    if (listing.partial) throw new CommandFailed({ command: "git", args: ["ls-tree", commit], exitCode: 0, stderr: "its output ended in the middle of a record" })
  } catch (e) {
    await stopReaders()
    throw e
  }
  for (const r of readers) r.proc.child.stdin.end()
  try {
    await Promise.all(readers.map((r) => r.proc.done))
  } catch (e) {
    await stopReaders()
    throw e
  }
  for (const r of readers) {
    if (r.parser.partial || r.answered !== r.asked.length) {
      throw new CommandFailed({ command: "git", args: ["cat-file", "--batch"], exitCode: 0, stderr: `answered ${r.answered} of ${r.asked.length} objects` })
    }
  }
  handOn()
  if (next !== listed.length) throw new CommandFailed({ command: "git", args: ["cat-file", "--batch"], exitCode: 0, stderr: "an object asked for was never answered" })
  return builder.finish(await time)
}

/**
 * A plumbing process whose output goes to `onData` chunk by chunk. `done` fails with its stderr
 * on a non-zero exit, or with what `onData` threw (the process is killed then).
 */
const plumbing = (top: string, args: ReadonlyArray<string>, onData: (chunk: Buffer) => void): Plumbing => {
  const child = spawn("git", ["-C", top, ...args], { stdio: ["pipe", "pipe", "pipe"], env: gitEnv() })
  const err: Array<Buffer> = []
  let failed: unknown
  child.stdout.on("data", (d: Buffer) => {
    if (failed !== undefined) return
    try {
      onData(d)
    } catch (e) {
      failed = e
      child.kill()
    }
  })
  child.stderr.on("data", (d: Buffer) => err.push(d))
  child.stdin.on("error", () => {})
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (e) => reject(new CommandFailed({ command: "git", args, exitCode: null, stderr: e.message })))
    child.on("close", (code) => {
      if (failed !== undefined) reject(failed)
      else if (code === 0) resolve()
      else reject(new CommandFailed({ command: "git", args, exitCode: code, stderr: Buffer.concat(err).toString("utf8") }))
    })
  })
  done.catch(() => undefined) // awaited by the caller, maybe only after another process
  return { child, done }
}

