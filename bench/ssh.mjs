/**
 * The bench's peers over ssh (`npm run bench -- --only ssh`): a real sshd on 127.0.0.2 with its own
 * host key and a client key, as a user's second machine would be, and three syncs of the same new
 * files (N small files and one big one) from host A to host B, each timed:
 *   - sharebox over ssh     B (mounted with getall, so content moves too) syncs from A's ssh:// URL
 *   - sharebox, local path  the same with A's gitdir as a plain path
 *   - git-annex over ssh    plain `git annex sync --content` between two plain repositories
 * and `sharebox get` of 100 small files over ssh against one `git annex get` of the same files.
 * Full: 1,000 small files and 100 MB; quick: 50 and 2 MB.
 * bench.mjs passes its tools in (`tools`): this module runs nothing of its own but sshd.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

const HOST = "127.0.0.2"

/** A free TCP port on HOST, found by a child node (the bench is synchronous). */
const freePort = ({ sh, q }) =>
  Number(
    sh(`${q(process.execPath)} -e ${q(`const s=require("net").createServer().listen(0,"${HOST}",()=>{console.log(s.address().port);s.close()})`)}`).stdout.trim()
  )

/** Starts sshd for the bench; returns what a user's ssh setup would give (command, URL maker, stop). */
const startSshd = (tools, dir) => {
  const { sh, q, waitFor } = tools
  fs.mkdirSync(dir, { recursive: true })
  for (const k of ["host", "client"]) sh(`ssh-keygen -q -t ed25519 -N '' -f ${q(path.join(dir, k))}`)
  fs.copyFileSync(path.join(dir, "client.pub"), path.join(dir, "authorized_keys"))
  const port = freePort(tools)
  const pidFile = path.join(dir, "sshd.pid")
  fs.writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `Port ${port}`,
      `ListenAddress ${HOST}`,
      `HostKey ${path.join(dir, "host")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "UseDNS no",
      `PidFile ${pidFile}`,
      ""
    ].join("\n")
  )
  const knownHosts = path.join(dir, "known_hosts")
  fs.writeFileSync(knownHosts, `[${HOST}]:${port} ${fs.readFileSync(path.join(dir, "host.pub"), "utf8")}`)
  fs.mkdirSync("/run/sshd", { recursive: true })
  const child = spawn("/usr/sbin/sshd", ["-D", "-f", path.join(dir, "sshd_config"), "-E", path.join(dir, "sshd.log")], { stdio: "ignore", detached: true })
  child.unref()
  const stop = () => {
    try {
      process.kill(child.pid, "SIGTERM")
    } catch {}
  }
  process.on("exit", stop)
  if (!waitFor(() => sh(`ssh -i ${q(path.join(dir, "client"))} -o IdentitiesOnly=yes -o UserKnownHostsFile=${q(knownHosts)} -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${port} root@${HOST} true`, { allowFail: true }).status === 0, 10_000))
    throw new Error(`sshd did not accept the bench's key on ${HOST}:${port}: ${fs.readFileSync(path.join(dir, "sshd.log"), "utf8")}`)
  return {
    sshCommand: `ssh -i ${path.join(dir, "client")} -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`,
    url: (p) => `ssh://root@${HOST}:${port}${p}`,
    stop
  }
}

/** N small files (1 KiB, unique) in folders of 100, and one big file, under `dir`. */
const makeFiles = (dir, n, big) => {
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, "small", `d${String(Math.floor(i / 100)).padStart(3, "0")}`)
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true })
    fs.writeFileSync(path.join(sub, `f${String(i).padStart(5, "0")}.txt`), randomBytes(512).toString("hex"))
  }
  fs.writeFileSync(path.join(dir, "big.bin"), randomBytes(big))
}

export const measureSsh = (tools) => {
  const { sh, q, timed, sharebox, record, check, mountSharebox, tearDown, dropCaches, rotate, TMP, QUICK, REPS, MiB } = tools
  if (!fs.existsSync("/usr/sbin/sshd")) throw new Error("the ssh measurements need /usr/sbin/sshd (Debian's openssh-server; scripts/setup.sh installs it)")
  const n = QUICK ? 50 : 1000
  const big = (QUICK ? 2 : 100) * MiB
  const m = Math.min(n, 100) // the files of the first folder: the get measurement's
  const label = `${n} small files + ${big / MiB} MB`
  const sshd = startSshd(tools, path.join(TMP, "sshd"))
  const env = `GIT_SSH_COMMAND=${q(sshd.sshCommand)} GIT_ANNEX_USE_GIT_SSH=1`
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const base = path.join(TMP, `ssh-${rep}`)
      const src = path.join(base, "src")
      makeFiles(src, n, big)

      // sharebox: A holds the files (replayed into its history); B over ssh and B' over a path fetch them all
      const aMnt = path.join(base, "a")
      const aGit = path.join(base, "a-git")
      mountSharebox(aMnt, aGit)
      sh(`cp -r ${q(src)}/. ${q(aMnt)}/ && ${sharebox(`replay ${q(aMnt)}`)}`)
      const peers = {
        "sharebox": { mnt: path.join(base, "b-ssh"), git: path.join(base, "b-ssh-git"), remote: sshd.url(aGit) },
        "sharebox (local path)": { mnt: path.join(base, "b-local"), git: path.join(base, "b-local-git"), remote: aGit }
      }
      for (const p of Object.values(peers)) {
        mountSharebox(p.mnt, p.git, ["getall"])
        sh(`git -C ${q(p.git)} remote add a ${q(p.remote)}`)
      }

      // plain git-annex: P holds the same files, Q syncs them with --content over ssh
      const P = path.join(base, "annex-p")
      const Q = path.join(base, "annex-q")
      sh(`git init -q -b main ${q(P)} && git -C ${q(P)} annex init -q p && cp -r ${q(src)}/. ${q(P)}/ && git -C ${q(P)} annex add --quiet . && git -C ${q(P)} commit -q -m files`)
      sh(`git init -q -b main ${q(Q)} && git -C ${q(Q)} annex init -q q && git -C ${q(Q)} remote add p ${q(sshd.url(P))}`)

      const runs = {
        "sharebox": () => timed(`${env} ${sharebox(`sync ${q(peers.sharebox.mnt)}`)}`),
        "sharebox (local path)": () => timed(sharebox(`sync ${q(peers["sharebox (local path)"].mnt)}`)),
        "git-annex": () => timed(`cd ${q(Q)} && ${env} git annex sync --quiet --content >/dev/null 2>&1`, { allowFail: true })
      }
      for (const s of rotate(Object.keys(runs), rep)) {
        dropCaches()
        record(`sync of ${label} to a peer, over ssh`, "s", s, runs[s]() / 1000)
      }
      // every subject really holds every file's content afterwards
      for (const [s, dir] of [["sharebox", peers.sharebox.git], ["sharebox (local path)", peers["sharebox (local path)"].git], ["git-annex", Q]]) {
        const held = Number(sh(`git -C ${q(dir)} annex find --in=here | wc -l`).stdout.trim())
        if (held !== n + 1) throw new Error(`${s}: holds ${held} of ${n + 1} files after its sync`)
      }

      // sharebox get of 100 files over ssh vs one git annex get of them (B' over ssh, content not fetched)
      if (rep === 0) {
        const cMnt = path.join(base, "c")
        const cGit = path.join(base, "c-git")
        mountSharebox(cMnt, cGit)
        sh(`git -C ${q(cGit)} remote add a ${q(sshd.url(aGit))} && ${env} ${sharebox(`sync ${q(cMnt)}`)}`)
        const R = path.join(base, "annex-r")
        sh(`git init -q -b main ${q(R)} && git -C ${q(R)} annex init -q r && git -C ${q(R)} remote add p ${q(sshd.url(P))} && cd ${q(R)} && ${env} git annex sync --quiet >/dev/null 2>&1`)
        const hundred = (root) => `${q(root)}/small/d000`
        dropCaches()
        record(`get of ${m} small files, over ssh`, "s", "sharebox", timed(`${env} ${sharebox(`get ${hundred(cMnt)}`)}`) / 1000)
        dropCaches()
        record(`get of ${m} small files, over ssh`, "s", "git-annex", timed(`cd ${q(R)} && ${env} git annex get --quiet small/d000`) / 1000)
        const got = Number(sh(`git -C ${q(cGit)} annex find --in=here small/d000 | wc -l`).stdout.trim())
        if (got !== m) throw new Error(`sharebox get over ssh: ${got} of ${m} files held afterwards`)
      }
      tearDown(base)
    }
  } finally {
    sshd.stop()
  }
  check(`sync of ${label} over ssh, vs the same over a local path`, `sync of ${label} to a peer, over ssh`, "sharebox", "sharebox (local path)", "ratio<=", 2.0, "≤ 2.0×")
  check(`sync of ${label} over ssh, vs git annex sync --content`, `sync of ${label} to a peer, over ssh`, "sharebox", "git-annex", "info")
  check(`sharebox get of ${m} small files over ssh, vs git annex get`, `get of ${m} small files, over ssh`, "sharebox", "git-annex", "ratio<=", 2.0, "≤ 2.0×")
}
