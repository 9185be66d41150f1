/**
 * A snapshot of the tree of one commit, kept in the state folder so that a mount of a big tree
 * need not read every symlink and marker blob from git again. A commit's tree never changes, so
 * the snapshot is valid exactly when its commit is HEAD; anything unreadable is ignored and the
 * tree is read from git as always.
 */
import { promises as fs } from "node:fs"
import { type Node, Tree } from "../domain/tree.js"

// Raise when the nodes a commit reads back as change (domain/storage.ts treeFromStored): 2 has modes,
// 3 unlocked files.
const FORMAT = 3

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

/**
 * Writes the snapshot of `commit`'s tree (atomically: temp file, rename), about a MiB of JSON at
 * a time: the JSON of a 100,000-entry tree made whole is tens of MB the daemon would hold at
 * once, and a heap grown for it is not given back.
 */
export const saveSnapshot = async (file: string, commit: string, tree: Tree): Promise<void> => {
  const tmp = `${file}.${process.pid}.tmp`
  const out = await fs.open(tmp, "w", 0o600)
  try {
    const head: Omit<Snapshot, "entries"> = { format: FORMAT, commit }
    let text = JSON.stringify(head).slice(0, -1) + ',"entries":['
    let count = 0
    for (const entry of tree.entries()) {
      text += (count++ ? "," : "") + JSON.stringify(entry)
      if (text.length > 1 << 20) {
        await out.write(text)
        text = ""
      }
    }
    await out.write(text + "]}")
  } finally {
    await out.close()
  }
  await fs.rename(tmp, file)
}
