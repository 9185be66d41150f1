/**
 * Write-back: replays once nothing was recorded for `quietMs` (one timer, not one per record), unless
 * the host runs in battery mode (`writeback: false`: only at sync). Listens to what the view records
 * and to the last close of each file open for writing.
 */
import { Context, Effect, Layer } from "effect"
import { HostConfig, type HostOptions } from "./hostconfig.js"
import { Replay, type Replayer } from "./replay.js"
import { Serial, type SerialWork } from "./serial.js"
import { Staging, type StagingArea } from "./staging.js"
import { ViewStore } from "./viewstore.js"

export class WritebackTimer {
  private timer: NodeJS.Timeout | undefined
  private lastActivity = 0

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
    const arm = (ms: number) => {
      this.timer = setTimeout(() => {
        this.timer = undefined
        if (this.serial.closed) return
        const quietFor = Date.now() - this.lastActivity
        if (quietFor < this.opts.quietMs) return arm(this.opts.quietMs - quietFor)
        if (this.staging.anyDirty()) return this.schedule()
        this.replayer.replay().catch((e) => this.opts.warn(`write-back replay failed: ${e?.message ?? e}`))
      }, ms)
      this.timer.unref?.()
    }
    arm(this.opts.quietMs)
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
