/**
 * Arguments and options several commands share, and how a command's work becomes an Effect. What
 * each means is said in help/pages.ts, for the help and the man page alike.
 */
import { Args, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { resolveGitdir } from "../target.js"

export const target = Args.text({ name: "MOUNTPOINT|GITDIR" }).pipe(Args.optional)
export const json = Options.boolean("json")
export const verbose = Options.boolean("verbose").pipe(Options.withAlias("v"))
export const paths = Args.text({ name: "PATH" }).pipe(Args.repeated)

export const lift = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (e) => e })

/** The gitdir of a command's MOUNTPOINT|GITDIR argument (the current directory when it has none). */
export const gitdirOf = (target: Option.Option<string>): Promise<string> => resolveGitdir(Option.getOrUndefined(target))

/** The GIT_SSH_COMMAND this command was run with, for the daemon's talks with peers on its behalf. */
export const sshOf = (env: NodeJS.ProcessEnv = process.env): { ssh?: string } => (env.GIT_SSH_COMMAND !== undefined ? { ssh: env.GIT_SSH_COMMAND } : {})
