/**
 * The gitdir lock between real processes: of many that race for a lock its holder left at a kill -9,
 * exactly one gets it, knows the holder before it crashed, and every other is told who holds it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ROOT, World, scaled } from "./harness.js"

const RACERS = 12
const ROUNDS = scaled(1, 5)

/**
 * One process with the built lock module: says `ready`, waits for a line on stdin, tries the lock
 * once and says `held PID CRASHED` or `busy PID`. A holder lets go after a while; with `die` it
 * starts a child of its own (which must not keep the lock alive) and waits to be killed.
 */
const RACER = `
import { spawn } from "node:child_process"
import { Lock } from ${JSON.stringify(path.join(ROOT, "dist", "effects", "lock.js"))}
const [file, gitdir, mode] = process.argv.slice(1)
process.stdout.write("ready\\n")
await new Promise((r) => process.stdin.once("data", r))
try {
  const lock = await Lock.acquire(file, gitdir)
  if (mode === "die") {
    const child = spawn("sleep", ["60"], { stdio: "ignore", detached: true })
    process.stdout.write("child " + child.pid + "\\n")
  }
  process.stdout.write("held " + process.pid + " " + lock.crashed + "\\n")
  if (mode === "die") await new Promise(() => {})
  await new Promise((r) => setTimeout(r, 3000))
  await lock.release()
} catch (e) {
  process.stdout.write("busy " + (e.pid ?? e.message) + "\\n")
}
process.exit(0)
`

interface Racer {
  readonly child: ChildProcess
  readonly lines: Array<string>
  readonly exited: Promise<void>
}

const startRacer = (file: string, gitdir: string, mode = "race"): Racer => {
  const child = spawn(process.execPath, ["--input-type=module", "-e", RACER, file, gitdir, mode], { stdio: ["pipe", "pipe", "inherit"] })
  const lines: Array<string> = []
  let buf = ""
  child.stdout!.on("data", (d) => {
    buf += d
    const parts = buf.split("\n")
    buf = parts.pop()!
    lines.push(...parts)
  })
  const exited = new Promise<void>((r) => child.on("exit", () => r()))
  return { child, lines, exited }
}

const until = async (f: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out")
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("the gitdir lock", () => {
  const w = new World("sharebox-lock")
  const gitdir = path.join(w.root, "git")
  const state = path.join(gitdir, ".git", "sharebox")
  const file = path.join(state, "lock")
  fs.mkdirSync(state, { recursive: true, mode: 0o700 })
  const orphans: Array<number> = []

  afterAll(() => {
    for (const pid of orphans) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {}
    }
    fs.rmSync(w.root, { recursive: true, force: true })
  })

  it(`has exactly one holder when ${RACERS} processes race for one left by a kill -9, ${ROUNDS === 1 ? "once" : `${ROUNDS} times over`}`, async () => {
    const holders: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      const dying = startRacer(file, gitdir, "die")
      await until(() => dying.lines.includes("ready"))
      dying.child.stdin!.write("go\n")
      await until(() => dying.lines.some((l) => l.startsWith("held ")))
      orphans.push(Number(dying.lines.find((l) => l.startsWith("child "))!.split(" ")[1]))
      dying.child.kill("SIGKILL")
      await dying.exited

      const racers = Array.from({ length: RACERS }, () => startRacer(file, gitdir))
      await until(() => racers.every((r) => r.lines.includes("ready")))
      for (const r of racers) r.child.stdin!.write("go\n")
      await Promise.all(racers.map((r) => r.exited))
      const outcomes = racers.map((r) => r.lines.find((l) => /^(held|busy) /.test(l)) ?? r.lines.join("|"))
      const held = outcomes.filter((o) => o.startsWith("held "))
      holders.push(held.length)
      expect(held, `round ${round}: ${outcomes.join(", ")}`).toHaveLength(1)
      const [, pid, crashed] = held[0]!.split(" ")
      expect(crashed, "the holder knows the one before it died holding the lock").toBe("true")
      expect(outcomes.filter((o) => o !== held[0]).sort()).toEqual(Array(RACERS - 1).fill(`busy ${pid}`))
    }
    expect(holders).toEqual(Array(ROUNDS).fill(1))
  }, 180_000)
})
