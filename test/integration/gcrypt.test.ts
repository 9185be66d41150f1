/**
 * An encrypted remote (git-remote-gcrypt, Debian's, as a git-annex gcrypt special remote): made on
 * A with a gpg key, synced to as a peer (the tree goes there encrypted), enabled by B's sync by
 * itself where B holds the key, and serving B's mount with A away; no plaintext in it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { type Run, exec, git, read, useWorld, write } from "./harness.js"

const missing = ["git-remote-gcrypt", "gpg"].filter((c) => exec("sh", ["-c", `command -v ${c}`]).code !== 0)
if (missing.length) console.log(`gcrypt test skipped: ${missing.join(" and ")} not installed (Debian: git-remote-gcrypt, gnupg)`)

const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}

describe.skipIf(missing.length > 0)("an encrypted gcrypt remote", () => {
  const w = useWorld("sharebox-gcrypt")

  it("made on A, enabled by B's sync, serves B with A away; it holds no plaintext", async () => {
    // the user's keyring, as each host's user would have it (here both hosts are one user)
    const gnupg = path.join(w.root, "gnupg")
    fs.mkdirSync(gnupg, { mode: 0o700 })
    process.env.GNUPGHOME = gnupg
    ok(exec("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", "sharebox test <test@sharebox.invalid>", "default", "default", "never"]), "gpg key")
    const fpr = ok(exec("gpg", ["--list-keys", "--with-colons"]), "gpg list").stdout.split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9]!
    const enc = path.join(w.root, "enc.git")
    ok(exec("git", ["init", "-q", "--bare", enc]), "git init --bare")

    const [A, B] = w.pair()
    const secret = "sealed: nobody reads this off the remote\n"
    write(path.join(A.mnt, "sealed.txt"), secret)
    ok(w.sync(A), "sync A")
    ok(git(A.gitdir, ["annex", "initremote", "enc", "type=gcrypt", `gitrepo=${enc}`, `keyid=${fpr}`]), "initremote")
    ok(git(A.gitdir, ["annex", "copy", "--all", "--to", "enc"]), "copy to enc")
    // enc is a git remote of A now: A's sync pushes its tree there, encrypted
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)

    const b = w.sync(B)
    expect(b.code, b.stderr).toBe(0)
    expect(b.stderr).toContain("enabled special remote enc (gcrypt)")
    expect(git(B.gitdir, ["config", "remote.enc.url"]).stdout.trim()).toBe(`gcrypt::${enc}`)

    const files = (dir: string): Array<string> => fs.readdirSync(dir, { recursive: true }).map((p) => path.join(dir, String(p))).filter((p) => fs.statSync(p).isFile())
    for (const f of files(enc)) expect(fs.readFileSync(f).includes(Buffer.from("nobody reads this")), f).toBe(false)

    await w.whileAway(A, () => {
      expect(read(path.join(B.mnt, "sealed.txt"))).toBe(secret)
      // and B syncs with the encrypted remote as with any peer
      write(path.join(B.mnt, "from-b.txt"), "B, alone\n")
      const alone = w.sync(B)
      expect(alone.code).toBe(75) // A is away
      expect(alone.stderr).not.toContain("peer enc")
    })
    ok(w.sync(A), "sync A")
    expect(read(path.join(A.mnt, "from-b.txt"))).toBe("B, alone\n")
  }, 240_000)
})
