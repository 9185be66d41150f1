/**
 * Read-only extended attributes of annexed files: the key, whether the content is here, and the
 * hosts that have it. No other name exists, and none can be set or removed.
 */
import { XATTR_PREFIX } from "./binding.js"
import type { FuseContext } from "./context.js"
import type { Answer, Outcome } from "./native.js"
import { E } from "./errno.js"

const KEY = `${XATTR_PREFIX}key`
const PRESENT = `${XATTR_PREFIX}present`
const WHEREIS = `${XATTR_PREFIX}whereis`
const XATTRS: ReadonlyArray<string> = [KEY, PRESENT, WHEREIS]

const valueOf = async (cx: FuseContext, key: string, name: string): Promise<Buffer> => {
  if (name === KEY) return Buffer.from(key, "utf8")
  if (name === PRESENT) return Buffer.from(cx.content.isPresent(key) ? "1" : "0", "utf8")
  // hosts by description (the -o name), as `sharebox whereis` shows them
  return Buffer.from((await cx.locations.whereis(key)).join(", "), "utf8")
}

export const getxattr = (cx: FuseContext, p: string, name: string): Answer<Buffer> => {
  if (cx.virtual.owns(p)) return E.ENODATA
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  if (n.type !== "file" || n.content.kind !== "key" || !XATTRS.includes(name)) return E.ENODATA
  return valueOf(cx, n.content.key, name)
}

export const listxattr = (cx: FuseContext, p: string): Outcome<ReadonlyArray<string>> => {
  if (cx.virtual.owns(p)) return []
  const n = cx.views.view.get(p)
  if (!n) return E.ENOENT
  return n.type === "file" && n.content.kind === "key" ? XATTRS : []
}

export const setxattr = (name: string): number => (XATTRS.includes(name) ? E.EPERM : E.ENOTSUP)

export const removexattr = (): number => E.ENODATA
