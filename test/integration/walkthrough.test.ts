/**
 * The original README's walkthrough, step by step, with its relative paths inside a temp folder,
 * plus the command-line forms a user of the original would type.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { BIN, type HostDirs, type Run, World, daemonPids, eventually, execAsync, git, isMounted, read, sharebox, sh, write } from "./harness.js"

const ok = (r: Run, what: string): Run => {
  expect(r.code, `${what} failed (${r.code}):\n${r.stderr}${r.stdout}`).toBe(0)
  return r
}

/** `git annex info --json` of a gitdir: the description of "here". */
const descriptionOf = (gitdir: string): string | undefined => {
  const r = ok(git(gitdir, ["annex", "info", "--fast", "--json"]), "git annex info")
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!)
  const all = [...(j["trusted repositories"] ?? []), ...(j["semitrusted repositories"] ?? []), ...(j["untrusted repositories"] ?? [])]
  return all.find((x: { here: boolean }) => x.here)?.description
}

const statOf = (p: string) => fs.statSync(p)

/** Keys whose content is present in a gitdir's annex. */
const presentFiles = (gitdir: string): Array<string> =>
  ok(git(gitdir, ["annex", "find", "--in=here"]), "git annex find").stdout.split("\n").filter(Boolean).sort()

/** `sharebox ARGS`, without blocking the event loop (syncs are the long steps). */
const shareboxAsync = (args: Array<string>, cwd?: string) => execAsync(BIN, args, { cwd })

let world: World | undefined

afterEach(async () => {
  const w = world
  world = undefined
  if (w) expect(await w.cleanup()).toEqual([])
})

describe("the README walkthrough", () => {
  it("runs as written, with sharebox in place of ./sharebox.py", async () => {
    world = new World("sharebox-walkthrough")
    const cwd = world.root
    const local: HostDirs = { name: "local", gitdir: path.join(cwd, "test/local/git"), mnt: path.join(cwd, "test/local/mnt") }
    const remote: HostDirs = { name: "remote", gitdir: path.join(cwd, "test/remote/git"), mnt: path.join(cwd, "test/remote/mnt") }
    world.hosts.push(local, remote)
    const run = (args: Array<string>) => sharebox(args, { cwd })

    // 1-3: the original form, `sharebox MNT -o gitdir=GITDIR`
    ok(sh("mkdir -p test/local/git && mkdir -p test/local/mnt", cwd), "mkdir")
    ok(run(["test/local/mnt", "-o", "gitdir=test/local/git"]), "mount local")
    expect(isMounted(local.mnt)).toBe(true)
    expect(fs.existsSync(path.join(local.gitdir, ".git", "annex"))).toBe(true)

    // 4: a mirror, with the subcommand form
    ok(sh("mkdir -p test/remote/git && mkdir -p test/remote/mnt", cwd), "mkdir")
    ok(run(["mount", "test/remote/mnt", "-o", "gitdir=test/remote/git"]), "mount remote")
    expect(isMounted(remote.mnt)).toBe(true)

    // 5: remotes with relative paths, from inside the gitdirs
    ok(
      sh(
        ["cd test/remote/git", "git remote add local ../../local/git", "cd ../../local/git", "git remote add remote ../../remote/git", "cd ../../.."].join(" && "),
        cwd
      ),
      "git remote add"
    )

    // 6: a file
    ok(sh("echo test > test/local/mnt/foo", cwd), "echo")
    expect(read(path.join(local.mnt, "foo"))).toBe("test\n")

    // 7: nothing on the remote
    expect(ok(sh("ls test/remote/mnt", cwd), "ls").stdout).toBe("")

    // 8: sync the remote
    ok(await shareboxAsync(["--command", "sync", "test/remote/mnt"], cwd), "sharebox --command sync")

    // 8b: foo is there with its real size, but takes no blocks: its content is not here yet
    const ls = ok(sh("ls -l test/remote/mnt", cwd), "ls -l").stdout
    expect(ls).toMatch(/^total 0$/m)
    expect(ls).toMatch(/^-rw-r--r-- .* 5 .* foo$/m)
    const before = statOf(path.join(remote.mnt, "foo"))
    expect(before.size).toBe(5)
    expect(before.blocks).toBe(0)
    expect(presentFiles(remote.gitdir)).toEqual([])

    // 9: reading downloads it on the fly
    expect(ok(sh("cat test/remote/mnt/foo", cwd), "cat").stdout).toBe("test\n")
    expect(presentFiles(remote.gitdir)).toEqual(["foo"])
    // the kernel may keep the old attributes for attr_timeout (1 s)
    expect(await eventually(() => statOf(path.join(remote.mnt, "foo")).blocks > 0, 5_000)).toBe(true)
    ok(sh("touch test/remote/mnt/foo", cwd), "touch")
    expect(ok(sh("cat test/remote/mnt/foo", cwd), "cat").stdout).toBe("test\n")

    // 10: unmounting ends both daemons
    const daemons = [...daemonPids(local.gitdir), ...daemonPids(remote.gitdir)]
    expect(daemons.length).toBe(2)
    ok(sh("fusermount -u test/local/mnt", cwd), "fusermount -u local")
    ok(sh("fusermount -u test/remote/mnt", cwd), "fusermount -u remote")
    expect(isMounted(local.mnt)).toBe(false)
    expect(isMounted(remote.mnt)).toBe(false)
    expect(await world.settled(local)).toBe(true)
    expect(await world.settled(remote)).toBe(true)
    expect(await eventually(() => daemonPids(local.gitdir).length + daemonPids(remote.gitdir).length === 0, 10_000)).toBe(true)
    for (const h of [local, remote]) expect(fs.existsSync(path.join(h.gitdir, ".git", "sharebox", "lock"))).toBe(false)

    // what was done through the mounts is in the gitdirs
    expect(read(path.join(local.gitdir, "foo"))).toBe("test\n")
    expect(read(path.join(remote.gitdir, "foo"))).toBe("test\n")
  })
})

describe("command-line forms", () => {
  it("accepts -o repeated, comma-separated, and before the mountpoint; getall fetches at sync", async () => {
    world = new World("sharebox-forms")
    const w = world
    const a = w.host("a")
    const repeated = w.host("repeated")
    const comma = w.host("comma")
    const before = w.host("before")
    w.mount(a)
    write(path.join(a.mnt, "hello.txt"), "hello\n")
    write(path.join(a.mnt, "other.txt"), "other\n")

    ok(sharebox([repeated.mnt, "-o", `gitdir=${repeated.gitdir}`, "-o", "getall"]), "-o gitdir=D -o getall")
    ok(sharebox([comma.mnt, "-o", `gitdir=${comma.gitdir},getall`]), "-o gitdir=D,getall")
    ok(sharebox(["-o", `gitdir=${before.gitdir}`, before.mnt]), "-o gitdir=D MNT")
    for (const h of [repeated, comma, before]) expect(isMounted(h.mnt)).toBe(true)
    for (const h of [repeated, comma, before]) ok(git(h.gitdir, ["remote", "add", "a", a.gitdir]), "git remote add")

    for (const h of [repeated, comma, before]) ok(await shareboxAsync(["sync", h.mnt]), `sync ${h.name}`)
    // getall: content is here after sync, without reading anything
    for (const h of [repeated, comma]) {
      expect(presentFiles(h.gitdir)).toEqual(["hello.txt", "other.txt"])
      expect(await eventually(() => statOf(path.join(h.mnt, "hello.txt")).blocks > 0, 5_000)).toBe(true)
    }
    // without getall: on demand only
    expect(presentFiles(before.gitdir)).toEqual([])
    expect(statOf(path.join(before.mnt, "hello.txt")).blocks).toBe(0)
    expect(read(path.join(before.mnt, "hello.txt"))).toBe("hello\n")
    expect(presentFiles(before.gitdir)).toEqual(["hello.txt"])
  })

  it("syncs given the mountpoint or the gitdir, mounted or not", async () => {
    world = new World("sharebox-syncforms")
    const w = world
    const a = w.host("a")
    const b = w.host("b")
    w.mount(a)
    w.mount(b)
    w.connectAll()

    // two forms a round (A by its gitdir, B by its mountpoint; A by its mount below) to spare syncs
    write(path.join(a.mnt, "one"), "1\n")
    ok(await shareboxAsync(["sync", a.gitdir]), "sync A by gitdir")
    ok(await shareboxAsync(["sync", b.mnt]), "sync B by mountpoint")
    expect(read(path.join(b.mnt, "one"))).toBe("1\n")

    // from inside the mountpoint and inside the gitdir, with no argument
    write(path.join(a.mnt, "three"), "3\n")
    ok(await shareboxAsync(["sync"], a.mnt), "sync in A's mount")
    ok(await shareboxAsync(["sync"], b.gitdir), "sync in B's gitdir")
    expect(read(path.join(b.mnt, "three"))).toBe("3\n")

    // B unmounted: sync works on its gitdir directly
    w.unmount(b)
    expect(await w.settled(b)).toBe(true)
    write(path.join(a.mnt, "four"), "4\n")
    ok(await shareboxAsync(["sync", a.mnt]), "sync A")
    ok(await shareboxAsync(["sync", b.gitdir]), "sync unmounted B by gitdir")
    expect(fs.existsSync(path.join(b.gitdir, ".git", "sharebox", "lock"))).toBe(false)
    expect(fs.readlinkSync(path.join(b.gitdir, "four"))).toContain("annex/objects")
    ok(git(b.gitdir, ["annex", "get", "four"]), "git annex get")
    expect(read(path.join(b.gitdir, "four"))).toBe("4\n")
    ok(git(b.gitdir, ["annex", "drop", "four"]), "git annex drop") // back as it was: content only on A
    w.mount(b)
    expect(read(path.join(b.mnt, "four"))).toBe("4\n")
  })
})

describe("repository description", () => {
  it("is -o name=NAME, and the host name by default", async () => {
    world = new World("sharebox-name")
    const w = world
    const named = w.host("named")
    const plain = w.host("plain")
    ok(sharebox([named.mnt, "-o", `gitdir=${named.gitdir},name=laptop-of-ann`]), "mount with name")
    ok(sharebox([plain.mnt, "-o", `gitdir=${plain.gitdir}`]), "mount without name")
    expect(descriptionOf(named.gitdir)).toBe("laptop-of-ann")
    expect(descriptionOf(plain.gitdir)).toBe(os.hostname())
    // and the peers know each other by it
    w.connectAll()
    write(path.join(named.mnt, "f"), "x\n")
    ok(await shareboxAsync(["sync", named.mnt]), "sync named")
    ok(await shareboxAsync(["sync", plain.mnt]), "sync plain")
    const whereis = ok(git(plain.gitdir, ["annex", "whereis", "f"]), "whereis").stdout
    expect(whereis).toContain("laptop-of-ann")
  })
})
