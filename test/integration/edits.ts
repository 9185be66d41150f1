/**
 * Text edits on two hosts, shared by the tests of text merges (textmerge.test.ts) and of files open
 * for writing while a peer's version arrives (openwrites.test.ts).
 */
import * as path from "node:path"
import { expect } from "vitest"
import { type HostDirs, type SnapEntry, type World, read, sleep, write } from "./harness.js"

export const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`)
export const edit = (ls: ReadonlyArray<string>, i: number, s: string) => ls.map((l, j) => (j === i ? s : l)).join("")

export const BASE = lines(8)

export const syncOk = (w: World, h: HostDirs): void => {
  const r = w.sync(h)
  expect(r.code, `sync ${h.name}: ${r.stderr}`).toBe(0)
}

export const copiesIn = (s: Record<string, SnapEntry>): Array<string> => Object.keys(s).filter((p) => p.includes(".conflict-")).sort()

/**
 * alpha and bravo (write-back off, and `options`), both holding BASE, then bravo's edit of the last
 * line and alpha's of the first (with `bravoLast`, alpha's first: the later one wins a conflict),
 * neither replayed. The kernel releases the last write's handle after close() returns: this waits
 * for that, so that an open after it does not join the write's session (the write would then be
 * pending too, and a sync would merge without it).
 */
export const editedOnBoth = async (w: World, options: ReadonlyArray<string> = [], bravoLast = false): Promise<[HostDirs, HostDirs]> => {
  const a = w.host("alpha")
  const b = w.host("bravo")
  for (const h of [a, b]) w.mount(h, "writeback=off", ...options)
  w.connectAll()
  write(path.join(a.mnt, "notes.txt"), BASE.join(""))
  for (const h of [a, b]) syncOk(w, h)
  expect(read(path.join(b.mnt, "notes.txt"))).toBe(BASE.join(""))
  const edits: Array<[HostDirs, string]> = [
    [b, edit(BASE, 7, "bravo's last line\n")],
    [a, edit(BASE, 0, "alpha's first line\n")]
  ]
  if (bravoLast) edits.reverse()
  for (const [h, text] of edits) {
    write(path.join(h.mnt, "notes.txt"), text)
    await sleep(50)
  }
  await sleep(1000)
  return [a, b]
}
