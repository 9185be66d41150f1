/**
 * Annex.ingest moves staging files into the annex as an unprivileged user (seteuid here), as most
 * people run the daemon: each object read-only, in a read-only folder of its own, and files of the
 * same content (empty ones, copies) share one object.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Annex, objectPathOf } from "../../src/effects/annex.js"
import { sha256Key } from "../../src/domain/key.js"

const NOBODY = 65534

describe("Annex.ingest", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-ingest-"))
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it("many staging files of a few contents, moved by a user who is not root: every object there once, read-only", async () => {
    if (process.getuid?.() !== 0 || typeof process.seteuid !== "function") {
      console.log("skipped: needs root, to act as an unprivileged user")
      return
    }
    fs.chmodSync(root, 0o755)
    const top = path.join(root, "repo")
    const staging = path.join(root, "staging")
    fs.mkdirSync(path.join(top, ".git", "annex", "objects"), { recursive: true })
    fs.mkdirSync(staging)
    const items: Array<{ staged: string; key: string }> = []
    const contents = ["", "same\n", "copy of a licence\n"]
    for (let i = 0; i < 600; i++) {
      const text = contents[i % contents.length]!
      const staged = path.join(staging, `s${i}`)
      fs.writeFileSync(staged, text)
      items.push({ staged, key: sha256Key(createHash("sha256").update(text).digest("hex"), text.length, "") })
    }
    for (const p of [root, top, staging]) fs.chownSync(p, NOBODY, NOBODY)
    for (const d of [".git", ".git/annex", ".git/annex/objects"]) fs.chownSync(path.join(top, d), NOBODY, NOBODY)
    for (const { staged } of items) fs.chownSync(staged, NOBODY, NOBODY)
    const annex = new Annex(top)
    process.seteuid(NOBODY)
    let outcome: unknown
    try {
      outcome = await annex.ingest(items).then(
        () => "moved",
        (e: unknown) => e
      )
    } finally {
      process.seteuid(0)
    }
    expect(outcome).toBe("moved")
    for (const text of contents) {
      const key = sha256Key(createHash("sha256").update(text).digest("hex"), text.length, "")
      const obj = path.join(top, objectPathOf(key))
      expect(fs.readFileSync(obj, "utf8")).toBe(text)
      expect(fs.statSync(obj).mode & 0o777).toBe(0o444)
      expect(fs.statSync(path.dirname(obj)).uid, "made by the unprivileged user").toBe(NOBODY)
      expect(fs.statSync(path.dirname(obj)).mode & 0o777).toBe(0o555)
    }
  })
})
