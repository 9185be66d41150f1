/**
 * A long-lived plumbing process (`git cat-file --batch-command`, `git annex ... --batch-keys`) held
 * as a scoped resource through `@effect/platform`'s `Command`: `Command.start` runs inside a Scope
 * made here, its output is drained by fibers forked into that Scope, and `close()` closes the
 * Scope, which ends the process group (SIGTERM, then waits for the exit) if it is still running.
 * The callers are Promise-based classes, so this is the one place that bridges the two.
 *
 * Output is handed on chunk by chunk; a handler that returns a promise holds the next chunk back
 * until it settles (a blob streamed to a file waits for the disk, not for memory). `exited` is
 * called once, after both outputs are drained, with the exit code (null: killed by a signal).
 */
import { spawn } from "node:child_process"
import * as Command from "@effect/platform/Command"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

export interface LongLivedOptions {
  readonly env: NodeJS.ProcessEnv
  readonly stdout: (chunk: Buffer) => void | Promise<void>
  readonly stderr: (chunk: Buffer) => void
  /** once, after the outputs are drained: the exit code, or null and why (signal, spawn error) */
  readonly exited: (code: number | null, why: string | undefined) => void
}

export interface LongLived {
  write(data: string | Uint8Array): void
  /** Ends its input: the process finishes what it was asked and exits. */
  end(): void
  /** SIGKILL to its process group (what it started goes with it). */
  kill(): void
  /** Closes the scope: a process still running is ended and waited for. */
  close(): Promise<void>
}

const executor = NodeCommandExecutor.layer.pipe(Layer.provide(NodeFileSystem.layer))

const encoder = new TextEncoder()

export const startLongLived = (command: string, args: ReadonlyArray<string>, opts: LongLivedOptions): LongLived => {
  const scope = Effect.runSync(Scope.make())
  // null ends the input; kept in order with the writes before it
  const input = Effect.runSync(Queue.unbounded<Uint8Array | null>())
  let pid: number | undefined
  let killed = false
  let closing: Promise<void> | undefined
  const killGroup = () => {
    if (pid === undefined) return
    try {
      process.kill(-pid, "SIGKILL")
    } catch {}
  }
  const cmd = Command.make(command, ...args).pipe(Command.env(opts.env as Record<string, string | undefined>, { extendEnv: false }))
  const program = Effect.gen(function* () {
    const proc = yield* Command.start(cmd)
    pid = proc.pid
    if (killed) killGroup()
    yield* Stream.fromQueue(input).pipe(
      Stream.takeWhile((d): d is Uint8Array => d !== null),
      Stream.run(proc.stdin),
      Effect.ignore,
      Effect.forkScoped
    )
    const out = Stream.runForEach(proc.stdout, (c) => {
      const r = opts.stdout(Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength))
      return r ? Effect.promise(() => r) : Effect.void
    })
    const err = Stream.runForEach(proc.stderr, (c) => Effect.sync(() => opts.stderr(Buffer.from(c))))
    const code = yield* Effect.all([out, err], { concurrency: 2, discard: true }).pipe(
      Effect.zipRight(proc.exitCode),
      Effect.map((c): number | null => c),
      Effect.orElseSucceed(() => null)
    )
    opts.exited(code, code === null ? "killed by a signal" : undefined)
  }).pipe(
    Effect.catchAllCause((cause) => Effect.sync(() => opts.exited(null, String(cause)))),
    Effect.provide(executor),
    Scope.extend(scope)
  )
  Effect.runFork(program)
  return {
    write: (data) => void Queue.unsafeOffer(input, typeof data === "string" ? encoder.encode(data) : data),
    end: () => void Queue.unsafeOffer(input, null),
    kill: () => {
      killed = true
      killGroup()
    },
    close: () => (closing ??= Effect.runPromise(Scope.close(scope, Exit.void)))
  }
}

/**
 * The same with node's `spawn` by hand, for a process asked one short question at a time, where
 * Command's queue and stream cost more than the answer (the measurement is in catfile.ts).
 */
export const spawnLongLived = (command: string, args: ReadonlyArray<string>, opts: LongLivedOptions): LongLived => {
  const child = spawn(command, args as Array<string>, { stdio: ["pipe", "pipe", "pipe"], env: opts.env, detached: true })
  let done = false
  const exitedOnce = (code: number | null, why: string | undefined) => {
    if (done) return
    done = true
    opts.exited(code, why)
  }
  child.stdout.on("data", (d: Buffer) => {
    const r = opts.stdout(d)
    if (r) {
      child.stdout.pause()
      void r.finally(() => child.stdout.resume())
    }
  })
  child.stderr.on("data", (d: Buffer) => opts.stderr(d))
  child.stdin.on("error", () => {})
  child.on("error", (e) => exitedOnce(null, e.message))
  child.on("close", (code) => exitedOnce(code, code === null ? "killed by a signal" : undefined))
  const kill = () => {
    try {
      process.kill(-child.pid!, "SIGKILL")
    } catch {}
  }
  return {
    write: (data) => void child.stdin.write(data),
    end: () => void child.stdin.end(),
    kill,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const closed = new Promise((r) => child.once("close", r))
      try {
        process.kill(-child.pid!, "SIGTERM")
      } catch {}
      await closed
    }
  }
}
