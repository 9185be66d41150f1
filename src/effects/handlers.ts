/**
 * What serves requests: one function per request, in one table whose type the compiler checks
 * against the protocol (each handler takes its own request and answers its own result). Apart from
 * protocol.ts, whose Schemas take some 80 ms to load, so that a daemon starts without them.
 */
import type { RequestOf, ResultOf, Tag } from "./protocol.js"

/** How a request ended: its exit code, and its result or why it failed. */
export type Outcome<A> = { readonly code: number; readonly result: A } | { readonly code: number; readonly error: string }

export type Handlers<T extends Tag = Tag> = {
  readonly [K in T]: (req: RequestOf<K>, out: (line: string) => void) => Promise<Outcome<ResultOf<K>>>
}

export const dispatch = <T extends Tag>(handlers: Handlers<T>, req: RequestOf<T>, out: (line: string) => void): Promise<Outcome<ResultOf<T>>> =>
  handlers[req._tag](req, out)
