/**
 * What `sharebox --help`, `sharebox help COMMAND` and `man sharebox` say: one page per command, in
 * the order the command list shows them. Every option the parser accepts has its entry here
 * (test/integration/help.test.ts checks it against the parser's own definitions).
 */
import { MOUNT_OPTIONS } from "./mountoptions.js"
import type { ArgHelp, CommandHelp, ExitHelp, ProgramHelp } from "./types.js"

const TARGET: ArgHelp = { name: "MOUNTPOINT|GITDIR", text: "a sharebox mount point, or a gitdir (default: the current directory)." }
const PATHS: ArgHelp = { name: "PATH...", text: "files or folders in one sharebox, through its mount or its gitdir's work tree." }
const JSON_OPTION = { names: ["--json"], text: "machine-readable output: one JSON object a line." }

const OK: ExitHelp = { code: 0, text: "done." }
const USAGE: ExitHelp = { code: 64, text: "a command line it cannot make sense of." }
const NO_TARGET: ExitHelp = { code: 66, text: "the argument is neither a sharebox mount nor a gitdir." }
const NO_PATH: ExitHelp = { code: 66, text: "a path is not in a sharebox, or not in its tree." }
const FAILED: ExitHelp = { code: 1, text: "any other error, said in one line on stderr." }

const mount: CommandHelp = {
  name: "mount",
  synopsis: ["mount MOUNTPOINT -o gitdir=DIR[,OPTION...]", "MOUNTPOINT -o gitdir=DIR[,OPTION...]", "GITDIR MOUNTPOINT [-o OPTION[,OPTION...]]"],
  summary: "mount a gitdir on an empty folder",
  description: [
    "Mount the gitdir on MOUNTPOINT and return once the mount is usable; the daemon that serves it stays in the background until the mount is unmounted (fusermount -u MOUNTPOINT, or umount). An empty gitdir is initialised as a git-annex repository first.",
    "The third form is how mount.fuse runs sharebox for an /etc/fstab line of type fuse.sharebox with the gitdir as its source (see the examples). mount.fuse looks for sharebox in /usr/local/bin, /usr/bin and /bin, not on your PATH."
  ],
  args: [
    { name: "MOUNTPOINT", text: "an empty folder to mount on." },
    { name: "GITDIR", text: "the gitdir, as -o gitdir= names it (both may be given if they name the same folder)." }
  ],
  options: [{ names: ["-o"], value: "OPTION[,OPTION...]", text: "mount options, listed below." }],
  values: MOUNT_OPTIONS,
  exit: [
    { code: 0, text: "mounted." },
    { code: 64, text: "a bad or unknown option, or a missing gitdir." },
    { code: 66, text: "a gitdir or mount point that cannot be used (not a folder, not empty, a plain git repository)." },
    { code: 75, text: "the mount point is already mounted, or the gitdir is in use by another sharebox process." },
    { code: 1, text: "the daemon could not start; its reason is on stderr." }
  ],
  examples: [
    { command: "sharebox mount ~/Sharebox -o gitdir=~/.sharebox/git,name=laptop", text: "mount, naming this host laptop to its peers." },
    { command: "sharebox ~/Sharebox -o gitdir=~/.sharebox/git,writeback=off,syncinterval=600", text: "battery mode: write back and sync every ten minutes." },
    { command: "/path/to/gitdir  /mnt/share  fuse.sharebox  _netdev,nofail,nosuid,nodev  0  0", text: "a line of /etc/fstab: mount /mnt/share mounts it, and umount /mnt/share unmounts it." }
  ]
}

const sync: CommandHelp = {
  name: "sync",
  synopsis: ["sync [-v] [MOUNTPOINT|GITDIR]", "--command sync MOUNTPOINT"],
  summary: "replay the journal, fetch every peer, merge and push",
  description: [
    "Replay the journal, fetch every peer (the git remotes of the gitdir), merge their changes with this host's, push, and move content as the mount options say (getall, numversions, cachesize). A mounted gitdir is synced by its daemon; an unmounted one directly.",
    "Quiet unless something needs a person, so that it fits a crontab; an unreachable peer is named on stderr with ssh's or git's reason, and the others are still synced. sharebox status shows the last reason per peer.",
    "A mounted gitdir's daemon syncs with the GIT_SSH_COMMAND this command was run with, when it was run with one, content the sync fetches included."
  ],
  args: [TARGET],
  options: [{ names: ["-v", "--verbose"], text: "say more: each peer reached, how many heads were merged and how many conflicts came of it." }],
  exit: [
    { code: 0, text: "every peer was reached." },
    { code: 75, text: "some peer was unreachable (stopped, black-holed, offline: named on stderr); the others were synced. Trying again later can help." },
    { code: 1, text: "a person must act: a peer's host key changed or is unknown, a key was refused, a push was rejected, a peer's branch could not be chosen, the content policy failed (content getall or a pin wants that no reached peer could give: each file said on stderr; 75 instead when a peer was unreachable); or another error." },
    USAGE,
    NO_TARGET
  ],
  examples: [{ command: "*/5 * * * * sharebox sync ~/Sharebox", text: "a crontab line that syncs every five minutes." }]
}

const replay: CommandHelp = {
  name: "replay",
  synopsis: ["replay [--dry-run] [MOUNTPOINT|GITDIR]"],
  summary: "replay the journal into git-annex now, without the network",
  description: [
    "Write what the journal holds into git-annex now (content into the annex, one commit per version) rather than after the usual quiet moment, so that a peer's next sync finds it. Nothing goes over the network."
  ],
  args: [TARGET],
  options: [{ names: ["--dry-run"], text: "print the plan (operations, content to add, commits) and change nothing." }],
  exit: [OK, USAGE, NO_TARGET, FAILED],
  examples: [{ command: "sharebox replay --dry-run ~/Sharebox", text: "show what a replay would do." }]
}

const log: CommandHelp = {
  name: "log",
  synopsis: ["log [--json] [MOUNTPOINT|GITDIR]"],
  summary: "list local changes no peer has yet",
  description: [
    "List the local operations no peer is known to have yet, oldest first: the time, the operation, the path (and where it went, for a rename), the size, and whether it is still in the journal or replayed into a local commit."
  ],
  args: [TARGET],
  options: [JSON_OPTION],
  exit: [OK, USAGE, NO_TARGET, FAILED],
  examples: [{ command: "sharebox log ~/Sharebox", text: "what this host has not shared yet." }]
}

const status: CommandHelp = {
  name: "status",
  synopsis: ["status [--json] [MOUNTPOINT|GITDIR]"],
  summary: "show mount, pending work, sync, conflicts, content, ignored",
  description: [
    "Show whether the gitdir is mounted and where, how much work is pending (in the journal, and replayed but not on any peer yet), the last sync and the peers it reached, the open conflicts, how much of the content is here, what is pinned, and how many paths a .shareboxignore keeps on this host only."
  ],
  args: [TARGET],
  options: [{ names: ["--json"], text: "machine-readable output: one JSON object." }],
  exit: [OK, USAGE, NO_TARGET, FAILED],
  examples: [{ command: "sharebox status ~/Sharebox", text: "" }]
}

const versions: CommandHelp = {
  name: "versions",
  synopsis: ["versions [--json] PATH"],
  summary: "list the versions of a file, also of a deleted one",
  description: [
    "List the versions of a file, also of a deleted one: the version id, its time, the host that wrote it, its size, and whether its content is here. Inside a mount, .sharebox/history/PATH/ holds the same versions as read-only files."
  ],
  args: [{ name: "PATH", text: "a file in a sharebox, through its mount or its gitdir's work tree; it need not exist any more." }],
  options: [JSON_OPTION],
  exit: [OK, USAGE, { code: 66, text: "the path is not in a sharebox, or has no history." }, FAILED],
  examples: [{ command: "sharebox versions ~/Sharebox/report.odt", text: "" }]
}

const restore: CommandHelp = {
  name: "restore",
  synopsis: ["restore PATH [--version ID | --at TIME] [--to OTHERPATH]"],
  summary: "bring back a version of a file",
  description: [
    "Bring back a version of a file (the newest one with content, by default), also of a deleted file. The restore is an ordinary write, which syncs like any other; the version it replaces stays in the history."
  ],
  args: [{ name: "PATH", text: "the file, through a mount or a gitdir's work tree; it need not exist any more." }],
  options: [
    { names: ["--version", "--version-id"], value: "ID", text: "the version with this id (from sharebox versions), or its name in .sharebox/history/PATH/." },
    { names: ["--at"], value: "TIME", text: "the version current at this time, such as 2026-11-24T18:00 or 2h (as for sharebox revert)." },
    { names: ["--to"], value: "OTHERPATH", text: "write it at OTHERPATH, in the same sharebox, instead of PATH." }
  ],
  exit: [
    OK,
    { code: 64, text: "a bad command line, a TIME that is not a time, or --to in another sharebox." },
    { code: 66, text: "no such path, version, or version at that time." },
    { code: 1, text: "the mount is read-only, OTHERPATH is a folder, or another error." }
  ],
  examples: [
    { command: "sharebox restore ~/Sharebox/report.odt --at 2026-11-24T18:00", text: "the report as it was that evening." },
    { command: "sharebox restore report.odt --version 2026-11-24T17-52-10.120Z.3fa9c2d1.odt", text: "the version .sharebox/history/report.odt/ lists under that name." }
  ]
}

const TIME_TEXT =
  "TIME is a date (2026-12-01, its midnight), a date and time (2026-12-01T14:30, 2026-12-01 14:30:05), both in local time unless they end in Z or an offset such as +01:00, or a time ago: now, yesterday, 30min, 2h, 3d, 1w, 2 hours ago. Any name .sharebox/at/ lists is one."

const revert: CommandHelp = {
  name: "revert",
  synopsis: ["revert PATH --at TIME [--dry-run]"],
  summary: "bring a file or a folder back to how it was at a past time",
  description: [
    "Bring PATH (a file, a folder with everything below it, or the whole tree at the mount point) back to how it was at TIME: files created since are removed, deleted ones come back, changed ones get their old content and mode. Changes elsewhere in the tree are kept, and so are changes other hosts make later: the revert is one ordinary change, listed by sharebox log and synced like any other (the old content is not copied; a file whose content is not here is fetched when it is read). Files keep the time of the revert as their mtime.",
    "The state at TIME is the last one this host's branch was in at or before it, as .sharebox/at/TIME/ shows it. " + TIME_TEXT,
    "It prints one line per path it changes: create, write, unlink, mkdir, rmdir, symlink or chmod, and the path."
  ],
  args: [{ name: "PATH", text: "a file or folder, through a mount or a gitdir's work tree; it need not exist any more." }],
  options: [
    { names: ["--at"], value: "TIME", text: "the time to go back to." },
    { names: ["--dry-run"], text: "list what would change, and change nothing." }
  ],
  exit: [
    OK,
    { code: 64, text: "a bad command line, or a TIME that is not a time." },
    { code: 66, text: "the path is not in a sharebox, or nothing was committed at or before TIME." },
    { code: 1, text: "the mount is read-only, a folder above PATH is a file now, or another error." }
  ],
  examples: [
    { command: "sharebox revert ~/Sharebox/thesis --at yesterday --dry-run", text: "what bringing the folder back to yesterday would change." },
    { command: "sharebox revert ~/Sharebox/thesis --at 2026-12-01T14:30", text: "bring it back to that afternoon." },
    { command: "ls ~/Sharebox/.sharebox/at/", text: "the moments the tree changed, oldest first; cd into one to browse the tree as it was." }
  ]
}

const whereis: CommandHelp = {
  name: "whereis",
  synopsis: ["whereis [--json] PATH..."],
  summary: "show which hosts have the content of files",
  description: ["Show, for each file (a folder: each file below it), how many copies of its content exist and on which hosts and remotes, marking this one."],
  args: [PATHS],
  options: [JSON_OPTION],
  exit: [OK, USAGE, NO_PATH, FAILED],
  examples: [{ command: "sharebox whereis ~/Sharebox/photos", text: "" }]
}

const get: CommandHelp = {
  name: "get",
  synopsis: ["get PATH..."],
  summary: "fetch the content of files to this host",
  description: [
    "Fetch the content of files (a folder: everything below it) from the peers that have it, so that they can be read offline.",
    "A mounted gitdir's daemon fetches through the GIT_SSH_COMMAND this command was run with, when it was run with one."
  ],
  args: [PATHS],
  options: [],
  exit: [OK, USAGE, NO_PATH, { code: 1, text: "some content could not be fetched." }],
  examples: [{ command: "sharebox get ~/Sharebox/slides", text: "before a trip." }]
}

const drop: CommandHelp = {
  name: "drop",
  synopsis: ["drop PATH..."],
  summary: "free space: drop content that enough other hosts have",
  description: [
    "Free space here: drop the content of files (a folder: everything below it) that enough other hosts have (the mount's -o copies=N, default 1). The files stay in the tree and are fetched again when read."
  ],
  args: [PATHS],
  options: [],
  exit: [OK, USAGE, NO_PATH, { code: 1, text: "refused for some file, where too few copies would be left." }],
  examples: [{ command: "sharebox drop ~/Sharebox/videos", text: "" }]
}

const pin: CommandHelp = {
  name: "pin",
  synopsis: ["pin PATH..."],
  summary: "keep files and folders on this host",
  description: [
    "Keep files or folders, present and future files below them, on this host: their content is fetched at every sync and never evicted by -o cachesize. Pins are this host's own; each pinned path is printed."
  ],
  args: [PATHS],
  options: [],
  exit: [OK, USAGE, NO_PATH, FAILED],
  examples: [{ command: "sharebox pin ~/Sharebox/papers", text: "" }]
}

const unpin: CommandHelp = {
  name: "unpin",
  synopsis: ["unpin PATH..."],
  summary: "stop keeping files and folders on this host",
  description: ["Undo sharebox pin: the content stays until it is dropped or evicted."],
  args: [PATHS],
  options: [],
  exit: [OK, USAGE, NO_PATH, FAILED],
  examples: [{ command: "sharebox unpin ~/Sharebox/papers", text: "" }]
}

const conflicts: CommandHelp = {
  name: "conflicts",
  synopsis: ["conflicts [--json] [MOUNTPOINT|GITDIR]"],
  summary: "list open conflicts",
  description: [
    "List open conflicts: the file, its conflict copy (NAME.conflict-HOST-ID.EXT, beside it), and both versions' host, time and size. A conflict is two hosts changing the same file before they meet, or another host's version arriving while the file is open for writing here (the save keeps the name); both versions are kept."
  ],
  args: [TARGET],
  options: [JSON_OPTION],
  exit: [OK, USAGE, NO_TARGET, FAILED],
  examples: [{ command: "sharebox conflicts ~/Sharebox", text: "" }]
}

const resolve: CommandHelp = {
  name: "resolve",
  synopsis: ["resolve [--keep winner|copy|both] [PATH]"],
  summary: "resolve conflicts, asking about each or as --keep says",
  description: [
    "Resolve conflicts. Without --keep, walk through them and ask about each one, showing both versions (and a diff, for text files): w keeps this version, c the other one, b both as ordinary files, m opens $SHAREBOX_MERGETOOL (or $MERGETOOL) on both, s skips, q quits. One host's decision reaches every host at its next sync.",
    "Deleting the copy, or moving it over the file, resolves a conflict too."
  ],
  args: [{ name: "PATH", text: "a conflicted file or its copy (default: every open conflict of the mount or gitdir that is the current folder)." }],
  options: [{ names: ["--keep"], value: "winner|copy|both", text: "decide without asking. winner: keep the file and remove the copy; copy: the copy replaces the file; both: keep both as ordinary files." }],
  exit: [
    OK,
    USAGE,
    { code: 66, text: "no open conflict at PATH, or a path not in a sharebox." },
    { code: 73, text: "--keep both, where the name the copy would take exists." },
    { code: 1, text: "some conflict was left open, or another error." }
  ],
  examples: [{ command: "sharebox resolve ~/Sharebox/notes.txt --keep both", text: "" }]
}

const init: CommandHelp = {
  name: "init",
  synopsis: ["init [--name NAME] GITDIR"],
  summary: "make a folder a gitdir, without mounting it",
  description: ["Initialise GITDIR as a git-annex repository for sharebox without mounting it (sharebox mount does this for an empty gitdir). GITDIR may be missing (its parent folder must exist), empty, or a git-annex repository already."],
  args: [{ name: "GITDIR", text: "the folder to initialise." }],
  options: [{ names: ["--name"], value: "NAME", text: "the description of this host its peers see (default: the host name)." }],
  exit: [OK, USAGE, { code: 66, text: "GITDIR cannot be used (not a folder, not empty, no parent folder)." }, FAILED],
  examples: [{ command: "sharebox init --name laptop ~/.sharebox/git", text: "" }]
}

export const PROGRAM: ProgramHelp = {
  name: "sharebox",
  summary: "a distributed FUSE filesystem over git-annex that works offline",
  synopsis: ["COMMAND [OPTION...] [ARGUMENT...]", "MOUNTPOINT -o gitdir=DIR[,OPTION...]", "help [COMMAND]", "--version"],
  description: [
    "sharebox mounts a git-annex repository (the gitdir) as a folder that several hosts share. Every change made through the mount is recorded at once in a local journal and replayed into git-annex after a short quiet moment; sharebox sync fetches the peers (the git remotes of the gitdir), merges and pushes. A file whose content is on another host shows with its real size and is fetched when opened. Two hosts changing the same file before they meet keep both versions: one keeps the name, the other becomes a conflict copy beside it.",
    "Commands that act on a host take its mount point or its gitdir (default: the current folder)."
  ],
  options: [
    { names: ["-h", "--help"], text: "show this help, or a command's (sharebox COMMAND --help, sharebox help COMMAND)." },
    { names: ["--version"], text: "print the version." },
    { names: ["--command"], value: "COMMAND", text: "run COMMAND, as the older form sharebox --command sync MOUNTPOINT does." },
    { names: ["--completions"], value: "bash|fish|sh|zsh", text: "print a completion script for that shell." }
  ],
  commands: [mount, sync, replay, log, status, versions, restore, revert, whereis, get, drop, pin, unpin, conflicts, resolve, init],
  exit: [
    { code: 0, text: "done." },
    { code: 1, text: "an error, said in one line on stderr." },
    { code: 64, text: "a command line it cannot make sense of; or a mount whose daemon is of another sharebox version (restart the mount after an upgrade)." },
    { code: 66, text: "a path, gitdir or mount point that does not exist or cannot be used." },
    { code: 70, text: "the daemon could not put its answer in the form commands read (a bug)." },
    { code: 73, text: "a name sharebox was to create exists." },
    { code: 75, text: "try again later: a peer was unreachable, or the gitdir or mount point is in use." },
    { code: 76, text: "an answer from the daemon the command cannot read." }
  ],
  environment: [
    { name: "SHAREBOX_MERGETOOL, MERGETOOL", text: "the command sharebox resolve runs, with both versions' paths, when asked to merge." },
    { name: "GIT_SSH_COMMAND", text: "how git and git-annex reach ssh peers (else git's core.sshCommand, else ssh). sharebox adds -o BatchMode=yes, ConnectTimeout=10, ServerAliveInterval=5 and ServerAliveCountMax=3, each only where the command sets no value of its own, and has git-annex use the same command (GIT_ANNEX_USE_GIT_SSH=1). A GIT_SSH program without GIT_SSH_COMMAND is used as it is." },
    { name: "NO_COLOR", text: "no escape codes in any output (none are written off a terminal either)." }
  ],
  files: [
    { name: "MOUNTPOINT/.sharebox/", text: "virtual, never synced: history/PATH/ holds a read-only file per version of PATH, at/TIME/ the whole tree as it was at TIME (read-only; ls at/ lists the moments it changed), conflicts the open conflicts, status a short status." },
    { name: "MOUNTPOINT/.shareboxignore, MOUNTPOINT/DIR/.shareboxignore", text: "gitignore rules, synced like any file: the paths they match stay on this host only, in GITDIR/.git/sharebox/local/ (see README, \"Paths kept on this host\")." },
    { name: "GITDIR", text: "a valid git-annex repository; every git annex command keeps working on it." }
  ],
  examples: [
    { command: "sharebox mount ~/Sharebox -o gitdir=~/.sharebox/git", text: "mount, initialising an empty gitdir." },
    { command: "git -C ~/.sharebox/git remote add desktop ssh://desktop/~/.sharebox/git", text: "make another host a peer." },
    { command: "sharebox sync ~/Sharebox", text: "meet the peers." },
    { command: "fusermount -u ~/Sharebox", text: "unmount." }
  ],
  seeAlso: ["git-annex(1)", "fusermount(1)", "mount.fuse(8)", "fstab(5)", "crontab(5)"]
}

/** The page of a command, by name. */
export const pageOf = (name: string): CommandHelp | undefined => PROGRAM.commands.find((c) => c.name === name)
