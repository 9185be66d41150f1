/** Arguments and options several commands share, and how a command's work becomes an Effect. */
import { Args, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { resolveGitdir } from "../target.js"

export const target = Args.text({ name: "MOUNTPOINT|GITDIR" }).pipe(
  Args.withDescription("a sharebox mountpoint, or a gitdir (default: the current directory)"),
  Args.optional
)
export const json = Options.boolean("json").pipe(Options.withDescription("machine-readable output, one JSON object per line"))
export const verbose = Options.boolean("verbose").pipe(Options.withAlias("v"), Options.withDescription("say more"))
export const paths = Args.text({ name: "PATH" }).pipe(Args.withDescription("files or directories in a mount or a gitdir"), Args.repeated)

export const lift = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (e) => e })

/** The gitdir of a command's MOUNTPOINT|GITDIR argument (the current directory when it has none). */
export const gitdirOf = (target: Option.Option<string>): Promise<string> => resolveGitdir(Option.getOrUndefined(target))
