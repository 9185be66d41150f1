/**
 * How a command reaches a gitdir: through the daemon serving it, or, when none does, by opening the
 * gitdir itself under its lock. The only module of the command that opens a host (openHost: its Layer built once per command).
 */
import { askDaemon } from "../effects/control.js"
import { Busy, UsageError } from "../effects/errors.js"
import { type HostServices, openHost } from "../effects/hostlayer.js"
import { syncExitCode } from "../effects/sync.js"
import { type ContentTag, contentRequest } from "../effects/requests.js"
import type { Request, RequestOf, ResultOf } from "../effects/protocol.js"
import type { SyncReport } from "../effects/results.js"
import { say, setExit } from "./output.js"

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

/** A sync of a gitdir no daemon serves: its report, and the exit code that report calls for. */
export const syncDirectly = (gitdir: string): Promise<{ readonly report: SyncReport; readonly code: number }> =>
  withHost(gitdir, async (h) => {
    const report = await h.syncer.sync(say)
    return { report, code: syncExitCode(report) }
  })

/** Asks the daemon serving `gitdir`, or opens the gitdir directly (under its lock) when none does. */
export const viaDaemonOr = async <R extends Request>(gitdir: string, req: R, direct: (h: HostServices) => Promise<ResultOf<R["_tag"]>>): Promise<ResultOf<R["_tag"]>> => {
  const answer = await askDaemon(gitdir, req, 3600, say)
  if (!answer) return withHost(gitdir, direct)
  if ("error" in answer) throw new UsageError({ message: answer.error, exitCode: answer.code })
  if (answer.code !== 0) throw new UsageError({ message: `${req._tag} failed`, exitCode: answer.code })
  return answer.result
}

/** A content or versions request (see effects/requests.ts), through the daemon or directly. */
export const request = async <T extends ContentTag>(gitdir: string, req: RequestOf<T>): Promise<ResultOf<T> | undefined> => {
  const r = (await askDaemon(gitdir, req, 24 * 3600, say)) ?? (await withHost(gitdir, (h) => contentRequest(h, req, say)))
  setExit(r.code)
  if (!("error" in r)) return r.result
  say(r.error)
  return undefined
}
