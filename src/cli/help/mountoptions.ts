/**
 * The values `sharebox mount -o` takes, each with its meaning: what argv.ts parseMountOptions
 * accepts, no more and no less (test/integration/help.test.ts holds the two together).
 */
import type { ValueList } from "./types.js"

export const MOUNT_OPTIONS: ValueList = {
  title: "Mount options",
  intro:
    "-o takes a comma-separated list and may be repeated: -o gitdir=g,getall is -o gitdir=g -o getall. Write a comma inside a value as \\,. Options may come before or after the positional arguments.",
  items: [
    { names: ["gitdir"], value: "DIR", text: "the git-annex repository that stores the files; required unless given as GITDIR before MOUNTPOINT. An empty directory is initialised." },
    { names: ["name"], value: "NAME", text: "the description of this host its peers see (default: the host name)." },
    { names: ["foreground", "debug"], text: "stay attached to the terminal instead of running in the background; the debug log goes to stderr." },
    { names: ["getall"], text: "after every sync, fetch the content of every current file, instead of on first read." },
    { names: ["writeback"], value: "on|off", text: "off (battery mode): changes stay in the journal until sharebox sync or sharebox replay. on is the default." },
    {
      names: ["automerge"],
      value: "on|off",
      text: "on (the default): when two hosts edited the same text file (at most 1 MiB, no NUL byte in its first 8000 bytes) in lines that do not overlap or touch, a sync merges the edits as git merge-file does, instead of making a conflict copy. off: this host's syncs make a conflict copy instead (a peer that merges texts still sends its merged file, taken like any change: set off on every host for conflict copies always). Saved for this gitdir: a sync of it unmounted follows the last mount's setting."
    },
    {
      names: ["passthrough"],
      value: "on|off",
      text: "on (the default): where Linux offers it (6.9 or later, the daemon running as root), the kernel reads a file opened for reading straight from the file underneath. off: the daemon serves every read."
    },
    { names: ["syncinterval"], value: "SECONDS", text: "the daemon syncs on its own every SECONDS (default 0: never)." },
    { names: ["numversions"], value: "N", text: "keep the content of the newest N versions of each file here (default 10; 0: all); older versions stay in the history." },
    { names: ["copies"], value: "N", text: "sharebox drop and cache eviction leave at least N copies elsewhere (default 1)." },
    { names: ["cachesize"], value: "SIZE", text: "when the content here exceeds SIZE (such as 20G or 500M), drop the least recently read unpinned content that has copies elsewhere, after every sync." },
    { names: ["notifycmd"], value: "CMD", text: "run CMD MESSAGE once for each new conflict (default: notify-send, when installed)." },
    { names: ["allow_other"], text: "let other users in, as the modes allow (a user other than root needs user_allow_other in /etc/fuse.conf)." },
    {
      names: ["snapdir"],
      value: "hidden|visible",
      text: "hidden (the default): the mount root's listing does not show .sharebox/, which holds every past version and tree, so find, grep -r, du and backups of the mount do not go through them; it is reached by name (cd MNT/.sharebox). visible: ls -a shows it."
    },
    { names: ["ro", "rw"], text: "ro: read-only; every change in the mount fails with EROFS, and restore, revert and resolve are refused (revert --dry-run is answered), while syncs still bring peers' changes. rw is the default." },
    { names: ["noexec", "exec"], text: "noexec: nothing in the mount runs (EACCES). exec is the default." },
    { names: ["sync", "async"], text: "sync: the kernel writes changes to files and folders through synchronously. async is the default." },
    { names: ["dirsync"], text: "the kernel writes changes to folders through synchronously." },
    {
      names: ["noatime", "relatime", "atime", "strictatime"],
      text: "what reads do to access times: never move them; move them at the first read after a change, then once a day (relatime, the default; atime says the same); move them at every read."
    },
    { names: ["uid", "gid"], value: "N", text: "every file shows this owner or group (default: the user who mounts); the kernel checks access by them." },
    { names: ["umask"], value: "OOO", text: "these permission bits are taken off every mode shown, in octal (umask=077: only the owner gets in; default 000)." },
    { names: ["fsname"], value: "NAME", text: "the source mount, df and findmnt show (default sharebox, or the gitdir when given as GITDIR)." },
    { names: ["subtype"], value: "NAME", text: "the type shows as fuse.NAME (default fuse.sharebox)." },
    { names: ["default_permissions", "nosuid", "nodev"], text: "accepted, and always on: the kernel checks every access against the modes shown, and no file runs with its owner's rights here." },
    { names: ["suid", "dev"], text: "not honoured (the mount stays nosuid,nodev), with one line saying so; mount.fuse adds them to an fstab line that does not say nosuid,nodev." },
    {
      names: ["_netdev", "nofail", "auto", "noauto", "user", "users", "nouser", "owner", "group", "defaults", "x-*", "comment"],
      text: "for mount(8) and systemd, not for sharebox: accepted and dropped."
    }
  ],
  outro: "Any other option, or a bad value (uid=abc, umask=8), is refused in one line and nothing is mounted (exit 64)."
}
