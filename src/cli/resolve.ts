/**
 * `sharebox resolve` without --keep: walks through the open conflicts and asks, showing both
 * versions (host, time, size, and a diff for text files), with `m` to open a merge tool.
 */
import { spawnSync } from "node:child_process"
import { promises as fs } from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { resolutionOf } from "../domain/conflictnames.js"
import { isTreePath } from "../domain/paths.js"
import { printable } from "../domain/printable.js"
import { UsageError } from "../effects/errors.js"
import type { Keep } from "../effects/protocol.js"
import type { ConflictInfo } from "../effects/results.js"

const isText = async (file: string): Promise<boolean> => {
  try {
    const h = await fs.open(file, "r")
    try {
      const st = await h.stat()
      if (st.size > 1 << 20) return false
      const buf = Buffer.alloc(Math.min(8192, st.size))
      await h.read(buf, 0, buf.length, 0)
      return !buf.includes(0)
    } finally {
      await h.close()
    }
  } catch {
    return false
  }
}

// names, hosts and times here come from peers: escaped before they reach the terminal
const describe = (v: ConflictInfo["versions"][number]) =>
  `${printable(v.path)}\n      from ${printable(v.host ?? "unknown host")}, ${printable(v.time || "unknown time")}, ${v.size ?? "?"} bytes`

/** The file of a tree path in the mount, or undefined for a path that is not one (`..`, absolute). */
const inMount = (mount: string, p: string): string | undefined => (isTreePath(p) ? path.join(mount, p) : undefined)

/**
 * Resolves a conflict of a mounted host through its mount, by the operation the daemon would record
 * (domain/conflictnames.ts resolutionOf): the kernel then forgets the names it changed at once,
 * where a change the daemon made on its own would show in the kernel's cache until its entry
 * timeout (a removed copy still found by stat, access or open for up to a second).
 */
export const resolveInMount = async (mount: string, c: { readonly path: string; readonly copy: string }, keep: Keep): Promise<string> => {
  const { op, outcome } = resolutionOf(c, keep)
  const from = inMount(mount, op.path)
  const toPath = op.op === "rename" ? op.to : undefined
  const to = toPath === undefined ? undefined : inMount(mount, toPath)
  if (from === undefined || (op.op === "rename" && to === undefined)) throw new UsageError({ message: `cannot resolve ${printable(c.path)}: not a path in the tree`, exitCode: 1 })
  try {
    if (op.op === "unlink") await fs.unlink(from)
    else {
      if (keep === "both" && (await fs.lstat(to!).then(() => true, () => false))) {
        throw new UsageError({ message: `cannot keep both: ${printable(toPath!)} exists`, exitCode: 73 })
      }
      await fs.rename(from, to!)
    }
  } catch (e: any) {
    if (e instanceof UsageError) throw e
    const why = e?.code === "EROFS" ? `${mount} is mounted read-only (-o ro)` : (e?.message ?? String(e))
    throw new UsageError({ message: `cannot resolve ${printable(c.path)}: ${why}`, exitCode: 1 })
  }
  return outcome
}

export interface Interaction {
  readonly ask: (question: string) => Promise<string | undefined>
  readonly print: (text: string) => void
  readonly close: () => void
}

/** Questions on stdin (a terminal, or lines piped in); answers end at EOF. */
export const stdinInteraction = (): Interaction => {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true })
  const lines: Array<string> = []
  const waiting: Array<(l: string | undefined) => void> = []
  let closed = false
  rl.on("line", (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)))
  rl.on("close", () => {
    closed = true
    for (const w of waiting.splice(0)) w(undefined)
  })
  return {
    ask: (q) => {
      process.stdout.write(q)
      if (lines.length) return Promise.resolve(lines.shift())
      if (closed) return Promise.resolve(undefined)
      return new Promise((r) => waiting.push(r))
    },
    print: (t) => process.stdout.write(t),
    close: () => rl.close()
  }
}

/**
 * Asks about each conflict; `resolve` applies a choice. `mount` is the mountpoint when mounted, so
 * both versions can be shown and handed to a merge tool.
 */
export const interactiveResolve = async (
  conflicts: ReadonlyArray<ConflictInfo>,
  mount: string | undefined,
  io: Interaction,
  resolve: (c: ConflictInfo, keep: Keep) => Promise<string>
): Promise<{ resolved: number; skipped: number }> => {
  let resolved = 0
  let skipped = 0
  const tool = process.env.SHAREBOX_MERGETOOL || process.env.MERGETOOL
  for (const [i, c] of conflicts.entries()) {
    const [winner, copy] = c.versions
    io.print(`\nConflict ${i + 1} of ${conflicts.length}: ${printable(c.path)}\n  [w] this version:  ${describe(winner!)}\n  [c] other version: ${describe(copy!)}\n`)
    const files = mount ? { a: inMount(mount, c.path), b: inMount(mount, c.copy) } : undefined
    if (files?.a && files.b && (await isText(files.a)) && (await isText(files.b))) {
      const d = spawnSync("diff", ["-u", "--label", c.path, "--label", c.copy, files.a, files.b], { encoding: "utf8" })
      io.print(d.stdout.split("\n").slice(0, 200).map(printable).join("\n") + "\n")
    }
    for (;;) {
      const answer = (await io.ask(`Keep [w]this, [c]other, [b]oth${files?.a && files.b && tool ? ", [m]erge tool" : ""}, [s]kip, [q]uit? `))?.trim().toLowerCase()
      if (answer === undefined || answer === "q") {
        io.print("\n")
        return { resolved, skipped: skipped + (conflicts.length - i) }
      }
      if (answer === "s") {
        skipped++
        break
      }
      if (answer === "m" && files?.a && files.b && tool) {
        // the tool is the user's own shell command (docs/security.md); the paths go as arguments
        spawnSync("sh", ["-c", `${tool} "$1" "$2"`, "mergetool", files.a, files.b], { stdio: "inherit" })
        continue
      }
      const keep: Keep | undefined = answer === "w" ? "winner" : answer === "c" ? "copy" : answer === "b" ? "both" : undefined
      if (!keep) continue
      io.print(`${await resolve(c, keep)}\n`)
      resolved++
      break
    }
  }
  return { resolved, skipped }
}
