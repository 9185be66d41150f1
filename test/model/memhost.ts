/**
 * A host whose git, git-annex, journal and lock are in memory, and whose every service is the real
 * one (`servicesOver`, as `hostLayer` composes them). Its "disk" is what outlives a process: the
 * in-memory repository and annex, the journal's records, the lock's record, and a temp folder for
 * the state folder's files and staging files. `crash` drops the process without its orderly end.
 */
import * as fsSync from "node:fs"
import * as path from "node:path"
import { Effect, Layer, ManagedRuntime } from "effect"
import { HostConfig, type HostOptions, Repo } from "../../src/effects/hostconfig.js"
import { servicesOver } from "../../src/effects/hostlayer.js"
import { layoutOf } from "../../src/effects/layout.js"
import { Recovery } from "../../src/effects/recovery.js"
import { Replay } from "../../src/effects/replay.js"
import { Serial } from "../../src/effects/serial.js"
import { Staging } from "../../src/effects/staging.js"
import { Sync } from "../../src/effects/sync.js"
import { ViewStore } from "../../src/effects/viewstore.js"
import { MemDisk, MemJournal, type MemAnnexes, MemObjects, memAnnex, memLock } from "./memannex.js"
import { type MemNetwork, memGit } from "./memgit.js"

/** What one host keeps across processes. */
export interface MemHostDisk {
  readonly name: string
  readonly uuid: string
  /** the gitdir's folder on the real disk (state folder, staging files, annex objects) */
  readonly gitdir: string
  readonly disk: MemDisk
}

export const memHostDisk = (root: string, name: string, uuid: string, net: MemNetwork, annexes: MemAnnexes): MemHostDisk => {
  const gitdir = path.join(root, name)
  fsSync.mkdirSync(gitdir, { recursive: true })
  net.repo(name)
  annexes.set(name, new MemObjects(uuid, path.join(gitdir, "objects")))
  return { name, uuid, gitdir, disk: new MemDisk() }
}

/** The base `servicesOver` builds on, for one process of the host on `h`. */
export const memBase = (h: MemHostDisk, net: MemNetwork, annexes: MemAnnexes, process: { alive: boolean }, options: Partial<HostOptions> = {}) => {
  const config = HostConfig.layer(h.gitdir, options)
  const repo = Layer.effect(
    Repo,
    Effect.sync(() => {
      const layout = layoutOf(h.gitdir)
      fsSync.mkdirSync(layout.staging, { recursive: true, mode: 0o700 })
      const r = net.repo(h.name)
      return { gitdir: h.gitdir, layout, annex: memAnnex(r, annexes), git: memGit(r), uuid: h.uuid, branch: "main" }
    })
  )
  const recovery = Recovery.over(() => ({
    lock: () => memLock(h.disk, h.gitdir),
    openJournal: async () => MemJournal.open(h.disk, process),
    clearStaleLocks: async () => {}
  }))
  return Layer.provideMerge(Layer.merge(recovery, Serial.layer), Layer.provideMerge(repo, config))
}

/** Every service of the host on `h`, over its in-memory disk. */
export const memHostLayer = (h: MemHostDisk, net: MemNetwork, annexes: MemAnnexes, process: { alive: boolean }, options: Partial<HostOptions> = {}) =>
  servicesOver(memBase(h, net, annexes, process, options))

/** One process of a host: its services, and its two ways to end. */
export const openMemHost = async (h: MemHostDisk, net: MemNetwork, annexes: MemAnnexes, options: Partial<HostOptions> = {}) => {
  const process = { alive: true }
  const runtime = ManagedRuntime.make(memHostLayer(h, net, annexes, process, options))
  const services = await runtime.runPromise(Effect.all({ views: ViewStore, staging: Staging, replayer: Replay, syncer: Sync }))
  return {
    ...services,
    /** The orderly end (Shutdown, then each service lets go of its state). */
    close: () => runtime.dispose(),
    /**
     * A kill -9: no orderly end. What the kernel does for a dead process is done (its lock goes,
     * its descriptors close); the journal refuses the dead process's writes; the rest is left.
     */
    crash() {
      process.alive = false
      h.disk.held = false
      services.staging.closeSpares()
      for (const s of services.staging.sessions.values()) fsSync.closeSync(s.fd)
    }
  }
}

export type MemHost = Awaited<ReturnType<typeof openMemHost>>
