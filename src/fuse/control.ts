/**
 * What the daemon answers on its control socket: one handler per request, in one table.
 */
import { type Served, serve } from "../effects/control.js"
import type { HostServices } from "../effects/hostlayer.js"
import { syncExitCode } from "../effects/sync.js"
import type { Handlers } from "../effects/handlers.js"
import { logOf, replaySummary, statusOf } from "../effects/report.js"
import { contentHandlers } from "../effects/requests.js"

export const serveRequests = (host: HostServices, mountpoint: string): Promise<Served> => {
  const handlers: Handlers = {
    ping: async () => ({ code: 0, result: { pid: process.pid, mountpoint } }),
    replay: async (req, out) => ({ code: 0, result: replaySummary(await host.replayer.replay({ dryRun: req.dryRun, report: out })) }),
    status: async () => ({ code: 0, result: await statusOf(host, mountpoint) }),
    log: async () => ({ code: 0, result: await logOf(host) }),
    sync: async (_, out) => {
      const r = await host.syncer.sync(out)
      return { code: syncExitCode(r), result: r }
    },
    ...contentHandlers(host)
  }
  return serve(host.repo.gitdir, handlers)
}
