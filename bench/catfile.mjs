// The long-lived cat-file reader against a fresh `cat-file` per call, and Command against node's
// spawn under it: `npm run -s build && node bench/catfile.mjs [blobs] [rounds] [--no-per-call-before]`. Makes a repository
// of small blobs in a temporary folder and reads them (1) all in one call, (2) one call per blob,
// 1,000 of them one call each, 100 calls at a time, (3) sizes of all, (4) 1,000 calls in turn, and prints the best of the rounds for each.
import { spawn, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CatFile } from "../dist/effects/catfile.js"
import * as longlived from "../dist/effects/longlived.js"
import { BatchParser } from "../dist/effects/gitstream.js"
import { gitEnv } from "../dist/effects/gitenv.js"

const blobs = Number(process.argv[2] ?? 10000)
const rounds = Number(process.argv[3] ?? 5)
const root = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-bench-catfile-"))
execFileSync("git", ["init", "-q", root])
const input = Array.from({ length: blobs }, (_, i) => `small blob ${i} ${"x".repeat(i % 200)}\n`)
const files = input.map((t, i) => {
  const f = path.join(root, `b${i}`)
  fs.writeFileSync(f, t)
  return f
})
const oids = execFileSync("git", ["-C", root, "hash-object", "-w", "--stdin-paths"], { input: files.join("\n") + "\n", maxBuffer: 1 << 26 })
  .toString()
  .trim()
  .split("\n")
execFileSync("git", ["-C", root, "repack", "-adq"])

/** Before: a `cat-file --batch --buffer` per call (git.ts's readObjects as it was). */
const oneShot = (names) =>
  new Promise((resolve, reject) => {
    const out = []
    const parser = new BatchParser((_, d) => out.push(d && Buffer.from(d)))
    const child = spawn("git", ["-C", root, "cat-file", "--batch", "--buffer"], { env: gitEnv() })
    child.stdout.on("data", (d) => parser.push(d))
    child.on("error", reject)
    child.on("close", () => resolve(out))
    child.stdin.end(names.join("\n") + "\n")
  })

const time = async (f) => {
  let best = Infinity
  for (let r = 0; r < rounds; r++) {
    const t = performance.now()
    await f()
    best = Math.min(best, performance.now() - t)
  }
  return best
}

/** The first 1,000 blobs, one call each, 100 calls at a time. */
const perBlob = async (read) => {
  for (let i = 0; i < 1000; i += 100) await Promise.all(oids.slice(i, i + 100).map((o) => read([o])))
}

const check = (got) => {
  got.forEach((b, i) => {
    if (b.toString() !== input[i]) throw new Error(`blob ${i} differs`)
  })
}

const results = {}
check(await oneShot(oids))
results["before: one call of all (fresh cat-file)"] = await time(() => oneShot(oids))
if (process.argv[4] !== "--no-per-call-before") results["before: 1,000 calls, 100 at a time (fresh cat-file each)"] = await time(() => perBlob(oneShot))
for (const [name, start] of [["Command", longlived.startLongLived], ["spawn", longlived.spawnLongLived]]) {
  const cat = new CatFile(root, () => gitEnv(), 10, 60, start)
  check(await cat.contents(oids))
  results[`${name}: one call of all`] = await time(() => cat.contents(oids))
  results[`${name}: 1,000 calls, 100 at a time`] = await time(() => perBlob((n) => cat.contents(n)))
  results[`${name}: sizes of all`] = await time(() => cat.info(oids))
  results[`${name}: 1,000 calls one after another`] = await time(async () => {
    for (let i = 0; i < 1000; i++) await cat.contents([oids[i]])
  })
  await cat.close()
}
for (const [k, v] of Object.entries(results)) console.log(`${v.toFixed(1).padStart(9)} ms  ${k}`)
fs.rmSync(root, { recursive: true, force: true })
