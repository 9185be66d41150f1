/**
 * A snapshot of the tree of one commit, kept in the state folder so that a mount of a big tree
 * need not read every symlink and marker blob from git again. A commit's tree never changes, so
 * the snapshot is valid exactly when its commit is HEAD; anything unreadable is ignored and the
 * tree is read from git as always.
 */
import { promises as fs } from "node:fs"
import { type Node, Tree } from "../domain/tree.js"

// Raise when the nodes a commit reads back as change (domain/storage.ts treeFromStored).
const FORMAT = 1

interface Snapshot {
  readonly format: number
  readonly commit: string
  readonly entries: ReadonlyArray<readonly [string, Node]>
}

export const loadSnapshot = async (file: string, commit: string): Promise<Tree | undefined> => {
  let snap: Snapshot
  try {
    snap = JSON.parse(await fs.readFile(file, "utf8"))
  } catch {
    return undefined
  }
  if (snap?.format !== FORMAT || snap.commit !== commit || !Array.isArray(snap.entries)) return undefined
  const tree = new Tree()
  for (const [p, n] of snap.entries) tree.set(p, n)
  return tree
}

/** Writes the snapshot of `commit`'s tree (atomically: temp file, rename). */
export const saveSnapshot = async (file: string, commit: string, tree: Tree): Promise<void> => {
  const snap: Snapshot = { format: FORMAT, commit, entries: [...tree.entries()] }
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, JSON.stringify(snap), { mode: 0o600 })
  await fs.rename(tmp, file)
}
