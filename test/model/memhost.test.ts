/**
 * The in-memory host (memhost.ts) is a host: the real services over in-memory git, git-annex and
 * journal record, replay and commit as they do over a gitdir.
 */
import * as fsSync from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Repo } from "../../src/effects/hostconfig.js"
import { Replay } from "../../src/effects/replay.js"
import { Staging } from "../../src/effects/staging.js"
import { ViewStore } from "../../src/effects/viewstore.js"
import type { MemAnnexes } from "./memannex.js"
import { MemNetwork } from "./memgit.js"
import { memHostDisk, memHostLayer } from "./memhost.js"

const net = new MemNetwork()
const annexes: MemAnnexes = new Map()
const disk = memHostDisk(fsSync.mkdtempSync(path.join(os.tmpdir(), "sharebox-memhost-")), "laptop", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", net, annexes)
const quiet = { writeback: false, warn: () => {}, log: () => {} }

layer(memHostLayer(disk, net, annexes, { alive: true }, quiet))("a host over in-memory git, git-annex and journal", (it) => {
  it.effect("a closed file is journalled, and a replay commits it and puts its content in the annex", () =>
    Effect.gen(function* () {
      const views = yield* ViewStore
      const staging = yield* Staging
      const replayer = yield* Replay
      const repo = yield* Repo
      expect(yield* Effect.promise(() => views.record({ op: "mkdir", path: "notes" }))).toBeUndefined()
      const s = yield* Effect.promise(() => staging.openSession("notes/hi.txt", true))
      fsSync.writeSync(s.fd, "hi\n", 0)
      staging.touchSession(s, 3)
      yield* Effect.promise(() => staging.releaseSession(s))
      expect(disk.disk.records.length).toBe(2)
      yield* Effect.promise(() => replayer.replay())
      expect(disk.disk.records.length).toBe(0)
      const node = views.base.get("notes/hi.txt")
      expect(node?.type === "file" && node.content.kind === "key" && repo.annex.hasObject(node.content.key)).toBe(true)
      const committed = yield* Effect.promise(() => repo.git.loadTree(views.head))
      expect([...committed.tree.paths()].sort()).toEqual(["notes", "notes/hi.txt"])
    })
  )
})
