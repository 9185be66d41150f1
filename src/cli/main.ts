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
import { logOf, planLines, statusOf } from "../effects/report.js"
import { normaliseArgv } from "./argv.js"
import { daemonMain, mount, prepareGitdir } from "./mount.js"
import { resolveGitdir } from "./target.js"

const VERSION = "0.1.0"

/** Exit codes (sysexits): 0 ok, 64 usage, 66 no input, 75 temporary failure (a peer unreachable), 1 other. */
const setExit = (code: number) => {
  if (code > (process.exitCode as number | undefined ?? 0)) process.exitCode = code
}

const target = Args.text({ name: "MOUNTPOINT|GITDIR" }).pipe(
  Args.withDescription("a sharebox mountpoint, or a gitdir (default: the current directory)"),
  Args.optional
)
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
    mountpoint: Args.text({ name: "MOUNTPOINT" }).pipe(Args.withDescription("an empty directory to mount on")),
    o: Options.text("o").pipe(
      Options.repeated,
      Options.withDescription(
        "mount options, repeated or comma-separated: gitdir=DIR (required; initialised when empty), " +
          "name=NAME (this host's description, default the host name), foreground (stay attached, debug log on stderr), " +
          "getall (fetch all content after every sync), writeback=on|off (off: changes stay in the journal until sync), " +
          "syncinterval=SECONDS (sync on its own), allow_other"
      )
    )
  },
  ({ mountpoint, o }) => lift(() => mount(mountpoint, o))
).pipe(
  Command.withDescription(
    "Mount a gitdir on MOUNTPOINT and return once the mount is usable (the daemon stays in the background). " +
      "Unmount with: fusermount -u MOUNTPOINT. Also callable as: sharebox MOUNTPOINT -o gitdir=DIR. " +
      "Example: sharebox mount ~/Sharebox -o gitdir=~/.sharebox/git,name=laptop. " +
      "Exit codes: 0 mounted, 64 bad option, 66 bad gitdir or mountpoint, 75 already mounted or in use, 1 other error."
  )
)

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
).pipe(
  Command.withDescription(
    "Replay the journal, fetch every peer (git remotes of the gitdir), merge, push, and move content as the mount options say. " +
      "Quiet unless something needs a person; -v says more. Also callable as: sharebox --command sync MOUNTPOINT. " +
      "Example (crontab): */5 * * * * sharebox sync ~/Sharebox. " +
      "Exit codes: 0 every peer reached, 75 some peer unreachable (it is named on stderr), 1 error."
  )
)

/** Asks the daemon serving `gitdir`, or opens the gitdir directly (under its lock) when none does. */
const viaDaemonOr = async <A>(gitdir: string, cmd: string, args: Record<string, unknown>, direct: (h: Host) => Promise<A>): Promise<A> => {
  const answer = await askDaemon(gitdir, { cmd, args }, 3600)
  if (answer) {
    if (answer.code !== 0) throw new UsageError({ message: String(answer.result ?? `${cmd} failed`), exitCode: answer.code })
    return answer.result as A
  }
  return withHost(gitdir, direct)
}

const replayCmd = Command.make(
  "replay",
  { target, dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print the plan (operations, content to add, commits) and change nothing")) },
  ({ target, dryRun }) =>
    lift(async () => {
      const gitdir = await resolveGitdir(Option.getOrUndefined(target))
      const r = await viaDaemonOr(gitdir, "replay", { dryRun }, async (h) => ({ lines: planLines(await h.replay({ dryRun })) }))
      if (dryRun) for (const line of r.lines) process.stdout.write(line + "\n")
    })
).pipe(Command.withDescription("Replay the journal into git-annex now (no network). With --dry-run, show what replay would do."))

const logCmd = Command.make("log", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const entries = await viaDaemonOr(gitdir, "log", {}, logOf)
    for (const e of entries) {
      if (json) process.stdout.write(JSON.stringify(e) + "\n")
      else {
        const what = `${e.path}${e.to ? ` -> ${e.to}` : ""}`
        const size = e.size !== undefined ? `  ${e.size} B` : ""
        process.stdout.write(`${e.time}  ${e.op.padEnd(7)} ${what}${size}  [${e.state}]\n`)
      }
    }
  })
).pipe(Command.withDescription("List local operations no peer is known to have yet, oldest first: still in the journal, or replayed into a local commit."))

const statusCmd = Command.make("status", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const st = await viaDaemonOr(gitdir, "status", {}, (h) => statusOf(h, null))
    if (json) return void process.stdout.write(JSON.stringify(st) + "\n")
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`
    const lines = [
      `gitdir:     ${st.gitdir}`,
      `mounted:    ${st.mountpoint ?? "no"}`,
      `pending:    ${st.pending} operation(s) in the journal (${st.journalBytes} bytes), ${st.unshared} replayed but not on any peer yet`,
      `last sync:  ${st.lastSync ? `${st.lastSync.time}, reached ${st.lastSync.reached.join(", ") || "no peer"}${st.lastSync.unreachable.length ? `; unreachable: ${st.lastSync.unreachable.map((u) => u.name).join(", ")}` : ""}` : "never"}`,
      `conflicts:  ${st.conflicts.length}`,
      ...st.conflicts.map((c) => `  ${c.path} (other version: ${c.copy})`),
      `content:    ${st.files.present} of ${st.files.total} files here, ${mib(st.bytes.present)} of ${mib(st.bytes.total)}`
    ]
    process.stdout.write(lines.join("\n") + "\n")
  })
).pipe(Command.withDescription("Show whether the gitdir is mounted, pending work, the last sync, conflicts and how much content is here."))

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

/** Help and messages without colour when NO_COLOR is set or output is not a terminal. */
const plainOutput = () => {
  if (!process.env.NO_COLOR && process.stdout.isTTY) return
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: any, ...rest: Array<any>) =>
    write(typeof chunk === "string" ? chunk.replace(/\x1b\[[0-9;]*m/g, "") : chunk, ...rest)) as typeof process.stdout.write
}

const main = async () => {
  const argv = process.argv.slice(2)
  plainOutput()
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
