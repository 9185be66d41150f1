/**
 * Special remotes a peer made (a bucket, an rsync server, an encrypted git remote): the git-annex
 * branch knows them, but git-annex uses one only once a host has enabled it. At each sync, this
 * enables those git-annex can enable from what its branch holds, and for the others says once (per
 * configuration) the exact command a person runs (domain/remotelog.ts decides which is which).
 */
import { promises as fs } from "node:fs"
import * as path from "node:path"
import { classifyPeerFailure } from "../domain/peers.js"
import { printable } from "../domain/printable.js"
import { enablingOf, parseRemoteLog, shellWord } from "../domain/remotelog.js"
import { writeAtomic } from "./durable.js"
import type { AnnexPort } from "./ports.js"

/** git-annex's own words for why it would not (its `git-annex: ...` line), else ssh's or git's. */
const refusal = (output: string): string => {
  const said = output
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith("git-annex: "))
  return said ? said.slice("git-annex: ".length) : classifyPeerFailure(output, "git-annex refused").reason
}

export const enableSpecialRemotes = async (
  annex: AnnexPort,
  gitdir: string,
  stateDir: string,
  say: (line: string) => void,
  timeoutSeconds: number
): Promise<void> => {
  const log = await annex.remoteLog()
  if (log === "") return
  const here = await annex.enabledRemotes()
  // what was tried or said, per remote, for the configuration it had then
  const file = path.join(stateDir, "special-remotes.json")
  const told: Record<string, number> = await fs.readFile(file, "utf8").then((t) => JSON.parse(t) as Record<string, number>, () => ({}))
  let changed = false
  for (const r of parseRemoteLog(log)) {
    if (here.has(r.uuid) || told[r.uuid] === r.timestamp) continue
    told[r.uuid] = r.timestamp
    changed = true
    const what = `special remote ${printable(r.name)} (${printable(r.type)})`
    const how = enablingOf(r)
    const command = `git -C ${shellWord(gitdir)} annex enableremote ${shellWord(r.name)}`
    if (how.kind === "person") {
      say(`${what} is not enabled here: it needs ${how.needs}; to enable it: ${command}${how.params}`)
      continue
    }
    const e = await annex.enableRemote(r.name, timeoutSeconds)
    if (e.ok) say(`enabled ${what}`)
    else say(`${what} is not enabled here: ${printable(refusal(e.message))}; to enable it: ${command}`)
  }
  if (changed) await writeAtomic(file, JSON.stringify(told))
}
