/**
 * Versions: every path's committed history (read once per head), and a restore of an old version as
 * an ordinary write that syncs like any other.
 */
import { createReadStream } from "node:fs"
import * as fsSync from "node:fs"
import { promisify } from "node:util"
import { Context, Effect, Layer } from "effect"
import { ancestorsOf } from "../domain/paths.js"
import { describeRefusal } from "../domain/reduce.js"
import { type FileNode, fileMode } from "../domain/tree.js"
import { UsageError } from "./errors.js"
import { type History, type PathVersion, loadHistory } from "./history.js"
import { Repo } from "./hostconfig.js"
import { PastTrees } from "./pasttrees.js"
import { Presence, type PresenceCache } from "./presence.js"
import { Staging, type StagingArea } from "./staging.js"
import { ViewStore, type ViewState } from "./viewstore.js"

const write = promisify(fsSync.write)

export class VersionStore {
  private cache: { head: string | undefined; history: History } | undefined
  /** the whole tree's past states (`.sharebox/at/`, `revert`) */
  readonly past: PastTrees

  constructor(
    private readonly repo: Repo["Type"],
    private readonly views: ViewState,
    private readonly presence: PresenceCache,
    private readonly staging: StagingArea
  ) {
    this.past = new PastTrees(repo.git, () => views.head)
  }

  /** Every path's versions (committed history; pending writes are not versions yet). */
  async history(): Promise<History> {
    const head = this.views.head
    if (!this.cache || this.cache.head !== head) this.cache = { head, history: await loadHistory(this.repo.git, head) }
    return this.cache.history
  }

  /** Writes an old version's content at `to`, as an ordinary write that syncs like any other. */
  async restore(version: PathVersion, from: string, to: string): Promise<void> {
    const node: FileNode = {
      type: "file",
      content: version.key ? { kind: "key", key: version.key } : { kind: "blob", oid: version.oid!, size: version.size },
      executable: version.mode === "100755",
      mtime: version.time
    }
    const src = await this.presence.contentFile(from, node)
    for (const a of ancestorsOf(to)) {
      if (!this.views.view.has(a)) {
        const refusal = await this.views.record({ op: "mkdir", path: a })
        if (refusal) throw new UsageError({ message: `cannot restore to ${to}: ${a}: ${describeRefusal(refusal)}`, exitCode: 1 })
      }
    }
    if (this.views.view.isDir(to)) throw new UsageError({ message: `cannot restore to ${to}: it is a directory`, exitCode: 1 })
    const s = await this.staging.openSession(to, true, fileMode(node))
    try {
      let size = 0
      for await (const chunk of createReadStream(src)) {
        await write(s.fd, chunk as Buffer, 0, (chunk as Buffer).length, size)
        size += (chunk as Buffer).length
      }
      this.staging.touchSession(s, size)
    } finally {
      await this.staging.releaseSession(s)
    }
  }
}

export class Versions extends Context.Tag("sharebox/Versions")<Versions, VersionStore>() {
  static layer = Layer.effect(
    Versions,
    Effect.gen(function* () {
      return new VersionStore(yield* Repo, yield* ViewStore, yield* Presence, yield* Staging)
    })
  )
}
