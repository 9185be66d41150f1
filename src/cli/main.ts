/**
 * The `sharebox` command line through the parser (the tree of commands is commands/tree.ts), and
 * how its output and errors reach the terminal.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext" // not the barrel: it loads an HTTP client too
import { Console, Effect } from "effect"
import { exitCodeOf, userMessage } from "../effects/errors.js"
import { VERSION, normaliseArgv } from "./argv.js"
import { root } from "./commands/tree.js"
import { setExit } from "./output.js"

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
