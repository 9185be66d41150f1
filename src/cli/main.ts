/**
 * The `sharebox` command: the tree of subcommands (each defined in commands/, by concern), and how
 * the parser's output and errors reach the terminal.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext" // not the barrel: it loads an HTTP client too
import { Console, Effect } from "effect"
import { exitCodeOf, userMessage } from "../effects/errors.js"
import { VERSION, normaliseArgv } from "./argv.js"
import { dropCmd, getCmd, pinCmd, whereisCmd } from "./commands/content.js"
import { conflictsCmd, resolveCmd, restoreCmd, versionsCmd } from "./commands/history.js"
import { initCmd, mountCmd } from "./commands/mount.js"
import { logCmd, replayCmd, statusCmd, syncCmd } from "./commands/sync.js"
import { setExit } from "./output.js"

const root = Command.make("sharebox").pipe(
  Command.withDescription("A distributed FUSE filesystem over git-annex that works offline."),
  Command.withSubcommands([
    mountCmd,
    syncCmd,
    replayCmd,
    logCmd,
    statusCmd,
    versionsCmd,
    restoreCmd,
    whereisCmd,
    getCmd,
    dropCmd,
    pinCmd(true),
    pinCmd(false),
    conflictsCmd,
    resolveCmd,
    initCmd
  ])
)

const cli = Command.run(root, { name: "sharebox", version: VERSION })

/** Help and messages without colour when NO_COLOR is set or output is not a terminal. */
const plainOutput = () => {
  if (!process.env.NO_COLOR && process.stdout.isTTY) return
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: any, ...rest: Array<any>) =>
    write(typeof chunk === "string" ? chunk.replace(/\x1b\[[0-9;]*m/g, "") : chunk, ...rest)) as typeof process.stdout.write
}

/** The parser explains a bad command line through Console.error; make that one line, like every other error. */
const oneLineErrors = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((c) =>
    Console.withConsole(self, {
      ...c,
      error: (...args: ReadonlyArray<any>) =>
        Effect.sync(() => {
          const text = args
            .map(String)
            .join(" ")
            .replace(/\x1b\[[0-9;]*m/g, "")
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
            .join(" ")
          if (text) process.stderr.write(`sharebox: ${text}\n`)
        })
    })
  )

const main = async () => {
  const argv = process.argv.slice(2)
  plainOutput()
  const program = cli(["node", "sharebox", ...normaliseArgv(argv)]).pipe(
    oneLineErrors,
    Effect.provide(NodeContext.layer),
    Effect.catchAll((e) =>
      Effect.sync(() => {
        if (ValidationError.isValidationError(e)) return setExit(64) // already explained by the parser
        process.stderr.write(`sharebox: ${userMessage(e)}\n`)
        setExit(exitCodeOf(e))
      })
    )
  )
  await Effect.runPromise(program)
}

main().catch((e) => {
  process.stderr.write(`sharebox: ${userMessage(e)}\n`)
  process.exitCode = 1
})
