/**
 * What a mounted daemon adds to its host, each a scoped service: the control socket (one handler
 * per request, in one table) with the record of where the mount is, the watcher of peers' pushes
 * into the gitdir, and the sync timer (`-o syncinterval`). `openMounted` composes their Layer once,
 * over the host's services; closing it ends them in reverse, before the host closes.
 */
import { promises as fs } from "node:fs"
import { Cause, Context, Effect, Exit, Layer, Scope } from "effect"
import { type Served, serve } from "./control.js"
import type { Handlers } from "./handlers.js"
import type { HostServices } from "./hostlayer.js"
import { withoutProgress } from "./progress.js"
import { logOf, replaySummary, statusOf } from "./report.js"
import { UsageError } from "./errors.js"
import { contentHandlers } from "./requests.js"
import { syncExitCode } from "./sync.js"
import { watchPushes } from "./watcher.js"

export interface DaemonSettings {
  readonly mountpoint: string
  /** seconds between syncs of the daemon's own (0: none) */
  readonly syncInterval: number
  /** -o ro: requests that would change the tree (restore, revert, resolve) are refused */
  readonly readonly?: boolean
  readonly log: (line: string) => void
  readonly warn: (line: string) => void
}

/** The host a daemon serves, and how. */
export class Daemon extends Context.Tag("sharebox/Daemon")<Daemon, { readonly host: HostServices; readonly settings: DaemonSettings }>() {}

/** A read-only mount changes no file: the requests that would are refused, as the kernel refuses writes. */
const readOnly = (mountpoint: string) => async (): Promise<never> => {
  throw new UsageError({ message: `${mountpoint} is mounted read-only (-o ro): nothing in it can change here`, exitCode: 1 })
}

const handlersOf = (host: HostServices, { mountpoint, readonly }: DaemonSettings): Handlers => {
  const content = contentHandlers(host)
  return {
  ping: async () => ({ code: 0, result: { pid: process.pid, mountpoint } }),
  replay: async (req, out) => ({ code: 0, result: replaySummary(await host.replayer.replay({ dryRun: req.dryRun, report: out })) }),
  status: async () => ({ code: 0, result: await statusOf(host, mountpoint) }),
  log: async () => ({ code: 0, result: await logOf(host) }),
  sync: async (req, out) => {
    const r = await host.syncer.sync(out, req.ssh)
    return { code: syncExitCode(r), result: r }
  },
  ...content,
  // a dry run changes nothing, so a read-only mount answers it too
  ...(readonly ? { restore: readOnly(mountpoint), revert: (req, out) => (req.dryRun ? content.revert(req, out) : readOnly(mountpoint)()), resolve: readOnly(mountpoint) } : {})
  }
}

/** The control socket, and `mountInfo` saying where the mount is. Closing stops taking requests. */
export class Control extends Context.Tag("sharebox/Control")<Control, Served>() {
  static layer = Layer.scoped(
    Control,
    Effect.gen(function* () {
      const { host, settings } = yield* Daemon
      const served = yield* Effect.acquireRelease(
        Effect.tryPromise({ try: () => serve(host.repo.gitdir, handlersOf(host, settings)), catch: (e) => e }),
        (s) => Effect.promise(() => s.close().catch(() => undefined))
      )
      yield* Effect.tryPromise({ try: () => fs.writeFile(host.repo.layout.mountInfo, settings.mountpoint + "\n", { mode: 0o600 }), catch: (e) => e })
      return served
    })
  )
}

/**
 * Merges what peers push into the gitdir as it arrives, and at once a push that arrived while
 * nothing was mounted (the watcher sees changes only); skipped when there is nothing new, so battery
 * mode keeps its journal.
 */
export const PushWatcher = Layer.scopedDiscard(
  Effect.gen(function* () {
    const { host, settings } = yield* Daemon
    const { log, warn } = settings
    const mergePushes = () =>
      host.syncer.mergePushed().then(
        (c) => c && log(`merged a peer's push${c.length ? ` (${c.length} conflict(s))` : ""}`),
        (e) => warn(`merging a peer's push: ${e?.message ?? e}`)
      )
    yield* Effect.acquireRelease(
      Effect.sync(() => watchPushes(host.repo.gitdir, () => void mergePushes())),
      (w) => Effect.promise(() => w.close().catch(() => undefined))
    )
    yield* Effect.promise(async () => {
      try {
        const pushed = await host.repo.git.revParse(`refs/heads/synced/${host.repo.branch}`)
        if (pushed && !(host.views.head && (await host.repo.git.isAncestor(pushed, host.views.head)))) await mergePushes()
      } catch (e: any) {
        warn(`merging a peer's push: ${e?.message ?? e}`)
      }
    })
  })
)

/** `-o syncinterval=N`: a sync every N seconds. */
export const SyncTimer = Layer.scopedDiscard(
  Effect.gen(function* () {
    const { host, settings } = yield* Daemon
    if (settings.syncInterval <= 0) return
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        setInterval(() => {
          host.syncer.sync(withoutProgress(settings.warn)).catch((e) => settings.warn(`sync: ${e?.message ?? e}`))
        }, settings.syncInterval * 1000)
      ),
      (t) => Effect.sync(() => clearInterval(t))
    )
  })
)

export interface Mounted {
  readonly control: Served
  /** Ends the mounted services (the socket stops taking requests; the watcher and timer stop). */
  close(): Promise<void>
}

/** Starts what a mounted daemon serves over `host`; fails (and starts nothing) if the socket cannot be served. */
export const openMounted = async (host: HostServices, settings: DaemonSettings): Promise<Mounted> => {
  const layer = Layer.mergeAll(Control.layer, PushWatcher, SyncTimer).pipe(Layer.provide(Layer.succeed(Daemon, { host, settings })))
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(Layer.buildWithScope(layer, scope))
  const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
  if (Exit.isFailure(exit)) {
    await close()
    throw Cause.squash(exit.cause)
  }
  let closing: Promise<void> | undefined
  return { control: Context.get(exit.value, Control), close: () => (closing ??= close()) }
}
