/**
 * git-annex's special remotes as its branch records them (`remote.log`: one line per change,
 * `UUID key=value ... timestamp=SECONDSs`, the newest line of a UUID winning), and what a host does
 * about one it has not enabled: enable it by itself where git-annex needs nothing but what the log
 * holds, or tell a person the exact command.
 */

export interface SpecialRemote {
  readonly uuid: string
  readonly name: string
  readonly type: string
  /** the whole configuration as the log holds it */
  readonly config: ReadonlyMap<string, string>
  /** seconds, as the log gives them: a newer line is a changed configuration */
  readonly timestamp: number
}

/** git-annex writes a space in a value as `&32;` (any character as `&DECIMAL;`). */
const unescape = (v: string): string => v.replace(/&(\d{1,7});/g, (all, n: string) => (Number(n) <= 0x10ffff ? String.fromCodePoint(Number(n)) : all))

/** The special remotes of a remote.log, newest configuration of each UUID; lines it cannot read are skipped. */
export const parseRemoteLog = (text: string): Array<SpecialRemote> => {
  const newest = new Map<string, SpecialRemote>()
  for (const raw of text.split("\n")) {
    const fields = raw.trim().split(/\s+/)
    const uuid = fields[0]
    if (!uuid || fields.length < 2) continue
    const config = new Map<string, string>()
    let timestamp = NaN
    for (const f of fields.slice(1)) {
      const eq = f.indexOf("=")
      if (eq <= 0) continue
      const k = f.slice(0, eq)
      const v = unescape(f.slice(eq + 1))
      if (k === "timestamp") timestamp = Number(v.replace(/s$/, ""))
      else config.set(k, v)
    }
    const name = config.get("name")
    const type = config.get("type")
    if (!name || !type || !Number.isFinite(timestamp)) continue
    const old = newest.get(uuid)
    if (!old || old.timestamp <= timestamp) newest.set(uuid, { uuid, name, type, config, timestamp })
  }
  return [...newest.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * How a host can enable a special remote it has not: "self" when git-annex needs nothing the log
 * does not hold (rsync, git and gcrypt remotes hold their URL, a bucket with `embedcreds=yes` its
 * credentials), else what a person must give, for the line that tells them.
 */
export type Enabling = { readonly kind: "self" } | { readonly kind: "person"; readonly needs: string; readonly params: string }

/**
 * The types a host enables by itself. Others run programs or commands the peer names (external,
 * hook) or need what only this host knows: a person decides.
 */
const SELF = new Set(["rsync", "git", "gcrypt", "S3", "webdav"])

export const enablingOf = (r: SpecialRemote): Enabling => {
  if (SELF.has(r.type)) return { kind: "self" }
  switch (r.type) {
    case "directory":
      // where the disk is mounted is this host's business: git-annex does not share it
      return { kind: "person", needs: "where the directory is on this host", params: " directory=/PATH/ON/THIS/HOST" }
    case "external":
      return { kind: "person", needs: "a look first: it runs a program the remote names", params: "" }
    default:
      return { kind: "person", needs: "a look first", params: "" }
  }
}

/** A name safe to print in one line and to paste into a shell (a peer wrote it). */
export const shellWord = (s: string): string => (/^[A-Za-z0-9._+:@%/=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)
