/**
 * The `sharebox` command.
 */
import { Args, Command, Options, ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Effect, Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { askDaemon } from "../effects/control.js"
import { UsageError, userMessage } from "../effects/errors.js"
import { Host, type SyncReport } from "../effects/host.js"
import { Lock } from "../effects/lock.js"
import { layoutOf } from "../effects/layout.js"
import { normaliseArgv } from "./argv.js"
import { daemonMain, mount, prepareGitdir } from "./mount.js"
import { resolveGitdir } from "./target.js"

const VERSION = "0.1.0"

/** Exit codes (sysexits): 0 ok, 64 usage, 66 no input, 75 temporary failure (a peer unreachable), 1 other. */
const setExit = (code: number) => {
  if (code > (process.exitCode as number | undefined ?? 0)) process.exitCode = code
}

const target = Args.text({ name: "MOUNTPOINT|GITDIR" }).pipe(Args.optional)
const json = Options.boolean("json").pipe(Options.withDescription("machine-readable output, one JSON object per line"))
const verbose = Options.boolean("verbose").pipe(Options.withAlias("v"), Options.withDescription("say more"))

const lift = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (e) => e })

/** Runs `f` with the host of a gitdir opened directly (no daemon serves it), under its lock. */
const withHost = async <A>(gitdir: string, f: (h: Host) => Promise<A>): Promise<A> => {
  await Lock.acquireWaiting(layoutOf(gitdir).lock, gitdir, 30).then((l) => l.release())
  const host = await Host.open(gitdir, { writeback: false })
  try {
    return await f(host)
  } finally {
    await host.close()
  }
}

const printSync = (r: SyncReport, verbose: boolean) => {
  if (verbose) {
    for (const name of r.reached) process.stdout.write(`reached ${name}\n`)
    process.stdout.write(`merged ${r.merged} head(s), ${r.conflicts.length} conflict(s)\n`)
  }
}

const mountCmd = Command.make(
  "mount",
  {
    mountpoint: Args.text({ name: "MOUNTPOINT" }),
    o: Options.text("o").pipe(
      Options.repeated,
      Options.withDescription(
        "mount options, repeated or comma-separated: gitdir=DIR (required), name=NAME, foreground, getall, writeback=on|off, allow_other"
      )
    )
  },
  ({ mountpoint, o }) => lift(() => mount(mountpoint, o))
).pipe(Command.withDescription("Mount a gitdir (initialised when empty) on MOUNTPOINT; unmount with fusermount -u MOUNTPOINT."))

const syncCmd = Command.make("sync", { target, verbose }, ({ target, verbose }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const viaDaemon = await askDaemon(gitdir, { cmd: "sync" }, 3600, (line) => process.stderr.write(`sharebox: ${line}\n`))
    if (viaDaemon) {
      if (verbose && viaDaemon.result) printSync(viaDaemon.result as SyncReport, true)
      return setExit(viaDaemon.code)
    }
    const r = await withHost(gitdir, (h) => h.sync((line) => process.stderr.write(`sharebox: ${line}\n`)))
    printSync(r, verbose)
    setExit(r.unreachable.length ? 75 : 0)
  })
).pipe(Command.withDescription("Replay, fetch every peer, merge, push. Exit 0: all peers reached; 75: some unreachable; 1: error."))

const replayCmd = Command.make(
  "replay",
  { target, dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print the plan, change nothing")) },
  ({ target, dryRun }) =>
    lift(async () => {
      const gitdir = await resolveGitdir(Option.getOrUndefined(target))
      if (!dryRun) {
        const viaDaemon = await askDaemon(gitdir, { cmd: "replay" }, 3600)
        if (viaDaemon) return setExit(viaDaemon.code)
      }
      await withHost(gitdir, async (h) => {
        const plan = await h.replay({ dryRun })
        if (dryRun) {
          for (const e of plan.events) process.stdout.write(`${e.op} ${e.path}${e.op === "rename" ? ` -> ${e.to}` : ""}\n`)
          for (const [id, key] of plan.content) process.stdout.write(`add content ${key} (staged ${id})\n`)
          process.stdout.write(`${plan.commits.length} commit(s)\n`)
        }
      })
    })
).pipe(Command.withDescription("Replay the journal into git-annex now (no network)."))

const logCmd = Command.make("log", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const { events } = await (await import("../effects/journal.js")).Journal.open(layoutOf(gitdir).journal, () => {}).then(async (j) => {
      await j.journal.close()
      return j
    })
    for (const e of events) {
      if (json) process.stdout.write(JSON.stringify({ op: e.op, path: e.path, to: e.op === "rename" ? e.to : undefined, time: new Date(e.time).toISOString(), state: "journal" }) + "\n")
      else process.stdout.write(`${new Date(e.time).toISOString()}  ${e.op.padEnd(7)} ${e.path}${e.op === "rename" ? ` -> ${e.to}` : ""}\n`)
    }
  })
).pipe(Command.withDescription("List local operations still in the journal."))

const statusCmd = Command.make("status", { target }, ({ target }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const ping = await askDaemon(gitdir, { cmd: "ping" }, 5)
    const mp = ping?.result as { mountpoint?: string } | undefined
    process.stdout.write(`gitdir: ${gitdir}\nmounted: ${mp?.mountpoint ?? "no"}\n`)
  })
).pipe(Command.withDescription("Say whether a gitdir is mounted."))

const initCmd = Command.make(
  "init",
  { gitdir: Args.text({ name: "GITDIR" }), name: Options.text("name").pipe(Options.optional) },
  ({ gitdir, name }) =>
    lift(async () => {
      const dir = path.resolve(gitdir)
      await prepareGitdir(dir, Option.getOrElse(name, () => os.hostname()))
    })
).pipe(Command.withDescription("Initialise GITDIR as a git-annex repository for sharebox (done by mount when it is empty)."))

const root = Command.make("sharebox").pipe(
  Command.withDescription("A distributed FUSE filesystem over git-annex that works offline."),
  Command.withSubcommands([mountCmd, syncCmd, replayCmd, logCmd, statusCmd, initCmd])
)

const cli = Command.run(root, { name: "sharebox", version: VERSION })

const main = async () => {
  const argv = process.argv.slice(2)
  if (argv[0] === "__daemon") return daemonMain(argv[1]!)
  const program = cli(["node", "sharebox", ...normaliseArgv(argv)]).pipe(
    Effect.provide(NodeContext.layer),
    Effect.catchAll((e) =>
      Effect.sync(() => {
        if (ValidationError.isValidationError(e)) return setExit(64) // already explained by the parser
        process.stderr.write(`sharebox: ${userMessage(e)}\n`)
        setExit(e instanceof UsageError ? (e.exitCode ?? 64) : 1)
      })
    )
  )
  await Effect.runPromise(program)
}

main().catch((e) => {
  process.stderr.write(`sharebox: ${userMessage(e)}\n`)
  process.exitCode = 1
})
