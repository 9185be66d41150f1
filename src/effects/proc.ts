/**
 * Child processes: arguments as arrays, never a shell. A non-zero exit is a value (`code`) for
 * `run`, and a `CommandFailed` for `check`.
 */
import { spawn } from "node:child_process"
import { CommandFailed, CommandTimedOut } from "./errors.js"

export interface RunOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  readonly input?: string | Buffer
  /** kill the process (and fail with CommandTimedOut) after this many seconds */
  readonly timeoutSeconds?: number
  /** kill the process group when this aborts (the host is closing): it ends as killed, code null */
  readonly signal?: AbortSignal
}

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const run = (command: string, args: ReadonlyArray<string>, opts: RunOptions = {}): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args as Array<string>, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: opts.timeoutSeconds !== undefined || opts.signal !== undefined
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    let timedOut = false
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        child.kill("SIGKILL")
      }
    }
    const timer =
      opts.timeoutSeconds !== undefined
        ? setTimeout(() => {
            timedOut = true
            killGroup()
          }, opts.timeoutSeconds * 1000)
        : undefined
    const signal = opts.signal
    if (signal?.aborted) killGroup()
    else signal?.addEventListener("abort", killGroup, { once: true })
    child.stdout.on("data", (d: Buffer) => out.push(d))
    child.stderr.on("data", (d: Buffer) => err.push(d))
    child.on("error", (e) => {
      if (timer) clearTimeout(timer)
      signal?.removeEventListener("abort", killGroup)
      reject(new CommandFailed({ command, args, exitCode: null, stderr: e.message }))
    })
    child.on("close", (code) => {
      if (timer) clearTimeout(timer)
      signal?.removeEventListener("abort", killGroup)
      if (timedOut) return reject(new CommandTimedOut({ command, args, seconds: opts.timeoutSeconds! }))
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") })
    })
    child.stdin.on("error", () => {})
    child.stdin.end(opts.input ?? "")
  })

/** The stdout of a finished run, or a CommandFailed for its non-zero exit. */
export const stdoutOf = (command: string, args: ReadonlyArray<string>, r: RunResult): string => {
  if (r.code !== 0) throw new CommandFailed({ command, args, exitCode: r.code, stderr: r.stderr || r.stdout })
  return r.stdout
}

/** Runs and fails with CommandFailed on a non-zero exit; returns stdout. */
export const check = async (command: string, args: ReadonlyArray<string>, opts: RunOptions = {}): Promise<string> =>
  stdoutOf(command, args, await run(command, args, opts))
