/**
 * git-annex and the journal in memory, for the model-based test.
 *
 * The annex holds each repository's objects (bytes in memory, and a copy in the host's folder,
 * since readers open the object's file); `get` copies from a git remote that has the key, `drop`
 * leaves at least `numcopies` copies on remotes unless forced. What git-annex learns through its
 * branch (location logs, descriptions) is known to every repository at once here.
 *
 * The journal is a list of records that outlives the process that wrote it: it is the disk.
 */
import * as fsSync from "node:fs"
import * as path from "node:path"
import { type Event, encodeRecord, parseJournal } from "../../src/domain/events.js"
import type { AnnexPort, HeldLock, JournalPort } from "../../src/effects/ports.js"
import { Busy } from "../../src/effects/errors.js"
import type { MemRepo } from "./memgit.js"

/** One repository's annexed objects. */
export class MemObjects {
  readonly objects = new Map<string, Buffer>()
  constructor(
    readonly uuid: string,
    readonly dir: string
  ) {
    fsSync.mkdirSync(dir, { recursive: true })
  }

  file(key: string): string {
    return path.join(this.dir, key)
  }

  put(key: string, data: Buffer): void {
    this.objects.set(key, data)
    if (!fsSync.existsSync(this.file(key))) fsSync.writeFileSync(this.file(key), data, { mode: 0o444 })
  }

  remove(key: string): void {
    this.objects.delete(key)
    fsSync.rmSync(this.file(key), { force: true })
  }
}

/** The annexes of a network, by repository name. */
export type MemAnnexes = Map<string, MemObjects>

export const memAnnex = (repo: MemRepo, annexes: MemAnnexes): AnnexPort => {
  const own = annexes.get(repo.name)!
  const reachable = () => repo.remotes.filter((r) => !repo.unreachable.has(r)).map((r) => annexes.get(r)!)
  const locations = (key: string) =>
    [...annexes].filter(([, a]) => a.objects.has(key)).map(([name, a]) => ({ uuid: a.uuid, description: name, here: a === own }))
  return {
    objectFile: (key) => own.file(key),
    hasObject: (key) => own.objects.has(key),
    async ingest(items) {
      for (const { staged, key } of items) if (!own.objects.has(key)) own.put(key, fsSync.readFileSync(staged))
    },
    recordPresent: async () => {},
    commitBranch: async () => {},
    // no ssh in memory: the command a sync was run with changes nothing here
    withPeers: (_way, f) => f(),
    async get(key) {
      if (own.objects.has(key)) return { ok: true, message: "" }
      const from = reachable().find((a) => a.objects.has(key))
      if (!from) return { ok: false, message: "not available" }
      own.put(key, from.objects.get(key)!)
      return { ok: true, message: "" }
    },
    async drop(key, opts) {
      if (!own.objects.has(key)) return { ok: true, message: "" }
      const copies = reachable().filter((a) => a.objects.has(key)).length
      if (!opts.force && copies < Math.max(1, opts.numcopies ?? 1)) return { ok: false, message: "unable to verify enough copies" }
      own.remove(key)
      return { ok: true, message: "" }
    },
    descriptions: async () => new Map([...annexes].map(([name, a]) => [a.uuid, name])),
    locations: async (key) => locations(key),
    whereis: async (key) => locations(key).map((l) => l.description),
    closeBatches: () => {},
    // the model's peers are repositories, never special remotes
    remoteLog: async () => "",
    enabledRemotes: async () => new Set(),
    enableRemote: async (name) => ({ ok: false, message: `no special remote ${name} in the model` })
  }
}

/** What survives a process: the journal's records and whether a holder's lock record is there. */
export class MemDisk {
  records: Array<Uint8Array> = []
  /** a process holds the lock now */
  held = false
  /** the holder's record: left behind by a holder that died */
  lockRecord = false
}

/** The journal over `disk`, for one process; `alive` false once that process is gone. */
export class MemJournal implements JournalPort {
  closed = false
  constructor(
    private readonly disk: MemDisk,
    readonly process: { alive: boolean }
  ) {}

  static open(disk: MemDisk, process: { alive: boolean }): { journal: MemJournal; events: ReadonlyArray<Event> } {
    const parsed = parseJournal(Buffer.concat(disk.records))
    if (parsed._tag === "Corrupt") throw new Error(`journal corrupt at line ${parsed.line}`)
    return { journal: new MemJournal(disk, process), events: parsed.events }
  }

  get size(): number {
    return this.disk.records.reduce((n, r) => n + r.length, 0)
  }

  private check(): void {
    if (this.closed || !this.process.alive) throw new Error("in-memory journal: written after its process ended")
  }

  append(e: Event): void {
    this.check()
    this.disk.records.push(encodeRecord(e))
  }

  async sync(): Promise<void> {}

  async rewrite(keep: ReadonlyArray<Event>): Promise<void> {
    this.check()
    this.disk.records = keep.map(encodeRecord)
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

/** The gitdir's lock over `disk`: like the kernel's, it goes with a holder that dies, its record stays. */
export const memLock = async (disk: MemDisk, gitdir: string): Promise<HeldLock> => {
  if (disk.held) throw new Busy({ gitdir, pid: 1 })
  const crashed = disk.lockRecord
  disk.held = disk.lockRecord = true
  let released = false
  return {
    crashed,
    async release() {
      if (released) return
      released = true
      disk.lockRecord = false
      disk.held = false
    }
  }
}
