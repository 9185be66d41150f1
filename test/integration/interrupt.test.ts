/**
 * Unmount and SIGTERM cut short what waits on a peer: a sync whose fetch hangs (the peer's
 * upload-pack never answers) does not hold the daemon for the peer timeout; the sync's command gets
 * its answer at once, the hung git is gone and leaves no lock in the gitdir.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { daemonPids, eventually, execAsync, git, isMounted, sh, useWorld, write, BIN, type HostDirs } from "./harness.js"

const HANG = "sleep 97; git-upload-pack"

/** The processes of the hung fetch (its shell's sleep). */
const hung = (): Array<string> => sh("pgrep -f '^sleep 97$' || true").stdout.split("\n").filter(Boolean)

const locksIn = (gitdir: string): Array<string> =>
  sh(`find ${JSON.stringify(path.join(gitdir, ".git"))} -name '*.lock' -not -path '*/sharebox/*'`).stdout.split("\n").filter(Boolean)

describe("unmount and SIGTERM during a sync", () => {
  const w = useWorld("sharebox-interrupt")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair()
    // a peer that accepts the connection and then says nothing
    git(A.gitdir, ["config", "remote.B.uploadpack", HANG])
  })

  const syncing = async () => {
    write(path.join(A.mnt, `f-${Date.now()}.txt`), "pending\n")
    const sync = execAsync(BIN, ["sync", A.mnt], { timeoutMs: 90_000 })
    expect(await eventually(() => hung().length > 0, 20_000)).toBe(true)
    // wrapped: a promise returned from an async function would be awaited with it
    return { sync }
  }

  it("fusermount -u: the daemon ends in seconds, the sync answers, no git is left and no lock", async () => {
    const { sync } = await syncing()
    const t = Date.now()
    expect(sh(`fusermount -u ${JSON.stringify(A.mnt)}`).code).toBe(0)
    const r = await sync
    expect(await w.settled(A, 20_000)).toBe(true)
    expect(Date.now() - t).toBeLessThan(15_000)
    expect(r.code, r.stderr).toBe(75)
    expect(r.stderr).toMatch(/B unreachable: not reached: sharebox is stopping/)
    expect(await eventually(() => hung().length === 0, 5_000)).toBe(true)
    expect(locksIn(A.gitdir)).toEqual([])
    // what was pending replayed at exit
    expect(git(A.gitdir, ["log", "--oneline"]).stdout).toMatch(/write f-/)
  })

  it("SIGTERM to the daemon: the same", async () => {
    w.mount(A)
    const { sync } = await syncing()
    const pids = daemonPids(A.gitdir)
    expect(pids).toHaveLength(1)
    const t = Date.now()
    process.kill(pids[0]!, "SIGTERM")
    const r = await sync
    expect(await w.settled(A, 20_000)).toBe(true)
    expect(Date.now() - t).toBeLessThan(15_000)
    expect(r.code, r.stderr).toBe(75)
    expect(await eventually(() => hung().length === 0, 5_000)).toBe(true)
    expect(locksIn(A.gitdir)).toEqual([])
    expect(await eventually(() => !isMounted(A.mnt), 5_000)).toBe(true)
    expect(fs.existsSync(path.join(A.gitdir, ".git", "sharebox", "lock"))).toBe(false)
  })
})
