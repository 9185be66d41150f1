/**
 * A plain git-annex peer in the fleet: the `.variant-` files its own merge of a conflict leaves are
 * listed by `sharebox conflicts` and resolved like sharebox's copies, and the plain peer gets the
 * resolution at its next `git annex sync`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type Run, git, plainPeer, read, sharebox, useWorld, write } from "./harness.js"

const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}

describe("a plain git-annex peer in the fleet", () => {
  const w = useWorld("sharebox-mixed")

  it("its .variant- files are conflicts: listed, resolved with sharebox resolve, and the resolution reaches it", () => {
    const A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "f.txt"), "base\n")
    ok(w.sync(A), "sync A")
    const P = plainPeer(path.join(w.root, "peer"), "peer", { clone: A.gitdir })
    ok(git(A.gitdir, ["remote", "add", "peer", P]), "remote add")

    // both change f.txt; the plain peer merges first and keeps both as git-annex does
    write(path.join(A.mnt, "f.txt"), "from A\n")
    ok(sharebox(["replay", A.mnt]), "replay A")
    fs.rmSync(path.join(P, "f.txt"))
    write(path.join(P, "f.txt"), "from peer\n")
    ok(git(P, ["annex", "add", "f.txt"]), "annex add")
    ok(git(P, ["commit", "-q", "-m", "peer edits f.txt"]), "commit")
    git(P, ["annex", "sync", "--quiet"]) // exits 1: it reports the conflict it resolved with variants
    const variants = fs.readdirSync(P).filter((n) => n.includes(".variant-"))
    expect(variants.length, `the plain peer's tree: ${fs.readdirSync(P)}`).toBe(2)

    ok(w.sync(A), "sync A")
    // one JSON record per line
    const listed = ok(sharebox(["conflicts", "--json", A.mnt]), "conflicts")
      .stdout.trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; copy: string })
    expect(listed.map((c) => [c.path, c.copy]).sort()).toEqual(variants.map((v) => ["f.txt", v]).sort())
    expect(read(path.join(A.mnt, ".sharebox", "conflicts"))).toContain("f.txt\tf.variant-")

    // keep the peer's version under the file's name, and drop A's
    const peers = variants.find((v) => read(path.join(A.mnt, v)) === "from peer\n")!
    const ours = variants.find((v) => v !== peers)!
    expect(read(path.join(A.mnt, ours))).toBe("from A\n")
    ok(sharebox(["resolve", path.join(A.mnt, peers), "--keep", "copy"]), "resolve copy")
    ok(sharebox(["resolve", path.join(A.mnt, ours), "--keep", "winner"]), "resolve winner")
    expect(read(path.join(A.mnt, "f.txt"))).toBe("from peer\n")
    expect(fs.readdirSync(A.mnt).filter((n) => n.includes(".variant-"))).toEqual([])
    expect(ok(sharebox(["conflicts", A.mnt]), "conflicts").stdout.trim()).toBe("")

    // the plain peer takes the resolution at its next sync
    ok(w.sync(A), "sync A")
    ok(git(P, ["annex", "sync", "--quiet"]), "git annex sync on the peer")
    expect(fs.readdirSync(P).filter((n) => n.includes(".variant-"))).toEqual([])
    ok(git(P, ["annex", "get", "--quiet", "f.txt"]), "annex get")
    expect(read(path.join(P, "f.txt"))).toBe("from peer\n")
  }, 180_000)
})
