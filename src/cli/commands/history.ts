/** `sharebox versions`, `restore`, `conflicts` and `resolve`: earlier versions, and versions that met. */
import { Args, Command, Options } from "@effect/cli"
import { Option } from "effect"
import { askDaemon } from "../../effects/control.js"
import { UsageError } from "../../effects/errors.js"
import { timeText } from "../../domain/moments.js"
import { instantOf } from "../../effects/revert.js"
import { request } from "../direct.js"
import { locate } from "../locate.js"
import { out, printEach, setExit } from "../output.js"
import type { Keep } from "../../effects/protocol.js"
import { interactiveResolve, resolveInMount, stdinInteraction } from "../resolve.js"
import { resolveGitdir } from "../target.js"
import { gitdirOf, json, lift, target } from "./common.js"

export const versionsCmd = Command.make("versions", { path: Args.text({ name: "PATH" }), json }, ({ path: p, json }) =>
  lift(async () => {
    const { gitdir, path: tp } = await locate(p)
    const vs = await request(gitdir, { _tag: "versions", path: tp })
    printEach(vs ?? [], json, (v) => {
      const what = v.deleted ? "deleted" : `${v.size ?? "?"} B  ${v.present ? "here" : "not here"}`
      out(`${v.id}  ${v.time}  ${(v.host ?? "?").padEnd(12)} ${what}`)
    })
  })
)

export const restoreCmd = Command.make(
  "restore",
  {
    path: Args.text({ name: "PATH" }),
    // `--version ID` is what people type; the parser keeps `--version` for the program's version, so
    // normaliseArgv (argv.ts) rewrites it to --version-id for restore
    version: Options.text("version-id").pipe(Options.optional),
    at: Options.text("at").pipe(Options.optional),
    to: Options.text("to").pipe(Options.optional)
  },
  ({ path: p, version, at, to }) =>
    lift(async () => {
      const { gitdir, path: tp } = await locate(p)
      const dest = Option.isSome(to) ? await locate(to.value) : { gitdir, path: tp }
      if (dest.gitdir !== gitdir) throw new UsageError({ message: "--to must be in the same sharebox", exitCode: 64 })
      // a time is read here, with this user's clock and time zone, and sent as the instant it means
      const when = Option.isSome(at) ? timeText(instantOf(at.value)) : undefined
      await request(gitdir, { _tag: "restore", path: tp, version: Option.getOrUndefined(version), at: when, to: dest.path })
    })
)

export const revertCmd = Command.make(
  "revert",
  { path: Args.text({ name: "PATH" }), at: Options.text("at"), dryRun: Options.boolean("dry-run") },
  ({ path: p, at, dryRun }) =>
    lift(async () => {
      // refused before anything is opened: a bad TIME is a bad command line
      const when = timeText(instantOf(at))
      const { gitdir, path: tp } = await locate(p)
      for (const line of (await request(gitdir, { _tag: "revert", path: tp, at: when, dryRun })) ?? []) out(line)
    })
)

export const conflictsCmd = Command.make("conflicts", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await gitdirOf(target)
    const list = (await request(gitdir, { _tag: "conflicts" })) ?? []
    printEach(list, json, (c) => {
      out(`${c.path}`)
      for (const v of c.versions) out(`  ${v.path}  ${v.host ?? "?"}  ${v.time}  ${v.size ?? "?"} B`)
    })
  })
)

export const resolveCmd = Command.make(
  "resolve",
  {
    path: Args.text({ name: "PATH" }).pipe(Args.optional),
    keep: Options.choice("keep", ["winner", "copy", "both"]).pipe(Options.optional)
  },
  ({ path: p, keep }) =>
    lift(async () => {
      const loc = Option.isSome(p) ? await locate(p.value) : { gitdir: await resolveGitdir(undefined), path: undefined }
      const ping = await askDaemon(loc.gitdir, { _tag: "ping" }, 5)
      const mount = ping && "result" in ping ? ping.result.mountpoint : undefined
      if (Option.isSome(keep) && mount === undefined) {
        const lines = (await request(loc.gitdir, { _tag: "resolve", path: loc.path, keep: keep.value })) ?? []
        for (const l of lines) out(l)
        return
      }
      const all = (await request(loc.gitdir, { _tag: "conflicts" })) ?? []
      const chosen = loc.path === undefined ? all : all.filter((c) => c.path === loc.path || c.copy === loc.path)
      // a mounted host's conflicts are resolved through its mount (resolveInMount says why)
      const resolveOne = async (c: { path: string; copy: string }, k: Keep): Promise<string> =>
        mount !== undefined ? resolveInMount(mount, c, k) : ((await request(loc.gitdir, { _tag: "resolve", path: c.copy, keep: k })) ?? []).join("\n")
      if (Option.isSome(keep)) {
        if (loc.path !== undefined && chosen.length === 0) throw new UsageError({ message: `${loc.path}: no open conflict there`, exitCode: 66 })
        for (const c of chosen) out(await resolveOne(c, keep.value))
        return
      }
      if (chosen.length === 0) return void process.stdout.write("no open conflicts\n")
      const io = stdinInteraction()
      try {
        const r = await interactiveResolve(chosen, mount, io, resolveOne)
        if (r.skipped > 0) setExit(1)
      } finally {
        io.close()
      }
    })
)
