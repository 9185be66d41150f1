/**
 * Every kind of filesystem operation, done in host A's mount, reaches host B's mount after
 * `sync A` then `sync B` (all of them done together, then synced once: see afterRound1): B shows
 * the same listing, the same content (sha256 of every file), the same executable bits, symlink
 * targets and mtimes.
 *
 * Past 400 lines: one scenario per operation, all sharing one pair of mounts and one batched sync,
 * which is the point of keeping them in one file.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, type HostDirs, type Run, World, eventually, exec, execAsync, git, read, sh, snapshot } from "./harness.js"
import { BATCH_IDLE_MS } from "../../src/effects/annexbatch.js"

const ok = (r: Run, what: string): Run => {
  expect(r.code, `${what} failed (${r.code}):\n${r.stderr}${r.stdout}`).toBe(0)
  return r
}

const isSymlink = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() === true
const exists = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined

describe("operations in A's mount reach B's mount", () => {
  let w: World
  let A: HostDirs
  let B: HostDirs
  /** a folder outside both mounts, for sources of cp, tar, git clone, rsync */
  let outside: string
  let rsyncMissing: string | undefined

  const a = (p = "") => path.join(A.mnt, p)
  const b = (p = "") => path.join(B.mnt, p)
  const inA = (script: string) => ok(sh(script, A.mnt), `in A: ${script}`)

  /** sync A (replay + push), then sync B (fetch + merge). */
  const propagate = async () => {
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", B.mnt]), "sync B")
  }
  /**
   * Whether a name B had is gone after a sync: B's kernel may still answer from its dentry cache
   * for up to entry_timeout (1 s, src/fuse/mount.ts) after the view changed under it.
   */
  const gone = (p: string) => eventually(() => !exists(p), 3000)
  const sameOnBoth = () => {
    const sa = snapshot(A.mnt)
    const sb = snapshot(B.mnt)
    expect(sb).toEqual(sa)
    return sb
  }

  beforeAll(async () => {
    w = new World("sharebox-ops")
    ;[A, B] = w.pair()
    outside = path.join(w.root, "outside")
    fs.mkdirSync(outside)
    if (exec("which", ["rsync"]).code !== 0) {
      const r = exec("bash", ["-c", "apt-get install -y rsync >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y rsync)"], { timeoutMs: 300_000 })
      if (exec("which", ["rsync"]).code !== 0) rsyncMissing = `rsync is not installed and apt-get could not install it (${r.code}): ${r.stderr.trim().split("\n").pop()}`
    }
    // files the tests below change, present on both hosts before they start
    inA(
      [
        "mkdir -p base",
        "echo 'first version' > base/overwrite.txt",
        "echo 'line 1' > base/append.txt",
        "echo 'abcdefghij' > base/truncate.txt",
        "echo 'rename me' > base/rename-src.txt",
        "mkdir -p base/dir-src/sub/deeper && echo a > base/dir-src/a.txt && echo b > base/dir-src/sub/b.txt && echo c > base/dir-src/sub/deeper/c.txt && mkdir base/dir-src/empty",
        "echo 'the winner' > base/over-src.txt && echo 'the loser' > base/over-dst.txt",
        "echo 'delete me' > base/delete.txt",
        "mkdir -p base/rmdir-me",
        "echo 'script' > base/script.sh",
        "echo 'old times' > base/times.txt",
        "echo 'original text' > base/edited.txt"
      ].join(" && ")
    )
    await propagate()
    sameOnBoth() // also fetches every file's content onto B
  }, 120_000)

  afterAll(async () => {
    if (!w) return
    const problems = await w.cleanup()
    expect(problems).toEqual([])
  }, 60_000)

  /**
   * The operations below are made in A's mount together, then propagated by one `sync A` and one
   * `sync B` (a sync each way per operation cost about 2 s each); every test then checks its own
   * operation on B. Each touches its own paths, so none hides another. Those with a second step
   * (truncate to 0, chmod -x) make it in a second round, propagated once more, and check it in a
   * test of their own after every first-round test: vitest runs a file's tests in order, and a
   * first-round check made after the second round would see the second step's result (a chmod +x
   * check that found the -x already there). afterRound1 refuses to answer once round 2 has begun.
   */
  const firstOps: Array<() => void> = []
  const secondOps: Array<() => void> = []
  let round1: Promise<void> | undefined
  let round2: Promise<void> | undefined
  const afterRound1 = () => {
    if (round2 !== undefined) throw new Error("a first-round check after the second round: move it above the second-round tests")
    return (round1 ??= (async () => {
      for (const op of firstOps) op()
      await propagate()
    })())
  }
  const afterRound2 = () =>
    (round2 ??= (async () => {
      await afterRound1() // called before round2 is set: the IIFE runs up to its first await
      for (const op of secondOps) op()
      await propagate()
    })())

  firstOps.push(() => inA("echo hello > created.txt && mkdir -p made/in/dirs && printf 'no newline' > made/in/dirs/deep.txt"))
  it("create", async () => {
    await afterRound1()
    expect(read(b("created.txt"))).toBe("hello\n")
    expect(read(b("made/in/dirs/deep.txt"))).toBe("no newline")
    sameOnBoth()
  })

  let overwriteBefore = ""
  firstOps.push(() => {
    overwriteBefore = read(b("base/overwrite.txt"))
    inA("echo 'second, longer version' > base/overwrite.txt")
  })
  it("overwrite", async () => {
    await afterRound1()
    expect(overwriteBefore).toBe("first version\n")
    expect(read(b("base/overwrite.txt"))).toBe("second, longer version\n")
    sameOnBoth()
  })

  firstOps.push(() => inA("echo 'line 2' >> base/append.txt"))
  it("append", async () => {
    await afterRound1()
    expect(read(b("base/append.txt"))).toBe("line 1\nline 2\n")
    sameOnBoth()
  })

  firstOps.push(() => inA("truncate -s 3 base/truncate.txt"))
  secondOps.push(() => inA("truncate -s 0 base/truncate.txt"))
  it("truncate to 3 bytes (then to 0, in round 2)", async () => {
    await afterRound1()
    expect(read(b("base/truncate.txt"))).toBe("abc")
    expect(fs.statSync(b("base/truncate.txt")).size).toBe(3)
    sameOnBoth()
  })

  firstOps.push(() => inA("mv base/rename-src.txt base/rename-dst.txt"))
  it("rename a file", async () => {
    await afterRound1()
    expect(await gone(b("base/rename-src.txt"))).toBe(true)
    expect(read(b("base/rename-dst.txt"))).toBe("rename me\n")
    sameOnBoth()
  })

  firstOps.push(() => inA("mv base/dir-src base/dir-dst"))
  it("rename a directory with its contents", async () => {
    await afterRound1()
    expect(await gone(b("base/dir-src"))).toBe(true)
    expect(read(b("base/dir-dst/a.txt"))).toBe("a\n")
    expect(read(b("base/dir-dst/sub/b.txt"))).toBe("b\n")
    expect(read(b("base/dir-dst/sub/deeper/c.txt"))).toBe("c\n")
    expect(fs.readdirSync(b("base/dir-dst/empty"))).toEqual([])
    sameOnBoth()
  })

  firstOps.push(() => inA("mv -f base/over-src.txt base/over-dst.txt"))
  it("rename a file over an existing file", async () => {
    await afterRound1()
    expect(await gone(b("base/over-src.txt"))).toBe(true)
    expect(read(b("base/over-dst.txt"))).toBe("the winner\n")
    expect(fs.readdirSync(b("base")).filter((n) => n.includes("conflict"))).toEqual([])
    sameOnBoth()
  })

  firstOps.push(() => inA("rm base/delete.txt"))
  it("delete", async () => {
    await afterRound1()
    expect(await gone(b("base/delete.txt"))).toBe(true)
    sameOnBoth()
  })

  firstOps.push(() => inA("mkdir empty-dir && mkdir -p empty-parent/empty-child"))
  it("mkdir of an empty directory", async () => {
    await afterRound1()
    expect(fs.statSync(b("empty-dir")).isDirectory()).toBe(true)
    expect(fs.readdirSync(b("empty-dir"))).toEqual([])
    expect(fs.readdirSync(b("empty-parent"))).toEqual(["empty-child"])
    expect(fs.readdirSync(b("empty-parent/empty-child"))).toEqual([])
    sameOnBoth()
  })

  let rmdirWasDir = false
  firstOps.push(() => {
    rmdirWasDir = fs.statSync(b("base/rmdir-me")).isDirectory()
    inA("rmdir base/rmdir-me")
  })
  it("rmdir", async () => {
    await afterRound1()
    expect(rmdirWasDir).toBe(true)
    expect(await gone(b("base/rmdir-me"))).toBe(true)
    sameOnBoth()
  })

  firstOps.push(() => inA("ln -s ../base/overwrite.txt links-to-file && mkdir -p links && ln -s ../base/overwrite.txt links/rel && ln -s /nowhere/at/all links/dangling && ln -s base links/dir-link"))
  it("symlink", async () => {
    await afterRound1()
    expect(isSymlink(b("links/rel"))).toBe(true)
    expect(fs.readlinkSync(b("links/rel"))).toBe("../base/overwrite.txt")
    expect(read(b("links/rel"))).toBe("second, longer version\n")
    expect(fs.readlinkSync(b("links/dangling"))).toBe("/nowhere/at/all")
    expect(fs.readlinkSync(b("links/dir-link"))).toBe("base")
    sameOnBoth()
  })

  firstOps.push(() => inA("chmod +x base/script.sh"))
  secondOps.push(() => inA("chmod -x base/script.sh"))
  it("chmod +x (then -x, in round 2)", async () => {
    await afterRound1()
    expect(fs.statSync(b("base/script.sh")).mode & 0o111).toBe(0o111)
    expect(git(B.gitdir, ["ls-tree", "HEAD", "base/script.sh"]).stdout).toMatch(/^100755 /)
    expect(read(b("base/script.sh"))).toBe("script\n")
    sameOnBoth()
  })

  const touched = { expected: Math.floor(new Date(2020, 0, 2, 3, 4, 5).getTime() / 1000), plainTouchRead: "", mtimeOnA: 0 }
  firstOps.push(() => {
    // plain touch opens the file for writing and writes nothing: the content must stay readable
    touched.plainTouchRead = inA("touch base/times.txt && cat base/times.txt").stdout
    inA("touch -d '2020-01-02 03:04:05' base/times.txt")
    touched.mtimeOnA = Math.floor(fs.statSync(a("base/times.txt")).mtimeMs / 1000)
  })
  it("utimens (touch -d)", async () => {
    await afterRound1()
    expect(touched.plainTouchRead).toBe("old times\n")
    expect(touched.mtimeOnA).toBe(touched.expected)
    expect(Math.floor(fs.statSync(b("base/times.txt")).mtimeMs / 1000)).toBe(touched.expected)
    expect(read(b("base/times.txt"))).toBe("old times\n")
    sameOnBoth()
  })

  firstOps.push(() => {
    const src = path.join(outside, "cp-src")
    ok(
      sh(
        `mkdir -p ${src}/one/two/three ${src}/empty && echo top > ${src}/top.txt && echo 1 > ${src}/one/1.txt && echo 2 > ${src}/one/two/2.txt && head -c 200000 /dev/urandom > ${src}/one/two/three/big.bin && chmod +x ${src}/one/1.txt`
      ),
      "make cp source"
    )
    inA(`cp -r ${src} copied`)
  })
  it("cp -r of a tree with nested directories", async () => {
    await afterRound1()
    const src = path.join(outside, "cp-src")
    const sb = sameOnBoth()
    expect(Object.keys(sb).filter((p) => p.startsWith("copied/")).sort()).toEqual(
      ["copied/empty", "copied/one", "copied/one/1.txt", "copied/one/two", "copied/one/two/2.txt", "copied/one/two/three", "copied/one/two/three/big.bin", "copied/top.txt"]
    )
    expect(fs.readFileSync(b("copied/one/two/three/big.bin")).equals(fs.readFileSync(path.join(src, "one/two/three/big.bin")))).toBe(true)
    expect(fs.statSync(b("copied/one/1.txt")).mode & 0o111).toBe(0o111)
  })

  firstOps.push(() => {
    const src = path.join(outside, "tar-src")
    ok(
      sh(
        `mkdir -p ${src}/pkg/lib ${src}/pkg/bin ${src}/pkg/empty && echo 'lib' > ${src}/pkg/lib/x.js && printf '#!/bin/sh\\necho hi\\n' > ${src}/pkg/bin/run && chmod 755 ${src}/pkg/bin/run && ln -s lib/x.js ${src}/pkg/main.js && touch -d '2019-05-06 07:08:09' ${src}/pkg/lib/x.js && tar -C ${src} -cf ${outside}/pkg.tar pkg`
      ),
      "make tarball"
    )
    inA(`mkdir untarred && tar -C untarred -xf ${outside}/pkg.tar`)
  })
  it("tar x of a tarball made outside", async () => {
    await afterRound1()
    expect(read(b("untarred/pkg/lib/x.js"))).toBe("lib\n")
    expect(fs.statSync(b("untarred/pkg/bin/run")).mode & 0o111).toBe(0o111)
    expect(fs.readlinkSync(b("untarred/pkg/main.js"))).toBe("lib/x.js")
    expect(fs.readdirSync(b("untarred/pkg/empty"))).toEqual([])
    ok(exec("bash", ["-c", `cd ${b("untarred")} && tar -cf - pkg | tar -tvf - >/dev/null`]), "tar of B's copy")
    sameOnBoth()
  })

  const cloned = { logA: "", statusA: "" }
  firstOps.push(() => {
    const repo = path.join(outside, "repo")
    ok(
      sh(
        [
          `git init -q -b main ${repo}`,
          `cd ${repo}`,
          "git config user.email t@example.com && git config user.name tester",
          "echo '# readme' > README.md && mkdir src && echo 'console.log(1)' > src/index.js",
          "git add . && git commit -q -m first",
          "echo 'more' >> README.md && git commit -q -am second"
        ].join(" && ")
      ),
      "make repo"
    )
    inA(`git clone -q ${repo} clone`)
    cloned.logA = inA("git -C clone log --format=%s").stdout
    cloned.statusA = inA("git -C clone status --porcelain").stdout
  })
  it("git clone of a local repository into the mount", async () => {
    await afterRound1()
    expect(cloned.logA).toBe("second\nfirst\n")
    expect(cloned.statusA).toBe("")
    expect(read(b("clone/README.md"))).toBe("# readme\nmore\n")
    expect(read(b("clone/src/index.js"))).toBe("console.log(1)\n")
    expect(fs.statSync(b("clone/.git")).isDirectory()).toBe(true)
    sameOnBoth()
    // B's copy is a working repository too
    const logB = ok(exec("git", ["-C", b("clone"), "log", "--format=%s"]), "git log on B").stdout
    expect(logB).toBe("second\nfirst\n")
  })

  firstOps.push(() => {
    if (rsyncMissing) return
    const src = path.join(outside, "rsync-src")
    ok(
      sh(
        `mkdir -p ${src}/x/y ${src}/empty && echo r1 > ${src}/r1.txt && echo r2 > ${src}/x/y/r2.txt && chmod +x ${src}/x/y/r2.txt && ln -s x/y/r2.txt ${src}/link && touch -d '2018-03-04 05:06:07' ${src}/r1.txt`
      ),
      "make rsync source"
    )
    inA(`rsync -a ${src}/ synced-tree/`)
  })
  it("rsync -a of a directory tree", async (ctx) => {
    if (rsyncMissing) {
      console.log(`skipping rsync: ${rsyncMissing}`)
      ctx.skip()
    }
    await afterRound1()
    expect(read(b("synced-tree/r1.txt"))).toBe("r1\n")
    expect(read(b("synced-tree/x/y/r2.txt"))).toBe("r2\n")
    expect(fs.statSync(b("synced-tree/x/y/r2.txt")).mode & 0o111).toBe(0o111)
    expect(fs.readlinkSync(b("synced-tree/link"))).toBe("x/y/r2.txt")
    expect(fs.readdirSync(b("synced-tree/empty"))).toEqual([])
    sameOnBoth()
  })

  /**
   * tar sets mtimes with futimens(fd, [UTIME_OMIT, mtime]), rsync with utimensat(path, [now, mtime]),
   * cp -p and touch -m likewise: an mtime apart from the atime, or alone.
   *
   * Known to fail with fuse-native 2.2.6 underneath: its C binding hands the atime to JavaScript
   * in place of the mtime (fuse-native.c, utimens: `FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)`), and it
   * does not set `flag_utime_omit_ok`, so libfuse 2.9 drops a setattr that changes the mtime alone.
   * `touch -d` works only because it sets both times to the same value.
   */
  const mtimeSrc = () => path.join(outside, "mtime-src")
  const when = "2018-03-04 05:06:07"
  const expectedMtime = Math.floor(new Date(2018, 2, 4, 5, 6, 7).getTime() / 1000)
  const mtimeNames = () => ["t/t.txt", "p.txt", "m.txt", ...(rsyncMissing ? [] : ["r.txt"])]
  const mtimesIn = (root: string) => Object.fromEntries(mtimeNames().map((n) => [n, Math.floor(fs.statSync(path.join(root, "mtimes", n)).mtimeMs / 1000)]))
  let mtimesOnA: Record<string, number> = {}
  firstOps.push(() => {
    const src = mtimeSrc()
    ok(sh(`mkdir -p ${src}/t && echo t > ${src}/t/t.txt && echo r > ${src}/r.txt && echo p > ${src}/p.txt && touch -d '${when}' ${src}/t/t.txt ${src}/r.txt ${src}/p.txt && tar -C ${src} -cf ${outside}/t.tar t`), "make sources")
    inA(`mkdir -p mtimes && tar -C mtimes -xf ${outside}/t.tar && cp -p ${src}/p.txt mtimes/p.txt && echo m > mtimes/m.txt && touch -m -d '${when}' mtimes/m.txt`)
    if (!rsyncMissing) inA(`rsync -a ${src}/r.txt mtimes/r.txt`)
    mtimesOnA = mtimesIn(A.mnt)
  })
  it("keeps the mtimes tar x, rsync -a, cp -p and touch -m set", async () => {
    await afterRound1()
    const want = Object.fromEntries(mtimeNames().map((n) => [n, expectedMtime]))
    expect(mtimesOnA).toEqual(want)
    expect(mtimesIn(B.mnt)).toEqual(want)
    if (!rsyncMissing) {
      // a second rsync has nothing to do: sizes and mtimes match
      const again = inA(`rsync -a --itemize-changes ${mtimeSrc()}/r.txt mtimes/r.txt`).stdout
      expect(again).toBe("")
    }
    sameOnBoth()
  })

  let editedBefore = ""
  firstOps.push(() => {
    editedBefore = read(b("base/edited.txt"))
    inA("printf 'edited text\\n' > base/.edited.txt.swp && mv -f base/.edited.txt.swp base/edited.txt")
    // vim with backupcopy=no also writes a backup first and removes it after
    inA("cp base/edited.txt base/edited.txt~ && printf 'edited twice\\n' > base/4913 && rm base/4913 && printf 'edited twice\\n' > base/.edited.txt.swx && mv -f base/.edited.txt.swx base/edited.txt && rm base/edited.txt~")
  })
  it("editor-style save: write a temp file, then rename it over the original", async () => {
    await afterRound1()
    expect(editedBefore).toBe("original text\n")
    expect(read(b("base/edited.txt"))).toBe("edited twice\n")
    expect(fs.readdirSync(b("base")).filter((n) => n.includes("edited"))).toEqual(["edited.txt"])
    expect(fs.readdirSync(b("base")).filter((n) => n.includes("conflict"))).toEqual([])
    sameOnBoth()
  })

  // round 2: after every first-round test above
  it("truncate to 0 (round 2)", async () => {
    await afterRound2()
    expect(read(b("base/truncate.txt"))).toBe("")
    expect(fs.statSync(b("base/truncate.txt")).size).toBe(0)
    sameOnBoth()
  })

  it("chmod -x (round 2)", async () => {
    await afterRound2()
    expect(fs.statSync(b("base/script.sh")).mode & 0o111).toBe(0)
    expect(read(b("base/script.sh"))).toBe("script\n")
    sameOnBoth()
  })

  /**
   * An executable file is an unlocked git-annex file: when B reads it, B's `git annex get` batch
   * process (which stays up for the next read) hard-links the content into B's work tree, and
   * tells git-annex's keys database the file's inode only when it exits. The next checkout with an
   * unlocked file among its changes runs `git annex restage`, which stages what git-annex's clean
   * filter makes of the file; run before the batch process had exited, the filter took the file
   * for a modified one and made a key of its own. That key differs from sharebox's when the file
   * was written under another name (as rsync writes `.NAME.XXXXXX`, whose suffix is no extension),
   * and B's index then held it instead of HEAD's pointer.
   */
  it("an executable saved under a temporary name, read on B, then a sync with another executable: both gitdirs stay clean", async () => {
    inA("printf 'first\\n' > first.sh && chmod +x first.sh")
    inA("printf 'saved\\n' > .saved.sh.Xq3kZ9 && chmod +x .saved.sh.Xq3kZ9 && mv .saved.sh.Xq3kZ9 saved.sh")
    await propagate()
    // the key was named after the temporary name: no extension, where git-annex's own has `.sh`
    expect(git(B.gitdir, ["cat-file", "-p", "HEAD:saved.sh"]).stdout).toMatch(/^\/annex\/objects\/SHA256E-s6--[0-9a-f]{64}\n$/)
    // one process fetches both; the last key it fetched is the one whose inode it holds back
    expect(read(b("first.sh"))).toBe("first\n")
    expect(read(b("saved.sh"))).toBe("saved\n")
    inA("printf 'next\\n' > next.sh && chmod +x next.sh")
    await propagate()
    expect(await eventually(() => exists(b("next.sh")), 3000)).toBe(true)
    // read on B after the sync: the get process that fills it keeps the file's inode to itself, so
    // git takes the file for a modified one until that process, idle, ends by itself
    expect(read(b("next.sh"))).toBe("next\n")
    expect(await eventually(() => git(B.gitdir, ["status", "--porcelain"]).stdout === "", BATCH_IDLE_MS + 10_000)).toBe(true)
    // B's index holds HEAD's pointer, not one git-annex's clean filter made anew
    expect(git(B.gitdir, ["rev-parse", ":saved.sh"]).stdout).toBe(git(B.gitdir, ["rev-parse", "HEAD:saved.sh"]).stdout)
    expect([...w.contractProblems(A), ...w.contractProblems(B)]).toEqual([])
  })

  it("B's gitdir holds what was done, as git-annex sees it", async () => {
    await afterRound2()
    // the annexed files B fetched are in its annex; nothing in the work tree is modified
    expect(git(B.gitdir, ["status", "--porcelain"]).stdout).toBe("")
    expect(ok(git(B.gitdir, ["annex", "find", "--in=here", "base/overwrite.txt"]), "annex find").stdout.trim()).toBe("base/overwrite.txt")
  })
})
