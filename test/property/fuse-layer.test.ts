/**
 * The FUSE layer depends only on domain types and its ports (src/fuse/ports.ts); the daemon's
 * wiring (mount.ts) is where services come in.
 */
import { readFileSync, readdirSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const FUSE = path.join(__dirname, "../../src/fuse")
const WIRING = new Set(["mount.ts"])

const importsOf = (file: string): Array<string> =>
  [...readFileSync(path.join(FUSE, file), "utf8").matchAll(/^\s*(?:import|export)\b[^"']*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!)

describe("the FUSE layer", () => {
  it("imports only the domain, node's modules and its own files, outside the daemon's wiring", () => {
    const handlers = readdirSync(FUSE).filter((f) => f.endsWith(".ts") && !WIRING.has(f))
    expect(handlers.length).toBeGreaterThan(5)
    const outside = handlers.flatMap((f) =>
      importsOf(f)
        .filter((m) => !m.startsWith("node:") && !m.startsWith("../domain/") && !(m.startsWith("./") && !WIRING.has(m.slice(2).replace(/\.js$/, ".ts"))))
        .map((m) => `${f} imports ${m}`)
    )
    expect(outside).toEqual([])
  })
})
