/** `sharebox mount` and `sharebox init`: a gitdir made ready and mounted. */
import { Args, Command, Options } from "@effect/cli"
import { Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { mount, prepareGitdir } from "../mount.js"
import { lift } from "./common.js"

export const mountCmd = Command.make(
  "mount",
  {
    mountpoint: Args.text({ name: "MOUNTPOINT" }).pipe(Args.withDescription("an empty directory to mount on")),
    o: Options.text("o").pipe(
      Options.repeated,
      Options.withDescription(
        "mount options, repeated or comma-separated: gitdir=DIR (required, unless given as GITDIR before MOUNTPOINT; initialised when empty), " +
          "name=NAME (this host's description, default the host name), foreground (stay attached, debug log on stderr), " +
          "getall (fetch all content after every sync), writeback=on|off (off: changes stay in the journal until sync), " +
          "passthrough=on|off (on, the default: the kernel reads open files itself where it can), " +
          "syncinterval=SECONDS (sync on its own), numversions=N, copies=N, cachesize=SIZE, notifycmd=CMD, " +
          "allow_other (other users get what the modes allow), ro (read-only; syncs still bring peers' changes), " +
          "noexec, sync, dirsync (mount flags; exec, async undo them), noatime, relatime (the default), strictatime (what reads do to atimes; atime means relatime), " +
          "uid=N, gid=N (the owner every file shows), umask=OOO (mode bits no file shows), " +
          "fsname=NAME, subtype=NAME (the source and type fuse.NAME the mount table shows). " +
          "Always on: default_permissions (the kernel checks the modes), nosuid, nodev; suid and dev are not honoured. " +
          "Accepted and dropped, for mount(8) and systemd: _netdev, nofail, auto, noauto, user, users, nouser, owner, group, defaults, x-*, comment="
      )
    )
  },
  ({ mountpoint, o }) => lift(() => mount(mountpoint, o))
).pipe(
  Command.withDescription(
    "Mount a gitdir on MOUNTPOINT and return once the mount is usable (the daemon stays in the background). " +
      "Unmount with: fusermount -u MOUNTPOINT. Also callable as: sharebox MOUNTPOINT -o gitdir=DIR, and as " +
      "sharebox GITDIR MOUNTPOINT -o OPTIONS (how mount.fuse runs it for an fstab line of type fuse.sharebox). " +
      "Example: sharebox mount ~/Sharebox -o gitdir=~/.sharebox/git,name=laptop. " +
      "Exit codes: 0 mounted, 64 bad option, 66 bad gitdir or mountpoint, 75 already mounted or in use, 1 other error."
  )
)

export const initCmd = Command.make(
  "init",
  { gitdir: Args.text({ name: "GITDIR" }), name: Options.text("name").pipe(Options.optional) },
  ({ gitdir, name }) =>
    lift(async () => {
      const dir = path.resolve(gitdir)
      await prepareGitdir(dir, Option.getOrElse(name, () => os.hostname()))
    })
).pipe(Command.withDescription("Initialise GITDIR as a git-annex repository for sharebox (done by mount when it is empty)."))
