/**
 * Builds `git fast-import` streams: many commits, one process.
 */
import type { Commit } from "../domain/replayplan.js"
import { quotePath } from "./git.js"

export type { Commit }

export const buildFastImport = (commits: ReadonlyArray<Commit>, branch: string, parent: string | undefined, ref = `refs/heads/${branch}`): Buffer => {
  const parts: Array<Buffer> = []
  const text = (s: string) => parts.push(Buffer.from(s, "utf8"))
  const data = (b: Buffer) => {
    text(`data ${b.length}\n`)
    parts.push(b)
    text("\n")
  }
  commits.forEach((c, i) => {
    text(`commit ${ref}\n`)
    text(`committer sharebox <${c.host}@sharebox> ${Math.floor(c.time / 1000)} +0000\n`)
    // git keeps whole seconds; Sharebox-Time keeps the milliseconds, so versions saved within one
    // second stay apart and in order (effects/history.ts)
    const trailers = `\n\nSharebox-Host: ${c.host}` + (c.seq !== undefined ? `\nSharebox-Seq: ${c.seq}` : "") + `\nSharebox-Time: ${Math.round(c.time)}` + (c.trailers ?? []).map((t) => `\n${t}`).join("")
    data(Buffer.from(c.message + trailers + "\n", "utf8"))
    if (i === 0 && parent) text(`from ${parent}\n`)
    if (c.merge) text(`merge ${c.merge}\n`)
    for (const ch of c.changes) {
      if (ch._tag === "Delete") text(`D ${quotePath(ch.raw ?? ch.path)}\n`)
      else if ("oid" in ch.entry) text(`M ${ch.entry.mode} ${ch.entry.oid} ${quotePath(ch.entry.path)}\n`)
      else {
        text(`M ${ch.entry.mode} inline ${quotePath(ch.entry.path)}\n`)
        data(Buffer.from(ch.entry.data, "utf8"))
      }
    }
    text("\n")
  })
  text("done\n")
  return Buffer.concat(parts)
}
