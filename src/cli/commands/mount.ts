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
    mountpoint: Args.text({ name: "MOUNTPOINT" }),
    o: Options.text("o").pipe(Options.repeated)
  },
  ({ mountpoint, o }) => lift(() => mount(mountpoint, o))
)

export const initCmd = Command.make(
  "init",
  { gitdir: Args.text({ name: "GITDIR" }), name: Options.text("name").pipe(Options.optional) },
  ({ gitdir, name }) =>
    lift(async () => {
      const dir = path.resolve(gitdir)
      await prepareGitdir(dir, Option.getOrElse(name, () => os.hostname()))
    })
)
