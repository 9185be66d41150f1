/**
 * What a host is opened with, and the repository it is: the two services every other service of a
 * host starts from (see docs/architecture.md).
 */
import { promises as fs } from "node:fs"
import { Context, Effect, Layer } from "effect"
import { TRANSFER_STALL_SECONDS } from "../domain/peers.js"
import { Annex } from "./annex.js"
import { liveGit } from "./gitport.js"
import { type Layout, layoutOf } from "./layout.js"
import type { AnnexPort, GitPort } from "./ports.js"

export interface HostOptions {
  /** replay in the background after a quiet period (false: battery mode, only at sync) */
  readonly writeback: boolean
  readonly quietMs: number
  /**
   * The requests the mount has served so far (the FUSE binding counts them; none without a
   * mount): the write-back waits while this moves, as it waits while changes are recorded.
   */
  readonly served: () => number
  readonly getall: boolean
  readonly log: (line: string) => void
  readonly warn: (line: string) => void
  /** seconds a fetch or push to one peer may take */
  readonly peerTimeout: number
  /** tells a person about a new conflict */
  readonly notify: (message: string) => Promise<void>
}

export const defaultHostOptions: HostOptions = {
  writeback: true,
  quietMs: 1000,
  served: () => 0,
  getall: false,
  log: () => {},
  warn: (l) => process.stderr.write(`sharebox: ${l}\n`),
  peerTimeout: 60,
  notify: async () => {}
}

/** The gitdir a host serves and the options it was opened with. */
export class HostConfig extends Context.Tag("sharebox/HostConfig")<HostConfig, { readonly gitdir: string; readonly opts: HostOptions }>() {
  static layer = (gitdir: string, options: Partial<HostOptions> = {}) => Layer.succeed(HostConfig, { gitdir, opts: { ...defaultHostOptions, ...options } })
}

/** The repository: where its state lives, git and git-annex over it (as ports.ts has them), its uuid and branch. */
export interface RepoShape {
  readonly gitdir: string
  readonly layout: Layout
  readonly annex: AnnexPort
  readonly git: GitPort
  readonly uuid: string
  readonly branch: string
}

export class Repo extends Context.Tag("sharebox/Repo")<Repo, RepoShape>() {
  /** Opens the repository; its git-annex batch processes end with the scope. */
  static layer = Layer.scoped(
    Repo,
    Effect.gen(function* () {
      const { gitdir, opts } = yield* HostConfig
      const layout = layoutOf(gitdir)
      const annex = new Annex(gitdir)
      annex.git.warn = opts.warn
      annex.stallSeconds = Math.min(opts.peerTimeout, TRANSFER_STALL_SECONDS)
      // its batch processes and cat-file reader end with the host, even one that failed to open
      yield* Effect.addFinalizer(() => Effect.promise(() => annex.close()))
      const [uuid, branch] = yield* Effect.promise(async () => {
        await fs.mkdir(layout.state, { recursive: true, mode: 0o700 })
        await fs.chmod(layout.state, 0o700)
        await fs.mkdir(layout.staging, { recursive: true, mode: 0o700 })
        return [await annex.uuid(), await annex.git.branch()] as const
      })
      return { gitdir, layout, annex, git: liveGit(annex.git, (f) => annex.settled(f)), uuid, branch }
    })
  )
}
