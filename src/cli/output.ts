/**
 * What a command prints: results on stdout, one line each; work, warnings and errors on stderr;
 * and its exit code, which only rises. Names, descriptions and reasons may come from peers, so
 * text output is escaped (JSON output is escaped by JSON itself).
 */
import { printable } from "../domain/printable.js"
import { makeProgressRenderer } from "./progress.js"

/** Exit codes (sysexits): 0 ok, 64 usage, 66 no input, 75 temporary failure (a peer unreachable), 1 other. */
export const setExit = (code: number) => {
  if (code > (process.exitCode as number | undefined ?? 0)) process.exitCode = code
}

/** One line of text output, whatever could act on a terminal shown escaped. */
export const out = (line: string): void => void process.stdout.write(`${printable(line)}\n`)

const progress = makeProgressRenderer()

/** Output lines of work: progress values rendered on a terminal (dropped elsewhere), the rest printed. */
export const say = (line: string) => {
  if (!progress.take(line)) process.stderr.write(`sharebox: ${printable(line)}\n`)
}

/** Each item as one JSON object a line with --json, else as `text` prints it. */
export const printEach = <A>(items: Iterable<A>, json: boolean, text: (item: A) => void): void => {
  for (const item of items) {
    if (json) process.stdout.write(JSON.stringify(item) + "\n")
    else text(item)
  }
}
