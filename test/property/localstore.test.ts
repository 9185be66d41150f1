/**
 * The local store of ignored paths (src/fuse/local.ts): the daemon's own writes there never follow
 * a symlink out of it.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Tree } from "../../src/domain/tree.js"
import { LocalStore } from "../../src/fuse/local.js"

describe("LocalStore.contained", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-local-"))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it("is false for a path at or below a symlink in the store, true for plain folders and for what is not there yet", () => {
    const outside = path.join(dir, "outside")
    fs.mkdirSync(outside)
    const store = new LocalStore(path.join(dir, "local"), () => new Tree())
    fs.mkdirSync(path.join(store.root, "build", "sub"), { recursive: true })
    fs.symlinkSync(outside, path.join(store.root, "build", "out"))
    fs.symlinkSync(path.join(outside, "f"), path.join(store.root, "build", "f"))
    expect(store.contained("build/sub/x.txt")).toBe(true)
    expect(store.contained("build/new/deeper/x.txt")).toBe(true)
    expect(store.contained("build/out")).toBe(false)
    expect(store.contained("build/out/x.txt")).toBe(false)
    expect(store.contained("build/f")).toBe(false)
  })
})
