/**
 * What serves requests: one function per request, in one table whose type the compiler checks
 * against the protocol (each handler takes its own request and answers its own result). Apart from
 * protocol.ts, whose Schemas take some 80 ms to load, so that a daemon starts without them.
 */
import type { Handlers, Outcome, RequestOf, ResultOf, Tag } from "./protocol.js"

export type { Handlers, Outcome }

export const dispatch = <T extends Tag>(handlers: Handlers<T>, req: RequestOf<T>, out: (line: string) => void): Promise<Outcome<ResultOf<T>>> =>
  handlers[req._tag](req, out)
