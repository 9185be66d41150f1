/**
 * The text merges of one sync's merge (domain/textmerge.ts), made where the contents are: for each
 * edit / edit conflict of a file both sides and the base hold at the same path, the three contents
 * are read (annex objects here, fetched from whichever peer git-annex knows to have them, the peer
 * being merged first among them; plain git blobs from git), and when all three are text and merge
 * cleanly, the merged content goes into the annex under its own key. Whatever cannot be had (a
 * peer gone, a file too large, binary, or a merge that conflicts) stays a conflict copy, as without
 * text merges: nothing is lost, and docs/conflicts.md says how hosts that decided differently
 * still converge.
 */
import { createHash } from "node:crypto"
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { keySize, sha256Key } from "../domain/key.js"
import { baseName } from "../domain/paths.js"
import { textMergeKey } from "../domain/merge.js"
import { MAX_TEXT_BYTES, isMergeableText, mergeTexts } from "../domain/textmerge.js"
import { type Content, type FileNode, type Tree, contentId } from "../domain/tree.js"
import type { RepoShape } from "./hostconfig.js"

/**
 * Whether this host merges texts: the `automerge` setting its last mount saved (-o automerge=off),
 * on when it was never mounted or the setting is unreadable.
 */
export const automergeOn = async (repo: RepoShape): Promise<boolean> => {
  try {
    return (JSON.parse(await fs.readFile(repo.layout.settings, "utf8")) as { automerge?: unknown }).automerge !== false
  } catch {
    return true
  }
}

/** An edit / edit of one file at one path: what a text merge may make one file of. */
export interface TextEdit {
  readonly path: string
  readonly base: FileNode
  readonly ours: FileNode
  readonly theirs: FileNode
}

/** The edit / edit pairs of files at the same path in base, ours and theirs (three different contents). */
export const textEdits = (base: Tree, ours: Tree, theirs: Tree, paths: Iterable<string>): Array<TextEdit> => {
  const out: Array<TextEdit> = []
  for (const p of new Set(paths)) {
    const [b, o, t] = [base.get(p), ours.get(p), theirs.get(p)]
    if (b?.type !== "file" || o?.type !== "file" || t?.type !== "file") continue
    const ids = new Set([contentId(b.content), contentId(o.content), contentId(t.content)])
    if (ids.size === 3) out.push({ path: p, base: b, ours: o, theirs: t })
  }
  return out
}

const sizeOf = (c: Content): number => (c.kind === "key" ? keySize(c.key) : c.size)

/** The bytes of a content, fetched when absent; undefined when it cannot be had here. */
const contentBytes = async (repo: RepoShape, c: Content, warn: (line: string) => void): Promise<Buffer | undefined> => {
  if (c.kind === "blob") return (await repo.git.readBlobs([c.oid])).get(c.oid)
  if (c.kind !== "key") return undefined
  if (!repo.annex.hasObject(c.key)) {
    const got = await repo.annex.get(c.key)
    if (!got.ok) {
      warn(`text merge: the content ${c.key} is not here and could not be fetched (${got.message || "no peer has it"})`)
      return undefined
    }
  }
  const file = repo.annex.objectFile(c.key)
  // the key's size was checked; the object is what git-annex verified, but a size is checked again
  if ((await fs.stat(file)).size > MAX_TEXT_BYTES) return undefined
  return fs.readFile(file)
}

/**
 * The text merges of `edits` that merged cleanly, by `textMergeKey`, their contents stored in the
 * annex (and recorded as present here).
 */
export const mergeTextEdits = async (repo: RepoShape, edits: ReadonlyArray<TextEdit>, warn: (line: string) => void): Promise<Map<string, Content>> => {
  const out = new Map<string, Content>()
  for (const e of edits) {
    const k = textMergeKey(e.base.content, e.ours.content, e.theirs.content)
    if (out.has(k)) continue
    const contents = [e.base.content, e.ours.content, e.theirs.content]
    if (contents.some((c) => c.kind === "staged" || sizeOf(c) > MAX_TEXT_BYTES)) continue
    try {
      const bytes: Array<Buffer> = []
      for (const c of contents) {
        const b = await contentBytes(repo, c, warn)
        if (!b || !isMergeableText(b)) break
        bytes.push(b)
      }
      if (bytes.length !== 3) continue
      const m = mergeTexts(bytes[0]!, bytes[1]!, bytes[2]!)
      if (m._tag !== "Merged") continue
      const key = sha256Key(createHash("sha256").update(m.text).digest("hex"), m.text.length, baseName(e.path))
      if (!repo.annex.hasObject(key)) {
        await fs.mkdir(repo.layout.staging, { recursive: true, mode: 0o700 })
        const staged = path.join(repo.layout.staging, `textmerge-${process.pid}-${out.size}`)
        await fs.writeFile(staged, m.text, { mode: 0o644 })
        try {
          await repo.annex.ingest([{ staged, key }])
        } finally {
          await fs.rm(staged, { force: true })
        }
        await repo.annex.recordPresent([key])
      }
      out.set(k, { kind: "key", key })
    } catch (err: any) {
      warn(`text merge of ${e.path}: ${err?.message ?? err}; kept as a conflict copy`)
    }
  }
  return out
}
