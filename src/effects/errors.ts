/**
 * Errors of the effect shell. Each carries what a person needs to act on it; `userMessage` turns
 * any of them into the one line the CLI prints. `src/fuse/errno.ts` maps them to errnos.
 */
import * as Data from "effect/Data" // the barrel "effect" loads every module (0.7 s at start-up)

export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly exitCode: number | null
  readonly stderr: string
}> {
  get message(): string {
    const first = this.stderr.trim().split("\n").filter(Boolean).pop() ?? `exit code ${this.exitCode}`
    return `${this.command} ${this.args.slice(0, 2).join(" ")} failed: ${first}`
  }
}

export class CommandTimedOut extends Data.TaggedError("CommandTimedOut")<{
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly seconds: number
}> {
  get message(): string {
    return `${this.command} ${this.args.slice(0, 2).join(" ")} gave no answer in ${this.seconds}s`
  }
}

/** A problem with what the user asked for: printed as is, exit code `exitCode`. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string; readonly exitCode?: number }> {}

export class NotFound extends Data.TaggedError("NotFound")<{ readonly path: string }> {}

export class JournalCorrupt extends Data.TaggedError("JournalCorrupt")<{ readonly file: string; readonly line: number }> {
  get message(): string {
    return `journal ${this.file} is damaged at line ${this.line}; it was left untouched (move it aside to start a new one)`
  }
}

/**
 * An append failed part way and the part could not be cut off: until it can be, no record is
 * appended, since one written after the part would share its line and be lost with it.
 */
export class JournalUnwritable extends Data.TaggedError("JournalUnwritable")<{ readonly file: string; readonly reason: string }> {
  get message(): string {
    return `journal ${this.file} may end in part of a record that could not be cut off (${this.reason}); changes are refused until it can be`
  }
}

export class Busy extends Data.TaggedError("Busy")<{ readonly gitdir: string; readonly pid: number }> {
  get message(): string {
    return `${this.gitdir} is in use by ${this.pid ? `sharebox process ${this.pid}` : "another sharebox process"}`
  }
}

export class ContentUnavailable extends Data.TaggedError("ContentUnavailable")<{
  readonly path: string
  readonly key: string
  readonly reason: string
}> {
  get message(): string {
    return `content of ${this.path} is not available: ${this.reason}`
  }
}

/** The exit code of a command that failed with `e`: a usage error's own (64 by default), else 1. */
export const exitCodeOf = (e: unknown): number => (e instanceof UsageError ? (e.exitCode ?? 64) : 1)

/** The one line a user sees for any error. */
export const userMessage = (e: unknown): string => {
  if (e instanceof Error) return e.message || e.name
  if (e && typeof e === "object" && "message" in e) return String((e as { message: unknown }).message)
  return String(e)
}
