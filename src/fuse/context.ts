/**
 * What every handler is given: the ports, the open handles, the virtual folder, the local times,
 * and the owner and umask the mount's files show.
 */
import type { Operation } from "../domain/events.js"
import { viewPathProblem } from "../domain/paths.js"
import { E, errnoOfRefusal } from "./errno.js"
import type { Handles } from "./handles.js"
import type { Answer, Owner } from "./native.js"
import type { Ports } from "./ports.js"
import type { LocalTimes } from "./times.js"
import type { VirtualDir } from "./virtual.js"

export interface FuseContext extends Ports, Owner {
  readonly handles: Handles
  readonly virtual: VirtualDir
  readonly times: LocalTimes
  /** whether the root's listing shows the virtual folder */
  readonly listVirtual: boolean
}

/** Validates a name about to be created; an errno, or 0. */
export const checkNew = (p: string): number => {
  const problem = viewPathProblem(p)
  if (!problem) return 0
  if (problem === "name-too-long") return E.ENAMETOOLONG
  if (problem === "reserved") return E.EPERM
  return E.EINVAL
}

/** Records `op`: 0 once journaled, else the errno of the reducer's refusal. */
export const recordOp = (cx: FuseContext, op: Operation, onApplied?: () => void): Promise<number> =>
  cx.recorder.record(op, undefined, onApplied).then((refusal) => (refusal === undefined ? 0 : errnoOfRefusal(refusal)))

/** Answers as `a` does, running `f` first when that is success (0). */
export const onSuccess = (a: Answer<number>, f: () => void): Answer<number> => {
  if (typeof a !== "number") return a.then((r) => onSuccess(r, f))
  if (a === 0) f()
  return a
}
