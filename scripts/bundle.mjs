// Bundles the command and the daemon into dist/bundle/ (run by `npm run build`, after tsc has
// type-checked and written dist/). Loading hundreds of ESM files of effect and @effect/* took
// most of every start-up; one file per entry, tree-shaken, loads in a fraction of it.
// fuse-native stays outside: a native addon, loaded at run time through createRequire.
import { build } from "esbuild"
import { rmSync } from "node:fs"

// chunk names change with their contents: none of an earlier build may linger
rmSync("dist/bundle", { recursive: true, force: true })

await build({
  entryPoints: { main: "src/cli/entry.ts", daemon: "src/cli/daemon.ts" },
  // chunks: a plain mount (entry.ts) loads neither the command-line parser nor what only it needs
  splitting: true,
  chunkNames: "chunk-[hash]",
  outdir: "dist/bundle",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  external: ["fuse-native"],
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: "warning",
  // CommonJS dependencies bundled into ESM call require() for node's built-in modules
  banner: { js: 'import { createRequire as __shareboxRequire } from "node:module"; const require = __shareboxRequire(import.meta.url);' }
})
