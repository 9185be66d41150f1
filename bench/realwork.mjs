/**
 * The real-work suite (issue 18): what people do in a shared folder, with the commands they use,
 * on a plain directory, bindfs and sharebox side by side. bench.mjs runs it (`--only realwork`)
 * and hands it its helpers; it is a module of its own because bench.mjs is a script with top-level
 * effects that cannot be imported.
 *
 * The tree is made by the bench, seeded, so every run measures the same bytes: nested folders, a
 * source tree's mix of sizes (most files a few KiB, a few of them MiBs), text with a pattern in some
 * lines for `grep -r`; a tar of it and a git repository with history to clone sit on the plain disk.
 *
 * Each repetition mounts a fresh bindfs and sharebox, and runs the whole sequence of steps on one
 * subject before the next (the order rotated per repetition), caches dropped before each step. A
 * sharebox step runs right after the one before, while its write-back of what that step made may
 * still run, as it does for a person typing the commands; before the next subject starts,
 * sharebox is settled (`sharebox replay`, not timed), so its background work never lands in a
 * baseline's figures.
 */
import * as fs from "node:fs"
import * as path from "node:path"

const MiB = 1 << 20

/** A seeded generator (mulberry32): the same tree on every run and machine. */
const prng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const WORDS = "const let return import export from function async await value result error path file tree view node event state merge sync host peer write read open close".split(" ")
const EXTS = [".ts", ".ts", ".ts", ".js", ".json", ".md", ".d.ts", ".txt"]

/** Text like a source file's, `bytes` long; about one line in 40 holds TODO (what `grep -r` finds). */
const textOf = (rand, bytes) => {
  const lines = []
  let n = 0
  while (n < bytes) {
    const words = []
    const k = 2 + Math.floor(rand() * 10)
    for (let i = 0; i < k; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)])
    const line = (rand() < 0.025 ? "  // TODO " : "  ") + words.join(" ") + ";\n"
    lines.push(line)
    n += line.length
  }
  return lines.join("").slice(0, bytes)
}

/**
 * The files of the tree: `n` of them, about 12 per folder, folders nested up to 5 deep. Sizes as in
 * a source tree: log-normal, median 3 KiB, σ = 2 (in e-folds), kept within 100 bytes and
 * `maxBytes` (for 3,000 files: about 65 MiB, a few dozen files over 256 KiB, a few over 1 MiB).
 */
export const treeFiles = (n, maxBytes, seed = 18) => {
  const rand = prng(seed)
  const dirs = [""]
  const files = []
  for (let i = 0; i < n; i++) {
    if (i % 12 === 0 && i > 0) {
      const parent = dirs[Math.floor(rand() * dirs.length)]
      if (parent.split("/").length < 5) dirs.push(path.join(parent, `d${dirs.length}`))
    }
    const dir = dirs[dirs.length - 1 - Math.floor(rand() * Math.min(3, dirs.length))]
    const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
    const size = Math.min(maxBytes, Math.max(100, Math.round(3072 * Math.exp(2 * normal))))
    files.push({ path: path.join(dir, `f${i}${EXTS[Math.floor(rand() * EXTS.length)]}`), size })
  }
  return files
}

/** Writes the tree under `root`; a pool of text is cut into the files, so making it is quick. */
export const writeTree = (root, files) => {
  const rand = prng(1818)
  const pool = textOf(rand, 8 * MiB)
  for (const f of files) {
    const at = Math.floor(rand() * (pool.length - f.size))
    fs.mkdirSync(path.join(root, path.dirname(f.path)), { recursive: true })
    fs.writeFileSync(path.join(root, f.path), pool.slice(at, at + f.size))
  }
}

export const measureRealWork = (b) => {
  const { sh, q, record, check, threeSubjects, tearDown, dropCaches, rotate, settle, say, TMP, REPS, QUICK } = b
  const N = QUICK ? 300 : 3000
  const MAX = QUICK ? 1 * MiB : 4 * MiB
  const LOOP = QUICK ? 300 : 2000
  const BIG = QUICK ? 32 : 256 // MiB
  const COMMITS = QUICK ? 5 : 30

  // the inputs, on the plain disk: the tree, its tar, a repository with history
  const src = path.join(TMP, "realwork-src")
  const files = treeFiles(N, MAX)
  writeTree(path.join(src, "tree"), files)
  const bytes = files.reduce((s, f) => s + f.size, 0)
  const tar = path.join(src, "tree.tar")
  sh(`tar cf ${q(tar)} -C ${q(path.join(src, "tree"))} .`)
  const dirCount = Number(sh(`find ${q(path.join(src, "tree"))} -type d | wc -l`).stdout.trim())
  const TODOs = Number(sh(`grep -r TODO ${q(path.join(src, "tree"))} | wc -l`).stdout.trim())
  // the repository: a third of the files, added over COMMITS commits, each also changing earlier ones
  const origin = path.join(src, "origin")
  sh(`git init -q -b main ${q(origin)}`)
  const inRepo = files.filter((_, i) => i % 3 === 0)
  const rand = prng(7)
  for (let c = 0; c < COMMITS; c++) {
    const chunk = inRepo.slice(Math.floor((c * inRepo.length) / COMMITS), Math.floor(((c + 1) * inRepo.length) / COMMITS))
    for (const f of chunk) {
      fs.mkdirSync(path.join(origin, path.dirname(f.path)), { recursive: true })
      fs.copyFileSync(path.join(src, "tree", f.path), path.join(origin, f.path))
    }
    for (let k = 0; k < 5 && c > 0; k++) {
      const f = inRepo[Math.floor(rand() * Math.floor((c * inRepo.length) / COMMITS))]
      fs.appendFileSync(path.join(origin, f.path), `  // change ${c}.${k}\n`)
    }
    sh(`git -C ${q(origin)} add -A . && git -C ${q(origin)} commit -q -m ${q(`change ${c}`)}`)
  }
  say(`realwork: a ${N}-file tree (${dirCount} folders, ${(bytes / MiB).toFixed(0)} MiB, ${TODOs} TODO lines), a repository of ${inRepo.length} files in ${COMMITS} commits`)

  const steps = (d, s) => {
    const t = path.join(d, "t")
    const expect = (what, got, want) => {
      if (got !== want) throw new Error(`realwork on ${s}: ${what} gave ${got}, expected ${want}`)
    }
    return [
      ["tar xf", () => `mkdir ${q(t)} && tar xf ${q(tar)} -C ${q(t)}`],
      ["find -type f", () => `find ${q(t)} -type f | wc -l`, (out) => expect("find -type f", Number(out), N)],
      ["ls -lR", () => `ls -lR ${q(t)} >/dev/null`],
      ["grep -r", () => `grep -r TODO ${q(t)} | wc -l`, (out) => expect("grep -r TODO", Number(out), TODOs)],
      ["cp -r", () => `cp -r ${q(t)} ${q(path.join(d, "t2"))}`],
      // a build: read every .ts file, write three outputs
      [
        "build-like",
        () =>
          `mkdir -p ${q(path.join(d, "out"))} && cd ${q(t)} && find . -name '*.ts' -print0 | sort -z | xargs -0 cat > ../out/bundle.js && ` +
          `find . -name '*.json' -print0 | xargs -0 wc -c > ../out/sizes.txt && sha256sum ../out/bundle.js > ../out/bundle.sha256`
      ],
      ["rm -rf", () => `rm -rf ${q(t)} ${q(path.join(d, "t2"))} ${q(path.join(d, "out"))}`, () => expect("what rm -rf left", ["t", "t2", "out"].filter((x) => fs.existsSync(path.join(d, x))).join(" "), "")],
      [`shell loop, ${LOOP} files`, () => `mkdir ${q(path.join(d, "loop"))} && cd ${q(path.join(d, "loop"))} && for i in $(seq ${LOOP}); do echo $i > f$i; done`],
      [`write ${BIG} MiB`, () => `dd if=/dev/zero of=${q(path.join(d, "big"))} bs=1M count=${BIG} conv=fsync status=none`],
      ["git clone", () => `git clone -q --no-local ${q(origin)} ${q(path.join(d, "clone"))}`],
      ["git status", () => `git -C ${q(path.join(d, "clone"))} status --porcelain | wc -l`, (out) => expect("git status in the clone", Number(out), 0)]
    ]
  }

  for (let rep = 0; rep < REPS; rep++) {
    say(`realwork: repetition ${rep + 1} of ${REPS}`)
    const { base, dirs } = threeSubjects(`realwork-${rep}`)
    for (const s of rotate(["plain", "bindfs", "sharebox"], rep)) {
      for (const [name, cmd, verify] of steps(dirs[s], s)) {
        dropCaches()
        const t0 = performance.now()
        const r = sh(cmd())
        record(`rw: ${name}`, "s", s, (performance.now() - t0) / 1000)
        verify?.(r.stdout.trim())
      }
      settle(s, dirs[s])
    }
    tearDown(base)
  }
  const tight = new Set(["tar xf", "find -type f", "grep -r", "cp -r"])
  for (const [name] of steps("", "")) {
    const metric = `rw: ${name}`
    const [t, text] = tight.has(name) ? [1.2, "≤ 1.2×"] : name.startsWith("shell loop") ? [1.2, "≤ 1.2×"] : name.startsWith("write") ? [1 / 0.9, "≤ 1.11× plain (≥ 0.9× its speed)"] : [1.5, "≤ 1.5×"]
    if (name.startsWith("write")) {
      check(`${name} (dd, fsync), vs plain dir`, metric, "sharebox", "plain", "ratio<=", t, text)
      check(`${name} (dd, fsync), vs bindfs`, metric, "sharebox", "bindfs", "info")
    } else {
      check(`${name}, vs bindfs`, metric, "sharebox", "bindfs", "ratio<=", t, text)
      check(`${name}, vs plain dir`, metric, "sharebox", "plain", "info")
    }
  }
}
