#!/usr/bin/env node
/**
 * The sharebox benchmark suite. Entry: `npm run bench [-- --quick]` (bench/run.sh, which installs
 * the tools, builds if needed and makes the temporary folder this script works in).
 *
 * Every measurement runs sharebox and its baselines side by side, in the same run, on the same
 * disk, N times (orders rotated), and keeps the median:
 *   - plain     a plain directory on the disk
 *   - bindfs    `bindfs -o big_writes` of a plain directory: a C FUSE passthrough
 *   - git-annex stock git-annex commands doing the same job
 *   - sharebox  a sharebox mount (bin/sharebox)
 *
 * Options: --quick (small sizes, 1 repetition: the CI mode), --reps N, --only a,b (seq, random,
 * small, fetch, tree, realwork: bench/realwork.mjs, ssh: bench/ssh.mjs), --tmp DIR (work folder; run.sh makes one),
 * --json FILE (results as JSON),
 * --markdown FILE (the report as markdown), --verbose (every command with its time, on stderr),
 * --keep (leave the work folder).
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { measureRealWork } from "./realwork.mjs"
import { measureSsh } from "./ssh.mjs"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const SHAREBOX = path.join(ROOT, "bin", "sharebox")
const MiB = 1 << 20

// ------------------------------------------------------------------------------------------------
// helpers run as child processes, so the time they print excludes node's own start-up

const helpers = {
  /** Creates N files of 1 KiB (unique content), 100 per directory; prints the milliseconds. */
  create(dir, n) {
    n = Number(n)
    const pad = randomBytes(512 * n).toString("hex") // 1 KiB of text per file, made before timing
    const t0 = performance.now()
    fs.mkdirSync(dir)
    for (let i = 0; i < n; i++) {
      const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(4, "0")}`)
      if (i % 100 === 0) fs.mkdirSync(sub)
      fs.writeFileSync(path.join(sub, `f${String(i).padStart(6, "0")}.txt`), pad.slice(i * 1024, (i + 1) * 1024))
    }
    return performance.now() - t0
  },
  /** open() + first byte of a file. */
  firstbyte(file) {
    const t0 = performance.now()
    const fd = fs.openSync(file, "r")
    const got = fs.readSync(fd, Buffer.alloc(1), 0, 1, 0)
    const ms = performance.now() - t0
    fs.closeSync(fd)
    if (got !== 1) throw new Error(`no first byte from ${file}`)
    return ms
  },
  /** `git annex get FILE` in REPO, then open() + first byte. */
  annexget(repo, file) {
    const t0 = performance.now()
    const r = spawnSync("git", ["-C", repo, "annex", "get", "--quiet", "--", file], { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`git annex get ${file}: ${r.stderr}`)
    const fd = fs.openSync(path.join(repo, file), "r")
    const got = fs.readSync(fd, Buffer.alloc(1), 0, 1, 0)
    const ms = performance.now() - t0
    fs.closeSync(fd)
    if (got !== 1) throw new Error(`no first byte from ${file}`)
    return ms
  }
}

if (process.argv[2] === "--helper") {
  const [, , , name, ...args] = process.argv
  process.stdout.write(`${helpers[name](...args)}\n`)
  process.exit(0)
}

// ------------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const value = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt
}
const QUICK = flag("--quick")
const SIZES = QUICK
  ? { seq: 64 * MiB, rand: 16 * MiB, randSeconds: 0.5, small: 500, tree: 10000, reps: 1 }
  : { seq: 1024 * MiB, rand: 256 * MiB, randSeconds: 4, small: 10000, tree: 100000, reps: 5 }
const REPS = Number(value("--reps", SIZES.reps))
// the quick run (CI's) leaves out the ssh suite, the slowest to set up (about a minute): its
// promises are tested in test/integration/ssh.test.ts, and `--quick --only ssh` runs it small
const ONLY = value("--only", QUICK ? "seq,random,small,fetch,tree,realwork" : "seq,random,small,fetch,tree,realwork,ssh").split(",")
const TMP = path.resolve(value("--tmp") ?? fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-bench.")))
fs.mkdirSync(TMP, { recursive: true })

// Plain git and git-annex commits need an identity; sharebox passes its own.
process.env.GIT_AUTHOR_NAME ??= "bench"
process.env.GIT_AUTHOR_EMAIL ??= "bench@localhost"
process.env.GIT_COMMITTER_NAME ??= "bench"
process.env.GIT_COMMITTER_EMAIL ??= "bench@localhost"

// ------------------------------------------------------------------------------------------------
// processes, time, caches

const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const say = (line) => process.stderr.write(`bench: ${line}\n`)

/** Runs a bash command; throws on a non-zero exit unless allowFail. */
const VERBOSE = flag("--verbose")
const sh = (cmd, { allowFail = false } = {}) => {
  const t0 = performance.now()
  const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8", maxBuffer: 1 << 30 })
  if (VERBOSE) say(`${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s  ${cmd.slice(0, 160)}`)
  if (r.status !== 0 && !allowFail) throw new Error(`command failed (exit ${r.status}): ${cmd}\n${(r.stderr || r.stdout).slice(-2000)}`)
  return r
}
/** Wall-clock milliseconds of a bash command. */
const timed = (cmd, opts) => {
  const t0 = performance.now()
  sh(cmd, opts)
  return performance.now() - t0
}
const helper = (name, ...args) => Number(sh(`${q(process.execPath)} ${q(fileURLToPath(import.meta.url))} --helper ${name} ${args.map(q).join(" ")}`).stdout.trim())
const sharebox = (args) => `${q(SHAREBOX)} ${args}`

const DROP = "sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true"
let canDrop = false
const dropCaches = () => sh(DROP, { allowFail: true })

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
/** The subjects in a different order each repetition, so none always goes first. */
const rotate = (xs, rep) => xs.map((_, i) => xs[(i + rep) % xs.length])
/** Runs measurements in a rotated order, caches dropped before each. */
const inTurn = (rep, fs_) => {
  for (const f of rotate(fs_, rep)) {
    dropCaches()
    f()
  }
}

// ------------------------------------------------------------------------------------------------
// mounts: every one is recorded, and unmounted (its daemon waited for) whatever happens

const mounts = []
const isMounted = (mnt) => fs.readFileSync("/proc/self/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === mnt)
/** Whether a process runs (a zombie, e.g. our own exited bindfs child, does not). */
const alive = (pid) => {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}
const waitFor = (cond, ms) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (cond()) return true
    sleep(50)
  }
  return cond()
}
const lockPid = (gitdir) => {
  try {
    return Number(fs.readFileSync(path.join(gitdir, ".git", "sharebox", "lock"), "utf8").trim()) || undefined
  } catch {
    return undefined
  }
}

/** Mounts a sharebox host; returns the wall-clock milliseconds until `sharebox` returned (mount live). */
const mountSharebox = (mnt, gitdir, options = []) => {
  fs.mkdirSync(mnt, { recursive: true })
  const t0 = performance.now()
  sh(sharebox(`${q(mnt)} -o ${q(["gitdir=" + gitdir, ...options].join(","))}`))
  const ms = performance.now() - t0
  mounts.push({ kind: "sharebox", mnt, gitdir, pid: lockPid(gitdir) })
  return ms
}

/** Mounts bindfs in the foreground as our child (so its pid is known); returns ms until mounted. */
const mountBindfs = (src, mnt) => {
  fs.mkdirSync(mnt, { recursive: true })
  const t0 = performance.now()
  const child = spawn("bindfs", ["-f", "-o", "big_writes", src, mnt], { stdio: "ignore", detached: true })
  if (!waitFor(() => isMounted(mnt), 10_000)) throw new Error(`bindfs did not mount ${mnt}`)
  const ms = performance.now() - t0
  child.unref()
  mounts.push({ kind: "bindfs", mnt, pid: child.pid })
  return ms
}

/** Unmounts several at once: all the fusermounts, then the waits for their daemons. */
const unmountMany = (ms) => {
  for (const m of ms) if (isMounted(m.mnt)) sh(`fusermount -u ${q(m.mnt)}`, { allowFail: true })
  for (const m of [...ms].reverse()) unmount(m)
}
const unmount = (m) => {
  if (isMounted(m.mnt)) {
    for (let i = 0; i < 20 && sh(`fusermount -u ${q(m.mnt)}`, { allowFail: true }).status !== 0; i++) sleep(250)
    if (isMounted(m.mnt)) sh(`fusermount -uz ${q(m.mnt)}`, { allowFail: true })
  }
  // a sharebox daemon notices the unmount, finishes its work and releases its lock
  if (m.pid && !waitFor(() => !alive(m.pid), 120_000)) {
    say(`${m.kind} process ${m.pid} still running 120 s after unmount; stopping it`)
    try {
      process.kill(m.pid, "SIGTERM")
    } catch {}
    if (!waitFor(() => !alive(m.pid), 5_000)) {
      try {
        process.kill(m.pid, "SIGKILL")
      } catch {}
    }
  }
  const i = mounts.indexOf(m)
  if (i >= 0) mounts.splice(i, 1)
}
const unmountAll = () => unmountMany([...mounts])

let cleanedUp = false
const cleanup = () => {
  if (cleanedUp) return
  cleanedUp = true
  unmountAll()
  if (!flag("--keep")) fs.rmSync(TMP, { recursive: true, force: true })
}
// On an error the exit handler cleans up. The script is synchronous, so it leaves signals to their
// default (node ends at once) and run.sh's trap unmounts and removes what is left.
process.on("exit", cleanup)

/** Waits until a sharebox daemon has nothing pending: `sharebox replay` queues behind a write-back. */
const settle = (subject, mnt) => {
  if (subject === "sharebox") sh(sharebox(`replay ${q(mnt)}`))
}

/** A plain dir, a bindfs mount of another plain dir, and a sharebox mount, under TMP/name. */
const threeSubjects = (name, shareboxOptions = []) => {
  const base = path.join(TMP, name)
  const plain = path.join(base, "plain")
  fs.mkdirSync(plain, { recursive: true })
  fs.mkdirSync(path.join(base, "bindfs-src"), { recursive: true })
  mountBindfs(path.join(base, "bindfs-src"), path.join(base, "bindfs"))
  mountSharebox(path.join(base, "sharebox"), path.join(base, "sharebox-git"), shareboxOptions)
  return { base, dirs: { plain, bindfs: path.join(base, "bindfs"), sharebox: path.join(base, "sharebox") } }
}
const tearDown = (base) => {
  unmountMany(mounts.filter((m) => m.mnt.startsWith(base + "/")))
  fs.rmSync(base, { recursive: true, force: true })
}
/** The subjects of the sequential and random I/O measurements (made once, removed at the end). */
let io
const ioSubjects = () => (io ??= threeSubjects("io"))
const SUBJECTS = ["plain", "bindfs", "sharebox"]

// ------------------------------------------------------------------------------------------------
// results

/** metric -> { unit, values: subject -> [numbers] } */
const figures = new Map()
const record = (metric, unit, subject, v) => {
  if (!figures.has(metric)) figures.set(metric, { unit, values: {} })
  ;(figures.get(metric).values[subject] ??= []).push(v)
}
const fig = (metric, subject) => median(figures.get(metric)?.values[subject] ?? [])

/**
 * Target rows. kind: "ratio>=" figure/baseline >= t; "ratio<=" figure/baseline <= t;
 * "faster>=" baseline/figure >= t; "plus<=" figure <= baseline + t; "abs<=" figure <= t;
 * "info" no target.
 */
const checks = []
const check = (what, metric, subject, baseSubject, kind, t, targetText) => {
  checks.push({ what, metric, subject, baseSubject, kind, t, targetText })
}

const fio = (file, rw, size, bs, extra = []) => {
  const r = sh(
    ["fio", "--name=bench", `--filename=${q(file)}`, `--rw=${rw}`, `--bs=${bs}`, `--size=${size}`, "--ioengine=psync", "--fallocate=none", "--output-format=json", ...extra].join(" ")
  )
  const j = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")))
  const job = j.jobs[0]
  const d = rw.includes("read") ? job.read : job.write
  if (job.error) throw new Error(`fio ${rw} on ${file}: error ${job.error}`)
  return { mibps: d.bw_bytes / MiB, iops: d.iops }
}

// ------------------------------------------------------------------------------------------------
// measurements: one function each

/** Sequential write (with a final fsync) and read (cold cache) of one big file, fio, 1 MiB blocks. */
const measureSequential = () => {
  const size = SIZES.seq
  const { dirs } = ioSubjects()
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of rotate(SUBJECTS, rep)) {
      const file = path.join(dirs[s], `seq-${rep}`)
      dropCaches()
      record("seq write", "MiB/s", s, fio(file, "write", size, "1M", ["--end_fsync=1"]).mibps)
      settle(s, dirs[s])
      dropCaches()
      record("seq read", "MiB/s", s, fio(file, "read", size, "1M").mibps)
      fs.rmSync(file)
      settle(s, dirs[s])
    }
  }
  check(`sequential write ${size / MiB} MiB, vs bindfs`, "seq write", "sharebox", "bindfs", "ratio>=", 1.0, "≥ 1.0×")
  check(`sequential write ${size / MiB} MiB, vs plain dir`, "seq write", "sharebox", "plain", "info")
  check(`sequential read ${size / MiB} MiB, vs plain dir`, "seq read", "sharebox", "plain", "ratio>=", 0.8, "≥ 0.8×")
  check(`sequential read ${size / MiB} MiB, vs bindfs`, "seq read", "sharebox", "bindfs", "info")
}

/** Random 4 KiB reads (cold cache) and writes in one file, fio, a fixed time each. */
const measureRandom = () => {
  const size = SIZES.rand
  const secs = ["--time_based", `--runtime=${SIZES.randSeconds * 1000}ms`]
  const { dirs } = ioSubjects()
  for (const s of SUBJECTS) {
    fio(path.join(dirs[s], "rand"), "write", size, "1M") // lay the file out, untimed
    settle(s, dirs[s])
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of rotate(SUBJECTS, rep)) {
      const file = path.join(dirs[s], "rand")
      dropCaches()
      record("rand read 4k", "IOPS", s, fio(file, "randread", size, "4k", secs).iops)
      dropCaches()
      record("rand write 4k", "IOPS", s, fio(file, "randwrite", size, "4k", secs).iops)
      settle(s, dirs[s])
    }
  }
  for (const s of SUBJECTS) fs.rmSync(path.join(dirs[s], "rand"))
  check(`random 4 KiB read in ${size / MiB} MiB, vs bindfs`, "rand read 4k", "sharebox", "bindfs", "info")
  check(`random 4 KiB read in ${size / MiB} MiB, vs plain dir`, "rand read 4k", "sharebox", "plain", "info")
  check(`random 4 KiB write in ${size / MiB} MiB, vs bindfs`, "rand write 4k", "sharebox", "bindfs", "info")
  check(`random 4 KiB write in ${size / MiB} MiB, vs plain dir`, "rand write 4k", "sharebox", "plain", "info")
}

/** hyperfine runs a read-only command on every subject, caches dropped before each run; medians recorded. */
const hyperfine = (metric, runs, base, command) => {
  const json = path.join(base, "hyperfine.json")
  const named = SUBJECTS.flatMap((s) => ["-n", s, command(s)])
  sh(`hyperfine --style none --runs ${runs} --prepare ${q(DROP)} --export-json ${q(json)} ${named.map(q).join(" ")}`)
  for (const r of JSON.parse(fs.readFileSync(json, "utf8")).results) record(metric, "s", r.command, r.median)
}

/** A plain git-annex repository with one committed file, and a second one that has synced with it. */
const plainAnnexPair = (base) => {
  const p = path.join(base, "annex-p")
  const r = path.join(base, "annex-q")
  sh(`git init -q -b main ${q(p)} && git -C ${q(p)} annex init -q p && git init -q -b main ${q(r)} && git -C ${q(r)} annex init -q q`)
  sh(`git -C ${q(p)} remote add q ../annex-q && git -C ${q(r)} remote add p ../annex-p`)
  sh(`echo hello > ${q(p)}/README && git -C ${q(p)} annex add -q README && git -C ${q(p)} commit -q -m init`)
  sh(`git -C ${q(r)} annex sync --quiet >/dev/null 2>&1`, { allowFail: true }) // the first one grumbles: no synced/main yet
  sh(`git -C ${q(r)} annex sync --quiet >/dev/null`)
  return { p, q: r }
}

/** A second sharebox host B, each gitdir a remote of the other; with warm, B has synced once. */
const shareboxPeer = (base, aMnt, aGit, warm = true) => {
  const bMnt = path.join(base, "sharebox-b")
  const bGit = path.join(base, "sharebox-b-git")
  mountSharebox(bMnt, bGit)
  sh(`git -C ${q(aGit)} remote add b ${q(bGit)} && git -C ${q(bGit)} remote add a ${q(aGit)}`)
  if (warm) {
    fs.writeFileSync(path.join(aMnt, "README"), "hello\n")
    sh(sharebox(`replay ${q(aMnt)}`))
    sh(sharebox(`sync ${q(bMnt)}`))
  }
  return { bMnt, bGit }
}

/**
 * 10,000 small files: create, `ls -lR`, `stat`, delete (plain, bindfs, sharebox); replay of the new
 * files vs `git annex add` + `git commit`; sync to a second host vs `git annex sync`.
 */
const measureSmallFiles = () => {
  const n = SIZES.small
  for (let rep = 0; rep < REPS; rep++) {
    const { base, dirs } = threeSubjects(`small-${rep}`, ["writeback=off"])
    const aGit = path.join(base, "sharebox-git")
    const { bMnt } = shareboxPeer(base, dirs.sharebox, aGit)
    const annex = plainAnnexPair(base)
    const sf = (s) => path.join(dirs[s], "sf")

    for (const s of rotate(SUBJECTS, rep)) {
      dropCaches()
      record("create small files", "s", s, helper("create", sf(s), n) / 1000)
    }

    // into history: sharebox replay vs git annex add + git commit of the same files
    sh(`cp -a ${q(sf("plain"))} ${q(annex.p)}/sf`)
    inTurn(rep, [
      () => record("add to history", "s", "git-annex", timed(`git -C ${q(annex.p)} annex add --quiet sf && git -C ${q(annex.p)} commit -q -m files`) / 1000),
      () => record("add to history", "s", "sharebox", timed(sharebox(`replay ${q(dirs.sharebox)}`)) / 1000)
    ])

    // to a second host: sharebox sync vs git annex sync
    inTurn(rep, [
      () => record("sync to 2nd host", "s", "git-annex", timed(`git -C ${q(annex.q)} annex sync --quiet >/dev/null`) / 1000),
      () => record("sync to 2nd host", "s", "sharebox", timed(sharebox(`sync ${q(bMnt)}`)) / 1000)
    ])
    if (fs.readdirSync(path.join(bMnt, "sf")).length !== Math.ceil(n / 100)) throw new Error("host B does not show the new files after sync")

    // ls -lR and stat: read-only, so hyperfine repeats them (cold cache each time), in the first round
    if (rep === 0) {
      const runs = Math.max(REPS, 2)
      hyperfine("ls -lR", runs, base, (s) => `ls -lR ${q(sf(s))} >/dev/null`)
      hyperfine("stat", runs, base, (s) => `find ${q(sf(s))} -type f -print0 | xargs -0 stat >/dev/null`)
    }

    for (const s of rotate(SUBJECTS, rep)) {
      dropCaches()
      record("delete small files", "s", s, timed(`rm -rf ${q(sf(s))}`) / 1000)
    }
    tearDown(base)
  }
  check(`create ${n} small files, vs bindfs`, "create small files", "sharebox", "bindfs", "ratio<=", 2.0, "≤ 2.0×")
  check(`ls -lR of ${n} files, vs bindfs`, "ls -lR", "sharebox", "bindfs", "ratio<=", 2.0, "≤ 2.0×")
  check(`stat of ${n} files, vs bindfs`, "stat", "sharebox", "bindfs", "info")
  check(`delete ${n} files, vs bindfs`, "delete small files", "sharebox", "bindfs", "info")
  check(`replay ${n} new files, vs git annex add + commit`, "add to history", "sharebox", "git-annex", "faster>=", 5, "≥ 5× faster")
  check(`sync of them to a 2nd host, vs git annex sync`, "sync to 2nd host", "sharebox", "git-annex", "info")
}

/** First byte of an absent 1 MiB file fetched from a local peer: sharebox open() vs git annex get. */
const measureFetch = () => {
  const base = path.join(TMP, "fetch")
  const aMnt = path.join(base, "sharebox")
  const aGit = path.join(base, "sharebox-git")
  mountSharebox(aMnt, aGit)
  const { bMnt } = shareboxPeer(base, aMnt, aGit, false)
  const annex = plainAnnexPair(base)
  fs.mkdirSync(path.join(aMnt, "fb"))
  fs.mkdirSync(path.join(annex.p, "fb"))
  for (let i = 0; i < REPS; i++) {
    const data = randomBytes(MiB)
    fs.writeFileSync(path.join(aMnt, "fb", `f${i}.bin`), data)
    fs.writeFileSync(path.join(annex.p, "fb", `f${i}.bin`), data)
  }
  sh(sharebox(`replay ${q(aMnt)}`))
  sh(sharebox(`sync ${q(bMnt)}`))
  sh(`git -C ${q(annex.p)} annex add --quiet fb && git -C ${q(annex.p)} commit -q -m fb && git -C ${q(annex.q)} annex sync --quiet >/dev/null`)
  for (let i = 0; i < REPS; i++) {
    dropCaches()
    record("first byte, absent 1 MiB", "ms", "git-annex", helper("annexget", annex.q, `fb/f${i}.bin`))
    dropCaches()
    record("first byte, absent 1 MiB", "ms", "sharebox", helper("firstbyte", path.join(bMnt, "fb", `f${i}.bin`)))
  }
  tearDown(base)
  check("first byte of an absent 1 MiB file from a local peer, vs git annex get", "first byte, absent 1 MiB", "sharebox", "git-annex", "plus<=", 100, "≤ git annex get + 100 ms")
}

/** git-annex's hashdirmixed object directory of a key. */
const hashDirMixed = (key) => {
  const MIXED = "0123456789zqjxkmvwgpfZQJXKMVWGPF"
  const w = createHash("md5").update(key, "utf8").digest().readUInt32LE(0)
  let cs = ""
  for (let x = 0; x < 8; x++) cs += MIXED[(w >>> (6 * x)) & 31]
  let sw = ""
  for (let i = 0; i + 1 < cs.length; i += 2) sw += cs[i + 1] + cs[i]
  return `${sw.slice(0, 2)}/${sw.slice(2, 4)}`
}

/**
 * A gitdir holding `n` annexed files (1,000 per directory, content on no host) in sharebox's
 * layout (docs/layout.md: locked-file symlinks, a `.shareboxdir` marker per directory), written
 * with one git fast-import, then checked out.
 */
const makeBigTree = (gitdir, n) => {
  // what `sharebox init` does (src/effects/annex.ts initRepository), without its start-up time
  sh(`git init -q -b main ${q(gitdir)} && git -C ${q(gitdir)} annex init --quiet bench && git -C ${q(gitdir)} config annex.thin true`)
  const parts = []
  const blob = (mode, p, data) => parts.push(`M ${mode} inline ${p}\ndata ${Buffer.byteLength(data)}\n${data}\n`)
  const now = Date.now()
  parts.push(`commit refs/heads/main\ncommitter bench <bench@localhost> ${Math.floor(now / 1000)} +0000\ndata 12\nbench tree\n\n`)
  blob("100644", ".shareboxdir", "")
  for (let d = 0; d * 1000 < n; d++) {
    const dir = `d${String(d).padStart(4, "0")}`
    const marker = []
    for (let i = d * 1000; i < Math.min(n, (d + 1) * 1000); i++) {
      const name = `f${String(i).padStart(6, "0")}.txt`
      const key = `SHA256E-s1024--${createHash("sha256").update(`bench ${i}`).digest("hex")}.txt`
      blob("120000", `${dir}/${name}`, `../.git/annex/objects/${hashDirMixed(key)}/${key}/${key}`)
      marker.push(`${name}\t${now}\n`)
    }
    blob("100644", `${dir}/.shareboxdir`, marker.join(""))
  }
  parts.push("done\n")
  const r = spawnSync("git", ["-C", gitdir, "fast-import", "--quiet", "--done"], { input: parts.join(""), encoding: "utf8" })
  if (r.status !== 0) throw new Error(`fast-import: ${r.stderr}`)
  sh(`git -C ${q(gitdir)} reset -q --hard main`)
}

const rssMB = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
  return m ? (Number(m[1]) * 1024) / 1e6 : NaN
}

/** Mount start-up time and daemon RSS with a big tree (vs bindfs over the same checked-out tree). */
const measureBigTree = () => {
  const n = SIZES.tree
  const base = path.join(TMP, "tree")
  const gitdir = path.join(base, "git")
  fs.mkdirSync(base, { recursive: true })
  const t0 = performance.now()
  makeBigTree(gitdir, n)
  say(`made a ${n}-file tree in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const mnt = path.join(base, "mnt")
  const bmnt = path.join(base, "bindfs")
  // The first sharebox mount reads the tree from git; it leaves a snapshot of it (docs/layout.md,
  // tree.json) that later mounts at the same commit read instead. Both are measured.
  const mountTimed = (s) => {
    dropCaches()
    const ms = s === "sharebox" ? mountSharebox(mnt, gitdir) : mountBindfs(gitdir, bmnt)
    return { ms, m: mounts[mounts.length - 1] }
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of rotate(["bindfs", "sharebox"], rep)) {
      const { ms, m } = mountTimed(s)
      // bindfs keeps nothing between mounts: each of its mounts counts as both
      if (s === "bindfs" || rep === 0) record("mount start-up, first", "s", s, ms / 1000)
      if (s === "bindfs" || rep > 0) record("mount start-up, remount", "s", s, ms / 1000)
      record("RSS after mount", "MB", s, rssMB(m.pid))
      record("ls -lR whole tree", "s", s, timed(`ls -lR ${q(m.mnt)} >/dev/null`) / 1000)
      record("RSS after ls -lR", "MB", s, rssMB(m.pid))
      unmount(m)
    }
  }
  if (REPS === 1) {
    // the quick run has one repetition: one remount more
    const { ms, m } = mountTimed("sharebox")
    record("mount start-up, remount", "s", "sharebox", ms / 1000)
    unmount(m)
  }
  tearDown(base)
  check(`mount ready, ${n}-file tree, first mount (tree from git)`, "mount start-up, first", "sharebox", "bindfs", "abs<=", 3, "≤ 3 s")
  check(`mount ready, ${n}-file tree, remount (tree snapshot)`, "mount start-up, remount", "sharebox", "bindfs", "abs<=", 3, "≤ 3 s")
  check(`daemon RSS after mount, ${n}-file tree`, "RSS after mount", "sharebox", "bindfs", "abs<=", 300, "≤ 300 MB")
  check(`daemon RSS after ls -lR, ${n}-file tree`, "RSS after ls -lR", "sharebox", "bindfs", "abs<=", 300, "≤ 300 MB")
  check(`ls -lR of the ${n}-file tree, vs bindfs`, "ls -lR whole tree", "sharebox", "bindfs", "info")
}

/** The start-up of the `sharebox` command itself, part of every `sharebox replay/sync` time above. */
const measureCli = () => {
  for (let rep = 0; rep < REPS; rep++) record("sharebox CLI start-up (--version)", "s", "sharebox", timed(sharebox("--version >/dev/null")) / 1000)
}

// ------------------------------------------------------------------------------------------------
// report

const fmt = (v, unit) => {
  if (!Number.isFinite(v)) return "—"
  if (unit === "s") return v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(2)} s`
  if (unit === "ms") return `${v.toFixed(0)} ms`
  if (unit === "IOPS") return `${Math.round(v)} IOPS`
  if (unit === "MB") return `${v.toFixed(0)} MB`
  return `${v.toFixed(0)} ${unit}`
}

const machine = () => {
  const out = (cmd) => sh(cmd, { allowFail: true }).stdout.trim()
  const dev = out(`df --output=source,fstype ${q(TMP)} | tail -1`).split(/\s+/)
  const [name, size, rota, ...model] = (dev[0]?.startsWith("/dev/") ? out(`lsblk -dno NAME,SIZE,ROTA,MODEL ${q(dev[0])} 2>/dev/null`) : "").split(/\s+/)
  const blk = name ? `${name}, ${size}, ${rota === "1" ? "rotational" : "non-rotational"}${model.length ? `, ${model.join(" ")}` : ""}` : ""
  return [
    ["CPU", `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"} (nproc ${out("nproc")})`],
    ["memory", `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ["disk", `${dev.join(" ")}${blk ? ` (${blk})` : ""}, work folder ${TMP}`],
    ["kernel", `${os.type()} ${os.release()}`],
    ["os", out(". /etc/os-release && echo $PRETTY_NAME")],
    ["node", process.version],
    ["git", out("git --version")],
    ["git-annex", out("git annex version --raw")],
    ["bindfs", out("bindfs --version | head -1")],
    ["fio", out("fio --version")],
    ["hyperfine", out("hyperfine --version")],
    ["sharebox", out(`git -C ${q(ROOT)} rev-parse --short HEAD`) + (out(`git -C ${q(ROOT)} status --porcelain -- src`) ? " (with uncommitted changes in src/)" : "")],
    ["caches dropped between steps", canDrop ? "yes" : "no (not root?)"],
    ["load average (1 min) at start, at end", `${loadAtStart.toFixed(2)}, ${os.loadavg()[0].toFixed(2)} (other work on the machine makes figures noisy)`]
  ]
}

const table = (head, rows) => {
  const all = [head, ...rows]
  const w = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)))
  const line = (r) => "| " + r.map((c, i) => String(c).padEnd(w[i])).join(" | ") + " |"
  return [line(head), "| " + w.map((x) => "-".repeat(x)).join(" | ") + " |", ...rows.map(line)].join("\n")
}

const report = (command, seconds) => {
  const lines = []
  lines.push(`# sharebox benchmarks (${QUICK ? "quick" : "full"} mode, medians of ${REPS} run(s))`, "")
  lines.push(`command: \`${command}\`  `, `date: ${new Date().toISOString()}, took ${(seconds / 60).toFixed(1)} min`, "")
  lines.push(table(["machine", ""], machine()), "")
  // the fixed subjects first, then any other a measurement named (e.g. "sharebox (local path)")
  const subjects = [...new Set(["plain", "bindfs", "git-annex", "sharebox", ...[...figures.values()].flatMap((f) => Object.keys(f.values))])]
  lines.push("## Absolute figures (medians)", "")
  lines.push(
    table(
      ["measurement", ...subjects],
      [...figures].map(([metric, { unit, values }]) => [`${metric} (${unit})`, ...subjects.map((s) => (values[s] ? fmt(median(values[s]), unit) : "—"))])
    ),
    ""
  )
  lines.push("## Against the targets", "")
  const rows = checks.map((c) => {
    const { unit } = figures.get(c.metric)
    const f = fig(c.metric, c.subject)
    const b = fig(c.metric, c.baseSubject)
    let ratio = f / b
    let ratioText = `${ratio.toFixed(2)}×`
    let pass
    switch (c.kind) {
      case "ratio>=":
        pass = ratio >= c.t
        break
      case "ratio<=":
        pass = ratio <= c.t
        break
      case "faster>=":
        ratio = b / f
        ratioText = `${ratio.toFixed(2)}× faster`
        pass = ratio >= c.t
        break
      case "plus<=":
        ratioText = `${ratio.toFixed(2)}× (${f - b >= 0 ? "+" : ""}${(f - b).toFixed(0)} ${unit})`
        pass = f <= b + c.t
        break
      case "abs<=":
        pass = f <= c.t
        break
    }
    return [c.what, fmt(f, unit), `${fmt(b, unit)} (${c.baseSubject})`, ratioText, c.targetText ?? "—", pass === undefined ? "" : pass ? "PASS" : "MISS"]
  })
  lines.push(table(["measurement", "sharebox", "baseline", "ratio", "target", "result"], rows), "")
  return { text: lines.join("\n"), rows }
}

// ------------------------------------------------------------------------------------------------
// main

const loadAtStart = os.loadavg()[0]
const main = () => {
  const command = `npm run bench${argv.filter((a, i) => !(a === "--tmp" || argv[i - 1] === "--tmp")).length ? " -- " + argv.filter((a, i) => !(a === "--tmp" || argv[i - 1] === "--tmp")).join(" ") : ""}`
  canDrop = sh("sync && echo 3 > /proc/sys/vm/drop_caches", { allowFail: true }).status === 0
  say(`${QUICK ? "quick" : "full"} run, ${REPS} repetition(s), in ${TMP}${canDrop ? "" : " (cannot drop caches: not root?)"}`)
  const t0 = performance.now()
  const realwork = () => measureRealWork({ sh, q, record, check, threeSubjects, tearDown, dropCaches, rotate, settle, say, TMP, REPS, QUICK })
  const ssh = () => measureSsh({ sh, q, timed, sharebox, record, check, mountSharebox, tearDown, dropCaches, rotate, waitFor, TMP, QUICK, REPS, MiB })
  const steps = { seq: measureSequential, random: measureRandom, small: measureSmallFiles, fetch: measureFetch, tree: measureBigTree, realwork, ssh }
  measureCli()
  for (const [name, f] of Object.entries(steps)) {
    if (!ONLY.includes(name)) continue
    const t = performance.now()
    say(`${name}...`)
    f()
    say(`${name} done in ${((performance.now() - t) / 1000).toFixed(0)} s`)
  }
  if (io) tearDown(io.base)
  const { text, rows } = report(command, (performance.now() - t0) / 1000)
  process.stdout.write(text + "\n")
  if (value("--markdown")) fs.writeFileSync(value("--markdown"), text + "\n")
  if (value("--json")) {
    const obj = { command, quick: QUICK, reps: REPS, machine: machine(), figures: Object.fromEntries(figures), checks: rows }
    fs.writeFileSync(value("--json"), JSON.stringify(obj, null, 2) + "\n")
  }
}

try {
  main()
} catch (e) {
  say(`failed: ${e?.stack ?? e}`)
  process.exitCode = 1
}
