/**
 * The tree of `sharebox` commands the parser knows, each described by its help page's one line
 * (help/pages.ts; the parser's own help is never shown, but shell completions show these).
 */
import { Command } from "@effect/cli"
import { PROGRAM, pageOf } from "../help/pages.js"
import { dropCmd, getCmd, pinCmd, whereisCmd } from "./content.js"
import { conflictsCmd, resolveCmd, restoreCmd, revertCmd, versionsCmd } from "./history.js"
import { initCmd, mountCmd } from "./mount.js"
import { logCmd, replayCmd, statusCmd, syncCmd } from "./sync.js"

const described = <Name extends string, R, E, A>(cmd: Command.Command<Name, R, E, A>): Command.Command<Name, R, E, A> =>
  Command.withDescription(cmd, pageOf([...Command.getNames(cmd)][0] ?? "")?.summary ?? "")

/** The commands, in the order of the help's list. */
export const subcommands = [
  described(mountCmd),
  described(syncCmd),
  described(replayCmd),
  described(logCmd),
  described(statusCmd),
  described(versionsCmd),
  described(restoreCmd),
  described(revertCmd),
  described(whereisCmd),
  described(getCmd),
  described(dropCmd),
  described(pinCmd(true)),
  described(pinCmd(false)),
  described(conflictsCmd),
  described(resolveCmd),
  described(initCmd)
] as const

export const root = Command.make("sharebox").pipe(Command.withDescription(PROGRAM.summary), Command.withSubcommands(subcommands))
