/**
 * The FUSE layer depends only on domain types and its ports (src/fuse/ports.ts); the daemon's
 * wiring (mount.ts) is where services come in. The binding (fuse-native) comes in through one
 * module, native.ts, which says which of its operations sharebox answers and loads it.
 */
import { readFileSync, readdirSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const SRC = path.join(__dirname, "../../src")
const FUSE = path.join(SRC, "fuse")
const WIRING = new Set(["mount.ts"])
const BINDING = "fuse-native"
/** The one module that imports the binding. */
const BINDING_IMPORTER = "fuse/native.ts"

const importsOf = (file: string): Array<string> =>
  [...readFileSync(path.join(FUSE, file), "utf8").matchAll(/^\s*(?:import|export)\b[^"']*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!)

/** Every source file under src, relative to it. */
const sources = (): Array<string> =>
  readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.split(path.sep).join("/"))

/** Whether a file names the binding as a module: an import or export, import(), require() or createRequire(...)(). */
const loadsBinding = (text: string): boolean =>
  new RegExp(String.raw`(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\)\s*\(\s*)["']${BINDING}(?:/[^"']*)?["']`).test(text)

describe("the FUSE layer", () => {
  it("imports only the domain, node's modules and its own files, outside the daemon's wiring", () => {
    const handlers = readdirSync(FUSE).filter((f) => f.endsWith(".ts") && !WIRING.has(f))
    expect(handlers.length).toBeGreaterThan(5)
    const outside = handlers.flatMap((f) =>
      importsOf(f)
        .filter((m) => !m.startsWith("node:") && !m.startsWith("../domain/") && !(m.startsWith("./") && !WIRING.has(m.slice(2).replace(/\.js$/, ".ts"))))
        .filter((m) => !(m === BINDING && `fuse/${f}` === BINDING_IMPORTER))
        .map((m) => `${f} imports ${m}`)
    )
    expect(outside).toEqual([])
  })

  it("is where the binding comes in, through one module of it", () => {
    const importers = sources().filter((f) => loadsBinding(readFileSync(path.join(SRC, f), "utf8")))
    expect(importers).toEqual([BINDING_IMPORTER])
  })

  it("would notice another module loading the binding", () => {
    expect(loadsBinding(`import Fuse from "fuse-native"`)).toBe(true)
    expect(loadsBinding(`import type { Stat } from 'fuse-native'`)).toBe(true)
    expect(loadsBinding(`const Fuse = require("fuse-native")`)).toBe(true)
    expect(loadsBinding(`createRequire(import.meta.url)("fuse-native")`)).toBe(true)
    expect(loadsBinding(`const m = await import("fuse-native")`)).toBe(true)
    expect(loadsBinding(`require("fuse-native/index.js")`)).toBe(true)
    expect(loadsBinding(`// the binding (fuse-native) answers here`)).toBe(false)
  })
})
