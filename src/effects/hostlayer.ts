/**
 * A host, composed: the Layer of every service a host is made of, built once per entry point (the
 * daemon's, or a command working on a gitdir no daemon serves), and the orderly end that runs before
 * any service lets go of its state. See docs/architecture.md for who owns what.
 */
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import { Checkout } from "./checkout.js"
import { ContentPolicy, type ContentPolicyShape } from "./contentpolicy.js"
import { HostConfig, type HostOptions, Repo } from "./hostconfig.js"
import { Merging } from "./merging.js"
import { Presence, type PresenceCache } from "./presence.js"
import { Recovery } from "./recovery.js"
import { Replay, type Replayer } from "./replay.js"
import { Serial } from "./serial.js"
import { Staging, type StagingArea } from "./staging.js"
import { Sync, type Syncer } from "./sync.js"
import { Versions, type VersionStore } from "./versions.js"
import { ViewStore, type ViewState } from "./viewstore.js"
import { Writeback } from "./writeback.js"

/** The services the daemon's FUSE operations, its control socket and the commands use. */
export interface HostServices {
  readonly repo: Repo["Type"]
  readonly views: ViewState
  readonly staging: StagingArea
  readonly presence: PresenceCache
  readonly replayer: Replayer
  readonly syncer: Syncer
  readonly versions: VersionStore
  readonly content: ContentPolicyShape
  /** Ends the host: open files journalled, pending work replayed (with write-back), state let go. */
  close(): Promise<void>
}

/**
 * The orderly end, before the services' own finalizers (spares, batch processes, journal, lock):
 * timers stop, open files are journalled, what is pending replays (unless in battery mode), the
 * work in flight ends, and a work tree still behind gets one more checkout.
 */
const Shutdown = Layer.scopedDiscard(
  Effect.gen(function* () {
    const { opts } = yield* HostConfig
    const repo = yield* Repo
    const serial = yield* Serial
    const views = yield* ViewStore
    const staging = yield* Staging
    const presence = yield* Presence
    const replayer = yield* Replay
    const checkout = yield* Checkout
    const writeback = yield* Writeback
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        // what waits on a peer (a fetch, a push, a transfer) is killed, not waited for; a killed git
        // leaves no lock behind (Git.run clears what it held)
        serial.close()
        repo.annex.closeBatches(true)
        writeback.stop()
        checkout.stopRetrying()
        await staging.releaseAll()
        if (opts.writeback && views.pending.length) await replayer.replay().catch((e) => opts.warn(`replay at exit failed: ${e?.message ?? e}`))
        await serial.idle()
        await checkout.finish()
        await presence.saveReads().catch(() => undefined)
        staging.closeSpares()
      })
    )
  })
)

/**
 * Every service of a host over `base`: its configuration, repository, what its start found and its
 * queue of work. The daemon and the commands build it over the gitdir (`hostLayer`); the
 * model-based test (test/model) over in-memory git, git-annex and journal.
 */
export const servicesOver = <E, R>(base: Layer.Layer<HostConfig | Repo | Recovery | Serial, E, R>) => {
  const view = Layer.provideMerge(ViewStore.layer, base)
  const presence = Layer.provideMerge(Presence.layer, view)
  const staging = Layer.provideMerge(Staging.layer, presence)
  const checkout = Layer.provideMerge(Layer.merge(Checkout.layer, Versions.layer), staging)
  const replay = Layer.provideMerge(Layer.mergeAll(Replay.layer, Merging.layer, ContentPolicy.layer), checkout)
  const top = Layer.provideMerge(Layer.merge(Sync.layer, Writeback.layer), replay)
  return Layer.provideMerge(Shutdown, top)
}

/** Every service of the host serving `gitdir`. */
export const hostLayer = (gitdir: string, options: Partial<HostOptions> = {}) => {
  const config = Layer.provideMerge(Repo.layer, HostConfig.layer(gitdir, options))
  return servicesOver(Layer.provideMerge(Layer.merge(Recovery.layer, Serial.layer), config))
}

/** The error an Effect failed or died with, as it was thrown (a UsageError keeps its exit code). */
const rethrow = <A>(exit: Exit.Exit<A, unknown>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}

/** Opens the host serving `gitdir`: builds its Layer once and hands out its services. */
export const openHost = async (gitdir: string, options: Partial<HostOptions> = {}): Promise<HostServices> => {
  const runtime = ManagedRuntime.make(hostLayer(gitdir, options))
  const services = await runtime
    .runPromiseExit(
      Effect.all({
        repo: Repo,
        views: ViewStore,
        staging: Staging,
        presence: Presence,
        replayer: Replay,
        syncer: Sync,
        versions: Versions,
        content: ContentPolicy
      })
    )
    .then(rethrow)
    .catch(async (e) => {
      await runtime.dispose().catch(() => undefined)
      throw e
    })
  let closing: Promise<void> | undefined
  return { ...services, close: () => (closing ??= runtime.dispose()) }
}
