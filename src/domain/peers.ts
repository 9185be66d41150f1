/**
 * Talking to peers, as pure rules: how ssh is run for git and git-annex alike (the user's own
 * command, with sharebox's options only where the user set none), and what a failure to reach a
 * peer means: the line of git's or ssh's output that says why, and whether trying again later can
 * help (unreachable: exit 75, cron retries) or a person must act (host key, key, a rejected push:
 * exit 1).
 */

/**
 * sharebox's ssh options, each added only where the user's command does not set it: never prompt
 * (a daemon has no terminal), give up a connection in 10 s, and a connection that stops answering
 * after 3 missed keep-alives 5 s apart.
 */
export const SSH_DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ["BatchMode", "yes"],
  ["ConnectTimeout", "10"],
  ["ServerAliveInterval", "5"],
  ["ServerAliveCountMax", "3"]
]

/**
 * Seconds a git-annex process moving content may say nothing (no progress, no answer) before it is
 * killed and what waited on it fails: a transfer that moves is never killed for taking long, a
 * peer that answered and then went silent costs this much, not a minute. Above ssh's own bounds
 * (ConnectTimeout 10 s; a dead link found by 3 keep-alives 5 s apart), so that where ssh can tell
 * what went wrong, it is ssh's reason that is kept.
 */
export const TRANSFER_STALL_SECONDS = 20

/** The ssh options (`-o Name=value`, `-oName value`, `-o "Name value"`) a command line sets, lower-cased. */
export const sshOptionsIn = (command: string): ReadonlySet<string> => {
  const names = new Set<string>()
  for (const m of command.matchAll(/(?:^|\s)-o\s*["']?([A-Za-z]+)/g)) names.add(m[1]!.toLowerCase())
  return names
}

/**
 * The ssh command git and git-annex run: the user's (from GIT_SSH_COMMAND, else git's
 * core.sshCommand, else plain `ssh`) followed by each of SSH_DEFAULTS it does not set. ssh takes the
 * first value it is given for an option, so even an option this does not recognise as set keeps the
 * user's value. With `share` (a folder), connections to each peer are shared (see `sharing`).
 */
export const sshCommand = (user: string | undefined, share?: string): string => {
  const base = user?.trim() || "ssh"
  const given = sshOptionsIn(base)
  const added = SSH_DEFAULTS.filter(([name]) => !given.has(name.toLowerCase())).map(([name, value]) => `-o ${name}=${value}`)
  return [base, ...added, ...(share === undefined ? [] : sharing(given, share))].join(" ")
}

/** The ssh options of connection sharing: ssh's own (the user's), else all of them or none. */
const SHARING = ["controlmaster", "controlpath", "controlpersist"]

/** The longest control socket path a Unix socket address holds (108 bytes on Linux, with its NUL). */
export const MAX_CONTROL_PATH = 100

/**
 * ssh connection sharing in a folder of sockets (one per peer, named by ssh's `%C` hash): every
 * ssh started with it talks through the first one's connection, kept until the owner of the
 * folder ends it. Nothing where the user's command sets any sharing option of its own, or where
 * the socket's path would be too long for a Unix socket.
 */
const sharing = (given: ReadonlySet<string>, dir: string): Array<string> => {
  if (SHARING.some((o) => given.has(o))) return []
  const socket = `${dir.replace(/%/g, "%%")}/%C`
  if (new TextEncoder().encode(`${dir}/${"x".repeat(40)}`).length > MAX_CONTROL_PATH) return []
  return ["-o ControlMaster=auto", `-o ${shellWord(`ControlPath=${socket}`)}`, "-o ControlPersist=yes"]
}

/** A word the shell reads back as itself (GIT_SSH_COMMAND is run by the shell). */
const shellWord = (s: string): string => (/^[A-Za-z0-9_=%/.,:+@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/** What stopped a peer from being reached, and whether waiting can help. */
export interface PeerFailure {
  /** "unreachable": try again later (exit 75); "needs-person": it will fail again until someone acts (exit 1) */
  readonly kind: "unreachable" | "needs-person"
  /** the line that says why, as git or ssh wrote it */
  readonly reason: string
}

/** Lines that say a person must act: waiting will not help. Checked before UNREACHABLE, best first. */
const NEEDS_PERSON: ReadonlyArray<RegExp> = [
  /Host key verification failed/i,
  /REMOTE HOST IDENTIFICATION HAS CHANGED/i,
  /No (?:ED25519|RSA|ECDSA|[A-Z0-9-]+ )?host key is known/i,
  /Permission denied/i,
  /Too many authentication failures/i,
  /\[remote rejected\]/i,
  /does not appear to be a git repository/i,
  /Repository not found/i,
  /git-annex-shell: .*not found|git-annex-shell: command not found/i,
  /Bad configuration option|Bad owner or permissions/i
]

/** Lines that say the peer could not be reached now, best first. */
const UNREACHABLE: ReadonlyArray<RegExp> = [
  /Connection timed out|Operation timed out|timed out/i,
  /Connection refused/i,
  /No route to host|Network is unreachable|Host is down/i,
  /Connection reset|Connection closed|Broken pipe|kex_exchange_identification/i,
  /Timeout, server .* not responding/i,
  /Could not resolve hostname|Temporary failure in name resolution/i,
  /is not there|gave no answer/i,
  // a push that lost a race with another host's: the next sync fetches first
  /\[rejected\]|non-fast-forward|\(fetch first\)/i
]

const lines = (text: string): Array<string> =>
  text
    .split(/\r?\n/)
    .map((l) => l.replace(/^[\s@]+|[\s@]+$/g, "")) // ssh frames its warnings in @
    .filter((l) => l.length > 0)

/**
 * A failed talk with a peer, from what git, git-annex or ssh wrote: the first line that says a
 * person must act, else the first that says the peer is out of reach, else git's first `fatal:` or
 * `error:` line, else its last line. A failure nobody recognises counts as unreachable: trying
 * again is harmless, and a person still reads the reason.
 */
export const classifyPeerFailure = (output: string, fallback = "no reason given"): PeerFailure => {
  const ls = lines(output)
  // patterns in order of how well they say it: ssh's banner of a changed host key says less than
  // its "Host key verification failed."
  for (const r of NEEDS_PERSON) for (const l of ls) if (r.test(l)) return { kind: "needs-person", reason: l }
  for (const r of UNREACHABLE) for (const l of ls) if (r.test(l)) return { kind: "unreachable", reason: l }
  const told = ls.find((l) => /^(fatal|error):/i.test(l)) ?? ls[ls.length - 1]
  return { kind: "unreachable", reason: told ?? fallback }
}
