/**
 * packages/fuse-native/index.d.ts describes the native exports the fork adds (Fuse.Native); these
 * tests hold it to what the binding hands out and to what its C exports, so a new export is typed
 * and documented before sharebox can call it.
 */
import { readFileSync, readdirSync } from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const PACKAGE = path.join(__dirname, "../../packages/fuse-native")

/** The methods index.d.ts declares in `interface Native`. */
const typedNames = (): Array<string> => {
  const dts = readFileSync(path.join(PACKAGE, "index.d.ts"), "utf8")
  const body = /\binterface Native \{([\s\S]*?)\n {2}\}/.exec(dts)?.[1] ?? ""
  return [...body.matchAll(/^\s{4}(\w+)\??\(/gm)].map((m) => m[1]!).sort()
}

/** The functions the C exports beyond what upstream's index.js drives (mount, unmount, the signals). */
const cExports = (): Array<string> =>
  readdirSync(PACKAGE, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.c$/.test(f) && !f.startsWith("build") && !f.startsWith("node_modules"))
    .flatMap((f) => [...readFileSync(path.join(PACKAGE, f), "utf8").matchAll(/NAPI_EXPORT_FUNCTION\((\w+)\)/g)].map((m) => m[1]!))
    .filter((n) => n !== "fuse_native_mount" && n !== "fuse_native_unmount" && !n.startsWith("fuse_native_signal_"))
    .sort()

describe("fuse-native's types", () => {
  it("name each native export the binding hands out (Fuse.native), and no other", () => {
    const Fuse = createRequire(import.meta.url)(PACKAGE) as { native: Record<string, unknown> }
    expect(typedNames().length).toBeGreaterThan(10)
    expect(Object.keys(Fuse.native).sort()).toEqual(typedNames())
    for (const f of Object.values(Fuse.native)) expect(typeof f).toBe("function")
  })

  it("name each function the fork's C adds to upstream's exports", () => {
    expect([...new Set(cExports())]).toEqual(typedNames())
  })
})
