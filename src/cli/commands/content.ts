/** `sharebox whereis`, `get`, `drop`, `pin` and `unpin`: where content is, and where it should be. */
import { Command } from "@effect/cli"
import type { RequestOf } from "../../effects/protocol.js"
import type { ContentTag } from "../../effects/requests.js"
import { request } from "../direct.js"
import { locateAll } from "../locate.js"
import { out, printEach } from "../output.js"
import { json, lift, paths, sshOf } from "./common.js"

/** A request about paths that all lie in one sharebox, sent to the gitdir they lead to. */
const onPaths = async <T extends ContentTag>(ps: ReadonlyArray<string>, req: (paths: Array<string>) => RequestOf<T>) => {
  const { gitdir, paths } = await locateAll(ps)
  return request(gitdir, req(paths))
}

export const whereisCmd = Command.make("whereis", { paths, json }, ({ paths, json }) =>
  lift(async () => {
    const result = await onPaths(paths, (ps) => ({ _tag: "whereis", paths: ps }))
    printEach(result ?? [], json, (w) => {
      out(`${w.path} (${w.locations.length} cop${w.locations.length === 1 ? "y" : "ies"})`)
      for (const l of w.locations) out(`  ${l.uuid} -- ${l.description}${l.here ? " [here]" : ""}`)
    })
  })
)

export const getCmd = Command.make("get", { paths }, ({ paths }) =>
  lift(async () => {
    await onPaths(paths, (ps) => ({ _tag: "get", paths: ps, ...sshOf() }))
  })
)

export const dropCmd = Command.make("drop", { paths }, ({ paths }) =>
  lift(async () => {
    await onPaths(paths, (ps) => ({ _tag: "drop", paths: ps, ...sshOf() }))
  })
)

export const pinCmd = (on: boolean) =>
  Command.make(on ? "pin" : "unpin", { paths }, ({ paths }) =>
    lift(async () => {
      const list = await onPaths(paths, (ps) => ({ _tag: on ? "pin" : "unpin", paths: ps }))
      if (list) for (const p of list) out(`pinned: ${p || "."}`)
    })
  )
