/**
 * Talking to peers (src/domain/peers.ts): the ssh command keeps the user's choices, and a failure's
 * reason is a line git or ssh wrote, classed as unreachable or in need of a person.
 */
import { execFileSync } from "node:child_process"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { MAX_CONTROL_PATH, SSH_DEFAULTS, classifyPeerFailure, sshCommand, sshOptionsIn } from "../../src/domain/peers.js"

const optionName = fc.constantFrom(...SSH_DEFAULTS.map(([n]) => n), "IdentityFile", "Port", "ControlMaster", "StrictHostKeyChecking")
const spelling = (name: string, value: string) =>
  fc.constantFrom(`-o ${name}=${value}`, `-o${name}=${value}`, `-o ${name.toLowerCase()} ${value}`, `-o "${name} ${value}"`, `-o '${name}=${value}'`)
const userCommand = fc
  .array(
    optionName.chain((n) => spelling(n, "7")),
    { maxLength: 5 }
  )
  .chain((opts) => fc.constantFrom("ssh", "/usr/bin/ssh -v", "ssh -i /k/id").map((head) => [head, ...opts].join(" ")))

describe("sshCommand", () => {
  it("starts with the user's command and adds each of sharebox's options once, only where the user set none", () => {
    fc.assert(
      fc.property(userCommand, (user) => {
        const cmd = sshCommand(user)
        expect(cmd.startsWith(user)).toBe(true)
        const given = sshOptionsIn(user)
        const added = cmd.slice(user.length)
        for (const [name, value] of SSH_DEFAULTS) {
          const count = added.split(`-o ${name}=${value}`).length - 1
          expect(count, name).toBe(given.has(name.toLowerCase()) ? 0 : 1)
        }
      })
    )
  })

  it("is idempotent, and plain ssh without a user's command", () => {
    fc.assert(
      fc.property(userCommand, (user) => {
        expect(sshCommand(sshCommand(user))).toBe(sshCommand(user))
      })
    )
    expect(sshCommand(undefined)).toBe("ssh -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3")
    expect(sshCommand("  ")).toBe(sshCommand(undefined))
  })

  const dir = fc.constantFrom("/tmp/sbssh-a1B2c3", "/tmp/with space/x", "/tmp/it's/50%", "/tmp/" + "d".repeat(80))
  it("shares connections in the folder given, unless the user set any sharing option or the socket path would not fit", () => {
    fc.assert(
      fc.property(userCommand, dir, (user, d) => {
        const cmd = sshCommand(user, d)
        expect(cmd.startsWith(sshCommand(user))).toBe(true)
        const added = cmd.slice(sshCommand(user).length)
        const userShares = ["controlmaster", "controlpath", "controlpersist"].some((o) => sshOptionsIn(user).has(o))
        const fits = d.length + 41 <= MAX_CONTROL_PATH
        expect(added === "", `${user} | ${d}`).toBe(userShares || !fits)
        if (added !== "") {
          // the shell reads the path back as it is, with ssh's % doubled
          const words = execFileSync("bash", ["-c", `printf '%s\\n' ${added}`], { encoding: "utf8" }).trim().split("\n")
          expect(words).toEqual(["-o", "ControlMaster=auto", "-o", `ControlPath=${d.replace(/%/g, "%%")}/%C`, "-o", "ControlPersist=yes"])
        }
      }),
      { numRuns: 50 }
    )
  })
})

/** What git and ssh print, as seen on this machine (test/integration/ssh.test.ts meets them for real). */
const GIT_TAIL = "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n"
const seen: ReadonlyArray<[string, "unreachable" | "needs-person", string]> = [
  [`ssh: connect to host 127.0.0.2 port 2222: Connection refused\n${GIT_TAIL}`, "unreachable", "ssh: connect to host 127.0.0.2 port 2222: Connection refused"],
  [`ssh: connect to host 127.0.0.2 port 2222: Connection timed out\n${GIT_TAIL}`, "unreachable", "ssh: connect to host 127.0.0.2 port 2222: Connection timed out"],
  [`ssh: Could not resolve hostname far: Temporary failure in name resolution\n${GIT_TAIL}`, "unreachable", "ssh: Could not resolve hostname far: Temporary failure in name resolution"],
  [`Timeout, server 127.0.0.2 not responding.\n${GIT_TAIL}`, "unreachable", "Timeout, server 127.0.0.2 not responding."],
  [`Host key verification failed.\n${GIT_TAIL}`, "needs-person", "Host key verification failed."],
  [
    `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nHost key verification failed.\n${GIT_TAIL}`,
    "needs-person",
    "Host key verification failed."
  ],
  [`root@127.0.0.2: Permission denied (publickey).\n${GIT_TAIL}`, "needs-person", "root@127.0.0.2: Permission denied (publickey)."],
  [
    "To ssh://host/x\n ! [remote rejected] main -> synced/main (pre-receive hook declined)\nerror: failed to push some refs to 'ssh://host/x'\n",
    "needs-person",
    "! [remote rejected] main -> synced/main (pre-receive hook declined)"
  ],
  ["To /p\n ! [rejected]        main -> synced/main (fetch first)\nerror: failed to push some refs to '/p'\n", "unreachable", "! [rejected]        main -> synced/main (fetch first)"],
  ["fatal: '/gone/x' does not appear to be a git repository\n" + GIT_TAIL, "needs-person", "fatal: '/gone/x' does not appear to be a git repository"],
  ["something odd\nerror: it broke\nlast line\n", "unreachable", "error: it broke"],
  ["", "unreachable", "no reason given"]
]

describe("classifyPeerFailure", () => {
  it("keeps ssh's reason and its class, for what git and ssh print", () => {
    for (const [output, kind, reason] of seen) expect(classifyPeerFailure(output), output).toEqual({ kind, reason })
  })

  it("the reason is always one of the output's lines (trimmed of ssh's frame), or the fallback when there is none", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...seen.flatMap(([o]) => o.split("\n")))), { maxLength: 8 }), (ls) => {
        const out = ls.join("\n")
        const f = classifyPeerFailure(out, "FALLBACK")
        const lines = ls.flatMap((l) => l.split(/\r?\n/)).map((l) => l.replace(/^[\s@]+|[\s@]+$/g, "")).filter(Boolean)
        if (lines.length === 0) expect(f.reason).toBe("FALLBACK")
        else expect(lines).toContain(f.reason)
      })
    )
  })

  it("a host key or key refusal anywhere in the output needs a person, whatever else it says", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 5 }), fc.constantFrom("Host key verification failed.", "user@h: Permission denied (publickey)."), fc.nat(5), (noise, refusal, at) => {
        const ls = [...noise]
        ls.splice(Math.min(at, ls.length), 0, refusal)
        expect(classifyPeerFailure(ls.join("\n")).kind).toBe("needs-person")
      })
    )
  })
})
