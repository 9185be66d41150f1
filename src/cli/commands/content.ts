/** `sharebox whereis`, `get`, `drop`, `pin` and `unpin`: where content is, and where it should be. */
import { Command } from "@effect/cli"
import type { RequestOf } from "../../effects/protocol.js"
import type { ContentTag } from "../../effects/requests.js"
import { request } from "../direct.js"
import { locateAll } from "../locate.js"
import { out, printEach } from "../output.js"
import { json, lift, paths } from "./common.js"

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
).pipe(Command.withDescription("Show which hosts and remotes have the content of each file. Example: sharebox whereis ~/Sharebox/photos"))

export const getCmd = Command.make("get", { paths }, ({ paths }) =>
  lift(async () => {
    await onPaths(paths, (ps) => ({ _tag: "get", paths: ps }))
  })
).pipe(Command.withDescription("Fetch the content of files (directories: everything below) to this host. Exit 1 when some could not be fetched."))

export const dropCmd = Command.make("drop", { paths }, ({ paths }) =>
  lift(async () => {
    await onPaths(paths, (ps) => ({ _tag: "drop", paths: ps }))
  })
).pipe(
  Command.withDescription(
    "Free space here: drop the content of files whose content enough other hosts have (-o copies=N of the mount, default 1). " +
      "Refused, with exit 1, where that would leave too few copies. The files stay in the tree and are fetched again when read."
  )
)

export const pinCmd = (on: boolean) =>
  Command.make(on ? "pin" : "unpin", { paths }, ({ paths }) =>
    lift(async () => {
      const list = await onPaths(paths, (ps) => ({ _tag: on ? "pin" : "unpin", paths: ps }))
      if (list) for (const p of list) out(`pinned: ${p || "."}`)
    })
  ).pipe(
    Command.withDescription(
      on
        ? "Keep files or directories (present and future files) on this host: fetched at every sync, never evicted. Pins are per host."
        : "Stop keeping files or directories on this host."
    )
  )
