/**
 * git-annex keys: `BACKEND-sSIZE[-mMTIME][-SCHUNK][-CN]--NAME`, e.g. `SHA256E-s12--<hex>.txt`.
 * The size field is what lets an absent file show its real size.
 */
import { nameProblem } from "./paths.js"

export interface ParsedKey {
  readonly backend: string
  readonly size: number | undefined
  readonly name: string
}

/**
 * Keys arrive from peers (annex links, pointer files, location logs) and become a file name in the
 * annex (`objects/Xx/Yy/KEY/KEY`) and a line of git-annex's batch protocols: one that is not a
 * single name (`/`, NUL, over 255 bytes) or holds a line break or other control character could
 * name another file or smuggle a second request into the batch, and is no key.
 */
const UNSAFE_IN_KEY = /[\u0000-\u001f\u007f]/

export const parseKey = (key: string): ParsedKey | undefined => {
  if (UNSAFE_IN_KEY.test(key) || nameProblem(key) !== undefined) return undefined
  const sep = key.indexOf("--")
  if (sep <= 0) return undefined
  const fields = key.slice(0, sep).split("-")
  const backend = fields[0]!
  if (!/^[A-Z0-9]+E?$/.test(backend)) return undefined
  let size: number | undefined
  for (const f of fields.slice(1)) {
    if (f.startsWith("s")) {
      const n = Number(f.slice(1))
      if (!Number.isSafeInteger(n) || n < 0) return undefined
      size = n
    }
  }
  const name = key.slice(sep + 2)
  if (name.includes("/") || name.length === 0) return undefined
  return { backend, size, name }
}

export const isKey = (s: string): boolean => parseKey(s) !== undefined

/** Size recorded in the key, or 0 when the key has none (e.g. URL keys). */
export const keySize = (key: string): number => parseKey(key)?.size ?? 0

const MAX_EXT_LEN = 4

/**
 * The extension a SHA256E key gets for a file name, as git-annex chooses it: up to two trailing
 * extensions, each 1-4 alphanumeric characters, never the whole name.
 */
export const keyExtension = (fileName: string): string => {
  const parts = fileName.split(".")
  if (parts.length < 2) return ""
  const exts: Array<string> = []
  for (let i = parts.length - 1; i >= 1 && exts.length < 2; i--) {
    const p = parts[i]!
    if (p.length === 0 || p.length > MAX_EXT_LEN || !/^[A-Za-z0-9]+$/.test(p)) break
    if (i === 1 && parts[0] === "") break
    exts.unshift(p)
  }
  return exts.length ? "." + exts.join(".") : ""
}

export const sha256Key = (hexDigest: string, size: number, fileName: string): string =>
  `SHA256E-s${size}--${hexDigest}${keyExtension(fileName)}`

/** The text of an unlocked (pointer) file in git, as git-annex writes it. */
export const pointerText = (key: string): string => `/annex/objects/${key}\n`

/** The key a pointer file names, or undefined when the text is not a pointer. */
export const parsePointer = (text: string): string | undefined => {
  const m = /^\/annex\/objects\/([^\n/]+)\n?$/.exec(text)
  return m && isKey(m[1]!) ? m[1] : undefined
}

/** The key an annex symlink target names (`../.git/annex/objects/Xx/Yy/KEY/KEY`), if any. */
export const keyOfAnnexLink = (target: string): string | undefined => {
  const m = /(?:^|\/)\.git\/annex\/objects\/(?:[^/]+\/){2}([^/]+)\/([^/]+)$/.exec(target)
  if (!m || m[1] !== m[2]) return undefined
  return isKey(m[2]!) ? m[2] : undefined
}
