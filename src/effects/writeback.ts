/**
 * Write-back: replays once nothing was recorded for `quietMs` (one timer, not one per record), unless
 * the host runs in battery mode (`writeback: false`: only at sync). Listens to what the view records
 * and to the last close of each file open for writing.
 *
 * A replay reads every file it takes in, writes it into the annex and commits: work that competes
 * with the person using the mount for the disk and the cores (after a `tar x` of thousands of
 * files, a `grep -r` right after took twice as long, docs/benchmarks.md). Nothing waits on it: what
 * it replays is in the journal and the staging files already, and a sync replays first. So it also
 * waits while the mount is in use (requests served with nothing recorded: reads, listings), for
 * up to IN_USE_MAX_QUIET_PERIODS quiet periods from when it was due, after which it replays anyway.
 */
import { Context, Effect, Layer } from "effect"
import { HostConfig, type HostOptions } from "./hostconfig.js"
import { Replay, type Replayer } from "./replay.js"
import { Serial, type SerialWork } from "./serial.js"
import { Staging, type StagingArea } from "./staging.js"
import { ViewStore } from "./viewstore.js"

/** The longest a write-back waits for a mount in use to be idle, in quiet periods (30 s by default). */
export const IN_USE_MAX_QUIET_PERIODS = 30

export class WritebackTimer {
  private timer: NodeJS.Timeout | undefined
  /** when the last change was recorded */
  private lastActivity = 0
  /** the requests served at the last look, and when a look last found more */
  private servedSeen = 0
  private lastUse = 0
  /** when a replay due was first put off because the mount was in use */
  private inUseSince: number | undefined

  constructor(
    private readonly opts: HostOptions,
    private readonly staging: StagingArea,
    private readonly replayer: Replayer,
    private readonly serial: SerialWork
  ) {}

  schedule(): void {
    if (!this.opts.writeback || this.serial.closed) return
    this.lastActivity = Date.now()
    if (this.timer) return
    this.servedSeen = this.opts.served()
    this.arm(this.opts.quietMs)
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.due(), ms)
    this.timer.unref?.()
  }

  private due(): void {
    this.timer = undefined
    if (this.serial.closed) return
    const now = Date.now()
    // requests served since the last look were served at some moment since: taken as now
    const served = this.opts.served()
    if (served !== this.servedSeen) {
      this.servedSeen = served
      this.lastUse = now
    }
    const quietFor = now - this.lastActivity
    if (quietFor < this.opts.quietMs) return this.arm(this.opts.quietMs - quietFor)
    const idleFor = now - this.lastUse
    if (idleFor < this.opts.quietMs) {
      this.inUseSince ??= now
      if (now - this.inUseSince < IN_USE_MAX_QUIET_PERIODS * this.opts.quietMs) return this.arm(this.opts.quietMs - idleFor)
    }
    if (this.staging.anyDirty()) return this.schedule()
    this.inUseSince = undefined
    this.replayer.replay().catch((e) => this.opts.warn(`write-back replay failed: ${e?.message ?? e}`))
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
  }
}

export class Writeback extends Context.Tag("sharebox/Writeback")<Writeback, WritebackTimer>() {
  static layer = Layer.effect(
    Writeback,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      const views = yield* ViewStore
      const staging = yield* Staging
      const w = new WritebackTimer(opts, staging, yield* Replay, yield* Serial)
      views.onRecorded(() => w.schedule())
      staging.onReleased(() => w.schedule())
      if (views.pending.length) w.schedule()
      return w
    })
  )
}
