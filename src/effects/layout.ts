/**
 * Where sharebox keeps its private state inside a gitdir (see docs/layout.md).
 */
import { createHash } from "node:crypto"
import * as os from "node:os"
import * as path from "node:path"

export interface Layout {
  readonly gitdir: string
  readonly state: string
  readonly journal: string
  readonly cursor: string
  /** a replay in progress: the seq it replays up to and the head it started from (see recovery.ts) */
  readonly replaying: string
  /** the tree of one commit as the view reads it (effects/treecache.ts) */
  readonly treeSnapshot: string
  readonly staging: string
  readonly lock: string
  readonly log: string
  /** file holding the daemon's socket path (the socket may live elsewhere: unix paths are short) */
  readonly socketRef: string
  readonly preferredSocket: string
  readonly mountInfo: string
  /** replayed events whose commits no peer is known to have (JSON lines) */
  readonly replayed: string
  readonly lastSync: string
  readonly settings: string
  readonly pins: string
  readonly reads: string
  /** the paths kept on this host only (.shareboxignore), as the mount shows them (src/fuse/local.ts) */
  readonly local: string
}

export const layoutOf = (gitdir: string): Layout => {
  const state = path.join(gitdir, ".git", "sharebox")
  const direct = path.join(state, "daemon.sock")
  const preferredSocket =
    Buffer.byteLength(direct) < 100
      ? direct
      : path.join(os.tmpdir(), `sharebox-${process.getuid?.() ?? 0}`, createHash("sha1").update(gitdir).digest("hex").slice(0, 16) + ".sock")
  return {
    gitdir,
    state,
    journal: path.join(state, "journal"),
    cursor: path.join(state, "cursor"),
    replaying: path.join(state, "replaying.json"),
    treeSnapshot: path.join(state, "tree.json"),
    staging: path.join(state, "staging"),
    lock: path.join(state, "lock"),
    log: path.join(state, "daemon.log"),
    socketRef: path.join(state, "socket"),
    preferredSocket,
    mountInfo: path.join(state, "mount"),
    replayed: path.join(state, "replayed"),
    lastSync: path.join(state, "lastsync.json"),
    settings: path.join(state, "settings.json"),
    pins: path.join(state, "pins.json"),
    reads: path.join(state, "reads.json"),
    local: path.join(state, "local")
  }
}

/** The staging file of id `id` (a write session's, a spare, or a plain blob's copy). */
export const stagingFileOf = (layout: Pick<Layout, "staging">, id: string): string => path.join(layout.staging, id)
