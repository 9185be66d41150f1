/**
 * The `sharebox` command.
 */
import { Args, Command, Options, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext" // not the barrel: it loads an HTTP client too
import { Console, Effect, Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { askDaemon } from "../effects/control.js"
import { Busy, UsageError, exitCodeOf, userMessage } from "../effects/errors.js"
import { type HostServices, openHost } from "../effects/hostlayer.js"
import { syncExitCode } from "../effects/sync.js"
import { printable } from "../domain/printable.js"
import { logOf, replaySummary, statusOf } from "../effects/report.js"
import { VERSION, normaliseArgv } from "./argv.js"
import { makeProgressRenderer } from "./progress.js"
import { locate, locateAll } from "./locate.js"
import { type ContentTag, contentRequest } from "../effects/requests.js"
import type { Request, RequestOf, ResultOf } from "../effects/protocol.js"
import type { SyncReport } from "../effects/results.js"
import { interactiveResolve, stdinInteraction } from "./resolve.js"
import { mount, prepareGitdir } from "./mount.js"
import { resolveGitdir } from "./target.js"

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
const withHost = async <A>(gitdir: string, f: (h: HostServices) => Promise<A>): Promise<A> => {
  // openHost takes the lock (and makes the state folder of a gitdir never mounted yet); wait for
  // it there, so no other process slips in between waiting for the lock and taking it
  const until = Date.now() + 30_000
  let host: HostServices
  for (;;) {
    try {
      // one output for warnings and reports: what both get (a lost write) is said once
      host = await openHost(gitdir, { writeback: false, warn: say })
      break
    } catch (e) {
      if (!(e instanceof Busy) || Date.now() > until) throw e
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  try {
    return await f(host)
  } finally {
    await host.close()
  }
}

/**
 * One line of text output. Names, descriptions and reasons in it may come from peers: whatever
 * could act on a terminal is shown escaped (JSON output is escaped by JSON itself).
 */
const out = (line: string): void => void process.stdout.write(`${printable(line)}\n`)

const printSync = (r: SyncReport, verbose: boolean) => {
  if (verbose) {
    for (const name of r.reached) out(`reached ${name}`)
    out(`merged ${r.merged} head(s), ${r.conflicts.length} conflict(s)`)
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
          "passthrough=on|off (on, the default: the kernel reads open files itself where it can), " +
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
    const viaDaemon = await askDaemon(gitdir, { _tag: "sync" }, 3600, say)
    if (viaDaemon) {
      // a failed sync's answer is the error message: say it (one line), not just the exit code
      if ("error" in viaDaemon) say(viaDaemon.error.split("\n").filter(Boolean).join(" "))
      else if (verbose) printSync(viaDaemon.result, true)
      return setExit(viaDaemon.code)
    }
    const r = await withHost(gitdir, (h) => h.syncer.sync(say))
    printSync(r, verbose)
    setExit(syncExitCode(r))
  })
).pipe(
  Command.withDescription(
    "Replay the journal, fetch every peer (git remotes of the gitdir), merge, push, and move content as the mount options say. " +
      "Quiet unless something needs a person; -v says more. Also callable as: sharebox --command sync MOUNTPOINT. " +
      "Example (crontab): */5 * * * * sharebox sync ~/Sharebox. " +
      "Exit codes: 0 every peer reached, 75 some peer unreachable (it is named on stderr), 1 error or a peer whose branch could not be chosen (said on stderr)."
  )
)

/** Asks the daemon serving `gitdir`, or opens the gitdir directly (under its lock) when none does. */
const viaDaemonOr = async <R extends Request>(gitdir: string, req: R, direct: (h: HostServices) => Promise<ResultOf<R["_tag"]>>): Promise<ResultOf<R["_tag"]>> => {
  const answer = await askDaemon(gitdir, req, 3600, say)
  if (!answer) return withHost(gitdir, direct)
  if ("error" in answer) throw new UsageError({ message: answer.error, exitCode: answer.code })
  if (answer.code !== 0) throw new UsageError({ message: `${req._tag} failed`, exitCode: answer.code })
  return answer.result
}

const progress = makeProgressRenderer()

/** Output lines of work: progress values rendered on a terminal (dropped elsewhere), the rest printed. */
const say = (line: string) => {
  if (!progress.take(line)) process.stderr.write(`sharebox: ${printable(line)}\n`)
}

/** A content or versions request (see effects/requests.ts), through the daemon or directly. */
const request = async <T extends ContentTag>(gitdir: string, req: RequestOf<T>): Promise<ResultOf<T> | undefined> => {
  const r = (await askDaemon(gitdir, req, 24 * 3600, say)) ?? (await withHost(gitdir, (h) => contentRequest(h, req, say)))
  setExit(r.code)
  if (!("error" in r)) return r.result
  say(r.error)
  return undefined
}

const paths = Args.text({ name: "PATH" }).pipe(Args.withDescription("files or directories in a mount or a gitdir"), Args.repeated)

const whereisCmd = Command.make("whereis", { paths, json }, ({ paths, json }) =>
  lift(async () => {
    const { gitdir, paths: ps } = await locateAll(paths)
    const result = await request(gitdir, { _tag: "whereis", paths: ps })
    for (const w of result ?? []) {
      if (json) process.stdout.write(JSON.stringify(w) + "\n")
      else {
        out(`${w.path} (${w.locations.length} cop${w.locations.length === 1 ? "y" : "ies"})`)
        for (const l of w.locations) out(`  ${l.uuid} -- ${l.description}${l.here ? " [here]" : ""}`)
      }
    }
  })
).pipe(Command.withDescription("Show which hosts and remotes have the content of each file. Example: sharebox whereis ~/Sharebox/photos"))

const getCmd = Command.make("get", { paths }, ({ paths }) =>
  lift(async () => {
    const { gitdir, paths: ps } = await locateAll(paths)
    await request(gitdir, { _tag: "get", paths: ps })
  })
).pipe(Command.withDescription("Fetch the content of files (directories: everything below) to this host. Exit 1 when some could not be fetched."))

const dropCmd = Command.make("drop", { paths }, ({ paths }) =>
  lift(async () => {
    const { gitdir, paths: ps } = await locateAll(paths)
    await request(gitdir, { _tag: "drop", paths: ps })
  })
).pipe(
  Command.withDescription(
    "Free space here: drop the content of files whose content enough other hosts have (-o copies=N of the mount, default 1). " +
      "Refused, with exit 1, where that would leave too few copies. The files stay in the tree and are fetched again when read."
  )
)

const pinCmd = (on: boolean) =>
  Command.make(on ? "pin" : "unpin", { paths }, ({ paths }) =>
    lift(async () => {
      const { gitdir, paths: ps } = await locateAll(paths)
      const list = await request(gitdir, { _tag: on ? "pin" : "unpin", paths: ps })
      if (list) for (const p of list) out(`pinned: ${p || "."}`)
    })
  ).pipe(
    Command.withDescription(
      on
        ? "Keep files or directories (present and future files) on this host: fetched at every sync, never evicted. Pins are per host."
        : "Stop keeping files or directories on this host."
    )
  )

const versionsCmd = Command.make("versions", { path: Args.text({ name: "PATH" }), json }, ({ path: p, json }) =>
  lift(async () => {
    const { gitdir, path: tp } = await locate(p)
    const vs = await request(gitdir, { _tag: "versions", path: tp })
    for (const v of vs ?? []) {
      if (json) process.stdout.write(JSON.stringify(v) + "\n")
      else {
        const what = v.deleted ? "deleted" : `${v.size ?? "?"} B  ${v.present ? "here" : "not here"}`
        out(`${v.id}  ${v.time}  ${(v.host ?? "?").padEnd(12)} ${what}`)
      }
    }
  })
).pipe(Command.withDescription("List the versions of a file (also of a deleted one): id, time, host, size, whether its content is here."))

const restoreCmd = Command.make(
  "restore",
  {
    path: Args.text({ name: "PATH" }),
    // `--version ID` is what people type; the parser keeps `--version` for the program's version, so
    // normaliseArgv (argv.ts) rewrites it to --version-id for restore
    version: Options.text("version-id").pipe(Options.withDescription("version id (from sharebox versions); also given as --version ID"), Options.optional),
    at: Options.text("at").pipe(Options.withDescription("the version current at this time, e.g. 2026-11-24T18:00"), Options.optional),
    to: Options.text("to").pipe(Options.withDescription("write it at this path instead"), Options.optional)
  },
  ({ path: p, version, at, to }) =>
    lift(async () => {
      const { gitdir, path: tp } = await locate(p)
      const dest = Option.isSome(to) ? await locate(to.value) : { gitdir, path: tp }
      if (dest.gitdir !== gitdir) throw new UsageError({ message: "--to must be in the same sharebox", exitCode: 64 })
      await request(gitdir, { _tag: "restore", path: tp, version: Option.getOrUndefined(version), at: Option.getOrUndefined(at), to: dest.path })
    })
).pipe(
  Command.withDescription(
    "Bring back a version of a file (the newest by default), also of a deleted file; an ordinary write that syncs like any other. " +
      "Example: sharebox restore ~/Sharebox/report.odt --at 2026-11-24T18:00"
  )
)

const replayCmd = Command.make(
  "replay",
  { target, dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print the plan (operations, content to add, commits) and change nothing")) },
  ({ target, dryRun }) =>
    lift(async () => {
      const gitdir = await resolveGitdir(Option.getOrUndefined(target))
      const r = await viaDaemonOr(gitdir, { _tag: "replay", dryRun }, async (h) => replaySummary(await h.replayer.replay({ dryRun })))
      if (dryRun) for (const line of r.lines) out(line)
    })
).pipe(Command.withDescription("Replay the journal into git-annex now (no network). With --dry-run, show what replay would do."))

const logCmd = Command.make("log", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const entries = await viaDaemonOr(gitdir, { _tag: "log" }, logOf)
    for (const e of entries) {
      if (json) process.stdout.write(JSON.stringify(e) + "\n")
      else {
        const what = `${e.path}${e.to ? ` -> ${e.to}` : ""}`
        const size = e.size !== undefined ? `  ${e.size} B` : ""
        out(`${e.time}  ${e.op.padEnd(7)} ${what}${size}  [${e.state}]`)
      }
    }
  })
).pipe(Command.withDescription("List local operations no peer is known to have yet, oldest first: still in the journal, or replayed into a local commit."))

const statusCmd = Command.make("status", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const st = await viaDaemonOr(gitdir, { _tag: "status" }, (h) => statusOf(h, null))
    if (json) return void process.stdout.write(JSON.stringify(st) + "\n")
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`
    const lines = [
      `gitdir:     ${st.gitdir}`,
      `mounted:    ${st.mountpoint ?? "no"}`,
      `pending:    ${st.pending} operation(s) in the journal (${st.journalBytes} bytes), ${st.unshared} replayed but not on any peer yet`,
      `last sync:  ${st.lastSync ? `${st.lastSync.time}, reached ${st.lastSync.reached.join(", ") || "no peer"}${st.lastSync.unreachable.length ? `; unreachable: ${st.lastSync.unreachable.map((u) => u.name).join(", ")}` : ""}` : "never"}`,
      `conflicts:  ${st.conflicts.length}`,
      ...st.conflicts.map((c) => `  ${c.path} (other version: ${c.copy})`),
      `content:    ${st.files.present} of ${st.files.total} files here, ${mib(st.bytes.present)} of ${mib(st.bytes.total)}`,
      `pinned:     ${st.pins.length ? st.pins.map((p) => p || ".").join(", ") : "nothing"}`
    ]
    for (const l of lines) out(l)
  })
).pipe(Command.withDescription("Show whether the gitdir is mounted, pending work, the last sync, conflicts and how much content is here."))

const conflictsCmd = Command.make("conflicts", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await resolveGitdir(Option.getOrUndefined(target))
    const list = (await request(gitdir, { _tag: "conflicts" })) ?? []
    for (const c of list) {
      if (json) process.stdout.write(JSON.stringify(c) + "\n")
      else {
        out(`${c.path}`)
        for (const v of c.versions) out(`  ${v.path}  ${v.host ?? "?"}  ${v.time}  ${v.size ?? "?"} B`)
      }
    }
  })
).pipe(Command.withDescription("List open conflicts: the path, its conflict copy, and both versions' host, time and size."))

const resolveCmd = Command.make(
  "resolve",
  {
    path: Args.text({ name: "PATH" }).pipe(Args.withDescription("a conflicted file or its copy (default: every open conflict)"), Args.optional),
    keep: Options.choice("keep", ["winner", "copy", "both"]).pipe(
      Options.withDescription("winner: keep the file, remove the copy; copy: the copy replaces the file; both: keep both as ordinary files"),
      Options.optional
    )
  },
  ({ path: p, keep }) =>
    lift(async () => {
      const loc = Option.isSome(p) ? await locate(p.value) : { gitdir: await resolveGitdir(undefined), path: undefined }
      if (Option.isSome(keep)) {
        const lines = (await request(loc.gitdir, { _tag: "resolve", path: loc.path, keep: keep.value })) ?? []
        for (const l of lines) out(l)
        return
      }
      const all = (await request(loc.gitdir, { _tag: "conflicts" })) ?? []
      const chosen = loc.path === undefined ? all : all.filter((c) => c.path === loc.path || c.copy === loc.path)
      if (chosen.length === 0) return void process.stdout.write("no open conflicts\n")
      const ping = await askDaemon(loc.gitdir, { _tag: "ping" }, 5)
      const mount = ping && "result" in ping ? ping.result.mountpoint : undefined
      const io = stdinInteraction()
      try {
        const r = await interactiveResolve(chosen, mount, io, async (copy, k) => {
          const lines = (await request(loc.gitdir, { _tag: "resolve", path: copy, keep: k })) ?? []
          return lines.join("\n")
        })
        if (r.skipped > 0) setExit(1)
      } finally {
        io.close()
      }
    })
).pipe(
  Command.withDescription(
    "Resolve conflicts. With --keep, without asking; otherwise walk through them and ask (a diff for text files; m opens " +
      "$SHAREBOX_MERGETOOL or $MERGETOOL on both versions). One host's decision reaches every host at its next sync. " +
      "Exit 1 when some conflict was left open."
  )
)

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
  Command.withSubcommands([
    mountCmd,
    syncCmd,
    replayCmd,
    logCmd,
    statusCmd,
    versionsCmd,
    restoreCmd,
    whereisCmd,
    getCmd,
    dropCmd,
    pinCmd(true),
    pinCmd(false),
    conflictsCmd,
    resolveCmd,
    initCmd
  ])
)

const cli = Command.run(root, { name: "sharebox", version: VERSION })

/** Help and messages without colour when NO_COLOR is set or output is not a terminal. */
const plainOutput = () => {
  if (!process.env.NO_COLOR && process.stdout.isTTY) return
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: any, ...rest: Array<any>) =>
    write(typeof chunk === "string" ? chunk.replace(/\x1b\[[0-9;]*m/g, "") : chunk, ...rest)) as typeof process.stdout.write
}

/** The parser explains a bad command line through Console.error; make that one line, like every other error. */
const oneLineErrors = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((c) =>
    Console.withConsole(self, {
      ...c,
      error: (...args: ReadonlyArray<any>) =>
        Effect.sync(() => {
          const text = args
            .map(String)
            .join(" ")
            .replace(/\x1b\[[0-9;]*m/g, "")
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
            .join(" ")
          if (text) process.stderr.write(`sharebox: ${text}\n`)
        })
    })
  )

const main = async () => {
  const argv = process.argv.slice(2)
  plainOutput()
  const program = cli(["node", "sharebox", ...normaliseArgv(argv)]).pipe(
    oneLineErrors,
    Effect.provide(NodeContext.layer),
    Effect.catchAll((e) =>
      Effect.sync(() => {
        if (ValidationError.isValidationError(e)) return setExit(64) // already explained by the parser
        process.stderr.write(`sharebox: ${userMessage(e)}\n`)
        setExit(exitCodeOf(e))
      })
    )
  )
  await Effect.runPromise(program)
}

main().catch((e) => {
  process.stderr.write(`sharebox: ${userMessage(e)}\n`)
  process.exitCode = 1
})
