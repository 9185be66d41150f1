/**
 * A real sshd on a loopback address (127.0.0.2 and up), with its own host key and a key for the
 * tests, that a test stops, starts again, or black-holes (iptables drops what is sent to its port,
 * so a connection hangs as behind a dead link). Peers reached through it are `ssh://` git remotes.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { exec, freePort } from "./harness.js"

/** Why this machine cannot run the ssh tests, or undefined when it can. */
export const sshdMissing = (): string | undefined => {
  if (!fs.existsSync("/usr/sbin/sshd")) return "no /usr/sbin/sshd (Debian's openssh-server; scripts/setup.sh installs it)"
  if (exec("iptables", ["-S", "INPUT"]).code !== 0) return "iptables cannot read the INPUT chain here (the tests black-hole a port with it, as root)"
  return undefined
}

export class Sshd {
  private child: ChildProcess | undefined
  private holed = false
  port = 0
  /** A second port where every login is let in and then hears nothing (ForceCommand sleep): a peer that stalls. */
  stallPort = 0

  constructor(
    readonly dir: string,
    readonly host = "127.0.0.2"
  ) {}

  /** The client key and known_hosts the tests' ssh uses (as a user's ~/.ssh would give them). */
  get key(): string {
    return path.join(this.dir, "client")
  }
  get knownHosts(): string {
    return path.join(this.dir, "known_hosts")
  }

  /** The ssh command of a user who set these up: their key and known hosts, nothing else. */
  get sshCommand(): string {
    return `ssh -i ${this.key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${this.knownHosts} -o StrictHostKeyChecking=yes -o LogLevel=ERROR`
  }

  /** An `ssh://` URL for a path on this machine, through this sshd. */
  url(p: string): string {
    return `ssh://root@${this.host}:${this.port}${p}`
  }

  /** The same through the stalling port: logins succeed, then nothing is ever said. */
  stallUrl(p: string): string {
    return `ssh://root@${this.host}:${this.stallPort}${p}`
  }

  async setup(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true })
    for (const k of ["host", "client"]) {
      const r = exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(this.dir, k)])
      if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`)
    }
    fs.copyFileSync(`${this.key}.pub`, path.join(this.dir, "authorized_keys"))
    this.port = await freePort(this.host)
    do this.stallPort = await freePort(this.host)
    while (this.stallPort === this.port)
    fs.writeFileSync(
      path.join(this.dir, "sshd_config"),
      [
        `Port ${this.port}`,
        `ListenAddress ${this.host}`,
        `HostKey ${path.join(this.dir, "host")}`,
        `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        "UseDNS no",
        `PidFile ${path.join(this.dir, "sshd.pid")}`,
        `Port ${this.stallPort}`,
        `Match LocalPort ${this.stallPort}`,
        "  ForceCommand sleep 600",
        ""
      ].join("\n")
    )
    this.trustHostKey()
    fs.mkdirSync("/run/sshd", { recursive: true })
    await this.start()
  }

  /** known_hosts holding this sshd's real host key. */
  trustHostKey(): void {
    const key = fs.readFileSync(path.join(this.dir, "host.pub"), "utf8")
    fs.writeFileSync(this.knownHosts, `[${this.host}]:${this.port} ${key}[${this.host}]:${this.stallPort} ${key}`)
  }

  /** known_hosts holding another key for this sshd's address, as after a reinstall or an attack. */
  distrustHostKey(): void {
    const other = path.join(this.dir, "other")
    if (!fs.existsSync(other)) exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other])
    fs.writeFileSync(this.knownHosts, `[${this.host}]:${this.port} ${fs.readFileSync(`${other}.pub`, "utf8")}`)
  }

  async start(): Promise<void> {
    if (this.child) return
    const child = spawn("/usr/sbin/sshd", ["-D", "-f", path.join(this.dir, "sshd_config"), "-E", path.join(this.dir, "sshd.log")], { stdio: "ignore" })
    this.child = child
    child.once("exit", () => {
      if (this.child === child) this.child = undefined
    })
    for (let i = 0; i < 100; i++) {
      if (await new Promise<boolean>((resolve) => net.connect(this.port, this.host).once("connect", function (this: net.Socket) { this.destroy(); resolve(true) }).once("error", () => resolve(false)))) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`sshd did not listen on ${this.host}:${this.port}: ${fs.readFileSync(path.join(this.dir, "sshd.log"), "utf8")}`)
  }

  /** Stops the listening sshd (sessions already open keep their own processes). */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = undefined
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.kill("SIGTERM")
    })
  }

  private rule(action: "-I" | "-D"): void {
    const r = exec("iptables", [action, "INPUT", "-d", this.host, "-p", "tcp", "--dport", String(this.port), "-j", "DROP"])
    if (r.code !== 0) throw new Error(`iptables ${action}: ${r.stderr}`)
  }

  /** Drops every packet sent to the port: connections hang, as to a host behind a dead link. */
  blackhole(): void {
    if (this.holed) return
    this.rule("-I")
    this.holed = true
  }

  unblackhole(): void {
    if (!this.holed) return
    this.rule("-D")
    this.holed = false
  }

  async close(): Promise<void> {
    this.unblackhole()
    await this.stop()
  }
}
