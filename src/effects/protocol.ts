/**
 * The control socket's protocol, as Schemas: the requests a command sends the daemon, and for each
 * the schema of its result (results.ts). Both ends check what crosses the socket: the daemon
 * refuses a request it does not know with one line, and a command refuses an answer it would
 * misread.
 *
 * One JSON value per line. A request is `{v, _tag, ...fields}`; the answer is lines `{out}` for
 * the person, then a last `{done, v, result}` or `{done, v, error}`, `done` being the exit code.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { ConflictInfo, Lines, LogEntry, Ping, ReplaySummary, Restored, Status, SyncReport, VersionInfo, Whereis } from "./results.js"

/**
 * Raised whenever a request or an answer changes shape, so that a command and a daemon of different
 * sharebox versions say so instead of misreading each other. 1 was `{cmd, args}`, unversioned.
 */
export const PROTOCOL = 3

/** Exit code of a refused request or answer (sysexits EX_USAGE, as for a bad command line). */
export const REFUSED = 64

const Paths = { paths: Schema.Array(Schema.String) }
/** `ssh`: the GIT_SSH_COMMAND the command was run with, for the talks with peers this request makes */
const PeerPaths = { ...Paths, ssh: Schema.optional(Schema.String) }

// one message, not one per literal it is not
export const Keep = Schema.Literal("winner", "copy", "both").annotations({ message: () => ({ message: "must be winner, copy or both", override: true }) })
export type Keep = typeof Keep.Type

export const Request = Schema.Union(
  Schema.TaggedStruct("ping", {}),
  /** `ssh`: the GIT_SSH_COMMAND `sharebox sync` was run with, for this sync's talks with peers */
  Schema.TaggedStruct("sync", { ssh: Schema.optional(Schema.String) }),
  Schema.TaggedStruct("replay", { dryRun: Schema.Boolean }),
  Schema.TaggedStruct("status", {}),
  Schema.TaggedStruct("log", {}),
  Schema.TaggedStruct("whereis", Paths),
  Schema.TaggedStruct("get", PeerPaths),
  Schema.TaggedStruct("drop", PeerPaths),
  Schema.TaggedStruct("pin", Paths),
  Schema.TaggedStruct("unpin", Paths),
  Schema.TaggedStruct("versions", { path: Schema.String }),
  Schema.TaggedStruct("restore", {
    path: Schema.String,
    /** a version id (prefix), else the newest at or before `at`, else the newest */
    version: Schema.optional(Schema.String),
    at: Schema.optional(Schema.String),
    to: Schema.String
  }),
  /** `at`: a time parseTime reads (the command sends the instant it resolved, in UTC); dryRun: only list */
  Schema.TaggedStruct("revert", { path: Schema.String, at: Schema.String, dryRun: Schema.Boolean }),
  Schema.TaggedStruct("conflicts", {}),
  /** without a path: every open conflict */
  Schema.TaggedStruct("resolve", { path: Schema.optional(Schema.String), keep: Keep })
)
export type Request = typeof Request.Type
export type Tag = Request["_tag"]
export type RequestOf<T extends Tag> = Extract<Request, { readonly _tag: T }>

const resultSchemas = {
  ping: Ping,
  sync: SyncReport,
  replay: ReplaySummary,
  status: Status,
  log: Schema.Array(LogEntry),
  whereis: Schema.Array(Whereis),
  get: Schema.Void,
  drop: Schema.Void,
  pin: Lines,
  unpin: Lines,
  versions: Schema.Array(VersionInfo),
  restore: Restored,
  revert: Lines,
  conflicts: Schema.Array(ConflictInfo),
  resolve: Lines
} satisfies { readonly [T in Tag]: Schema.Schema.AnyNoContext }

export type ResultOf<T extends Tag> = Schema.Schema.Type<(typeof resultSchemas)[T]>

/** Written as a mapped type so that `Results[tag]` keeps the type of its own tag's result. */
const Results: { readonly [T in Tag]: Schema.Schema<ResultOf<T>, Schema.Schema.Encoded<(typeof resultSchemas)[T]>> } = resultSchemas

// ---------------------------------------------------------------- on the wire

const Answer = Schema.parseJson(
  Schema.Union(
    Schema.Struct({ out: Schema.String }),
    // a failure first: a success may carry no result (get, drop)
    Schema.Struct({ done: Schema.Int, v: Schema.optional(Schema.Unknown), error: Schema.String }),
    Schema.Struct({ done: Schema.Int, v: Schema.optional(Schema.Unknown), result: Schema.optional(Schema.Unknown) })
  )
)

/** Exit code of an answer that is not one this sharebox reads (sysexits EX_PROTOCOL). */
const UNREADABLE = 76

/** Exit code of a result the daemon could not put in its schema: a bug (sysexits EX_SOFTWARE). */
const UNFIT = 70

/** A value from the other end, shown short and on one line. */
const shown = (v: unknown): string => {
  const s = typeof v === "string" ? JSON.stringify(v) : String(JSON.stringify(v) ?? v)
  return s.length > 60 ? `${s.slice(0, 60)}...` : s
}

const issues = (e: ParseResult.ParseError): string => {
  const lines = ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
  const text = [...new Set(lines)].join("; ").replace(/\s+/g, " ")
  return text.length > 300 ? `${text.slice(0, 300)}...` : text
}

const mismatch = (daemon: unknown, command: unknown): string =>
  `the daemon speaks protocol ${shown(daemon)}; this sharebox speaks ${shown(command)}: restart the mount`

const TAGS = Object.keys(resultSchemas)

/** The line a command sends. */
export const requestLine = (req: Request): string => JSON.stringify({ v: PROTOCOL, ...Schema.encodeSync(Request)(req) }) + "\n"

/** Why a request is refused, in one line. */
export interface Refusal {
  readonly message: string
  /** sent by a sharebox of protocol 1, which shows output lines and exit codes but misreads errors */
  readonly legacy: boolean
}

const refused = (message: string, legacy = false): Either.Either<never, Refusal> => Either.left({ message, legacy })

/** The request a line from the socket holds, or why it is refused. */
export const parseRequest = (line: string): Either.Either<Request, Refusal> => {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return refused("not a request: not JSON")
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return refused(`not a request: ${shown(json)} is not a JSON object`)
  // protocol 1 had no version
  const v = "v" in json ? json.v : 1
  if (v !== PROTOCOL) return refused(mismatch(PROTOCOL, v), !("v" in json))
  const tag = "_tag" in json ? json._tag : undefined
  if (typeof tag !== "string" || !TAGS.includes(tag)) {
    return refused(`${tag === undefined ? "a request without _tag" : `unknown request ${shown(tag)}`} (known: ${TAGS.join(", ")})`)
  }
  return Either.mapLeft(Schema.decodeUnknownEither(Request)(json), (e) => ({ message: `bad ${tag} request: ${issues(e)}`, legacy: false }))
}

const outputLine = (out: string): string => JSON.stringify({ out }) + "\n"

const failureLine = (code: number, error: string): string => JSON.stringify({ done: code, v: PROTOCOL, error }) + "\n"

const doneLine = <T extends Tag>(tag: T, o: Outcome<ResultOf<T>>): string => {
  if ("error" in o) return failureLine(o.code, o.error)
  const encoded = Schema.encodeEither(Results[tag])(o.result)
  if (Either.isLeft(encoded)) return failureLine(UNFIT, `the daemon's ${tag} result does not fit protocol ${PROTOCOL}: ${issues(encoded.left)}`)
  return JSON.stringify({ done: o.code, v: PROTOCOL, result: encoded.right }) + "\n"
}

/** Serves one decoded request (handlers.ts `dispatch` over the daemon's table). */
export type Serve = <T extends Tag>(req: RequestOf<T>, out: (line: string) => void) => Promise<Outcome<ResultOf<T>>>

/** Answers a request line with `serve`: its output, then how it ended. */
export const answer = async (serve: Serve, line: string, send: (line: string) => void): Promise<void> => {
  const parsed = parseRequest(line)
  if (Either.isLeft(parsed)) {
    const { message, legacy } = parsed.left
    return send(legacy ? outputLine(message) + JSON.stringify({ done: REFUSED }) + "\n" : failureLine(REFUSED, message))
  }
  const req = parsed.right
  try {
    send(doneLine(req._tag, await serve(req, (out) => send(outputLine(out)))))
  } catch (e: any) {
    send(failureLine(typeof e?.exitCode === "number" ? e.exitCode : 1, String(e?.message ?? e)))
  }
}

/**
 * An answer line to a request of tag `tag`: output, or how the request ended. An answer this
 * sharebox would misread (another protocol, a result that is not the request's) ends it too.
 */
export const parseAnswer = <T extends Tag>(tag: T, line: string): { readonly out: string } | Outcome<ResultOf<T>> => {
  const a = Schema.decodeUnknownEither(Answer)(line)
  if (Either.isLeft(a)) return { code: UNREADABLE, error: `the daemon's answer to ${tag} is not one this sharebox reads: ${issues(a.left)}` }
  const answer = a.right
  if ("out" in answer) return answer
  // protocol 1 had no version: its daemon refuses every request of this one as unknown
  const v = answer.v ?? 1
  if (v !== PROTOCOL) return { code: REFUSED, error: mismatch(v, PROTOCOL) }
  if ("error" in answer) return { code: answer.done, error: answer.error }
  const result = Schema.decodeUnknownEither(Results[tag])(answer.result)
  if (Either.isLeft(result)) return { code: UNREADABLE, error: `the daemon's ${tag} result is not one this sharebox reads: ${issues(result.left)}` }
  return { code: answer.done, result: result.right }
}

/** How a request ended: its exit code, and its result or why it failed. */
export type Outcome<A> = { readonly code: number; readonly result: A } | { readonly code: number; readonly error: string }

/** One function per request, each taking its own request and answering its own result. */
export type Handlers<T extends Tag = Tag> = {
  readonly [K in T]: (req: RequestOf<K>, out: (line: string) => void) => Promise<Outcome<ResultOf<K>>>
}
