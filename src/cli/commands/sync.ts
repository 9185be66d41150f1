/** `sharebox sync`, `replay`, `log` and `status`: the journal, its replay, and what is still to share. */
import { Command, Options } from "@effect/cli"
import { askDaemon } from "../../effects/control.js"
import { logOf, replaySummary, statusOf } from "../../effects/report.js"
import type { SyncReport } from "../../effects/results.js"
import { syncDirectly, viaDaemonOr } from "../direct.js"
import { out, printEach, say, setExit } from "../output.js"
import { gitdirOf, json, lift, sshOf, target, verbose } from "./common.js"

const printSync = (r: SyncReport, verbose: boolean) => {
  if (verbose) {
    for (const name of r.reached) out(`reached ${name}`)
    out(`merged ${r.merged} head(s), ${r.conflicts.length} conflict(s)`)
  }
}

export const syncCmd = Command.make("sync", { target, verbose }, ({ target, verbose }) =>
  lift(async () => {
    const gitdir = await gitdirOf(target)
    // the daemon syncs: the GIT_SSH_COMMAND this command was run with goes with the request
    const viaDaemon = await askDaemon(gitdir, { _tag: "sync", ...sshOf() }, 3600, say)
    if (viaDaemon) {
      // a failed sync's answer is the error message: say it (one line), not just the exit code
      if ("error" in viaDaemon) say(viaDaemon.error.split("\n").filter(Boolean).join(" "))
      else if (verbose) printSync(viaDaemon.result, true)
      return setExit(viaDaemon.code)
    }
    const { report, code } = await syncDirectly(gitdir)
    printSync(report, verbose)
    setExit(code)
  })
)

export const replayCmd = Command.make(
  "replay",
  { target, dryRun: Options.boolean("dry-run") },
  ({ target, dryRun }) =>
    lift(async () => {
      const gitdir = await gitdirOf(target)
      const r = await viaDaemonOr(gitdir, { _tag: "replay", dryRun }, async (h) => replaySummary(await h.replayer.replay({ dryRun })))
      if (dryRun) for (const line of r.lines) out(line)
    })
)

export const logCmd = Command.make("log", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await gitdirOf(target)
    const entries = await viaDaemonOr(gitdir, { _tag: "log" }, logOf)
    printEach(entries, json, (e) => {
      const what = `${e.path}${e.to ? ` -> ${e.to}` : ""}`
      const size = e.size !== undefined ? `  ${e.size} B` : ""
      out(`${e.time}  ${e.op.padEnd(7)} ${what}${size}  [${e.state}]`)
    })
  })
)

export const statusCmd = Command.make("status", { target, json }, ({ target, json }) =>
  lift(async () => {
    const gitdir = await gitdirOf(target)
    const st = await viaDaemonOr(gitdir, { _tag: "status" }, (h) => statusOf(h, null))
    if (json) return void process.stdout.write(JSON.stringify(st) + "\n")
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`
    const lines = [
      `gitdir:     ${st.gitdir}`,
      `mounted:    ${st.mountpoint ?? "no"}`,
      `pending:    ${st.pending} operation(s) in the journal (${st.journalBytes} bytes), ${st.unshared} replayed but not on any peer yet`,
      `last sync:  ${st.lastSync ? `${st.lastSync.time}, reached ${st.lastSync.reached.join(", ") || "no peer"}${st.lastSync.unreachable.length ? `; unreachable: ${st.lastSync.unreachable.map((u) => u.name).join(", ")}` : ""}` : "never"}`,
      // the last reason per peer, as git or ssh gave it
      ...(st.lastSync?.unreachable ?? []).map((u) => `  ${u.name}: unreachable: ${u.reason}`),
      ...(st.lastSync?.failed ?? []).map((u) => `  ${u.name}: needs attention: ${u.reason}`),
      `conflicts:  ${st.conflicts.length}`,
      ...st.conflicts.map((c) => `  ${c.path} (other version: ${c.copy})`),
      `content:    ${st.files.present} of ${st.files.total} files here, ${mib(st.bytes.present)} of ${mib(st.bytes.total)}`,
      `pinned:     ${st.pins.length ? st.pins.map((p) => p || ".").join(", ") : "nothing"}`,
      `ignored:    ${st.ignored} path(s) kept on this host only (.shareboxignore)`
    ]
    for (const l of lines) out(l)
  })
)
