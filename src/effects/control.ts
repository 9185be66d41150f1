/**
 * The daemon's control channel: a unix socket (0600) named in the gitdir's state folder. One JSON
 * request per connection; the answer is JSON lines of output and a last line with the exit code
 * (protocol.ts says what each holds).
 */
import { promises as fs } from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { UsageError } from "./errors.js"
import { layoutOf } from "./layout.js"
import { type Handlers, type Outcome, dispatch } from "./handlers.js"
import type { Request, ResultOf } from "./protocol.js"

export const socketPathOf = async (gitdir: string): Promise<string | undefined> => {
  try {
    return (await fs.readFile(layoutOf(gitdir).socketRef, "utf8")).trim() || undefined
  } catch {
    return undefined
  }
}

/**
 * What is wrong with the folder of a socket outside the gitdir's state folder (the shared
 * `$TMPDIR/sharebox-UID`, for gitdirs whose own socket path is too long), or undefined. Whoever can
 * create or write that folder can put their own socket in ours' place and answer the command line
 * (another user who made the folder first owns it, even after we chmod it). The state folder is
 * trusted as the gitdir is.
 */
const socketFolderProblem = async (gitdir: string, sock: string): Promise<string | undefined> => {
  const dir = path.dirname(sock)
  if (dir === layoutOf(gitdir).state) return undefined
  const st = await fs.lstat(dir).catch(() => undefined)
  const uid = process.getuid?.() ?? 0
  // none: no daemon listens there (one that crashed may have named it)
  const problem = !st
    ? undefined
    : st.isSymbolicLink()
      ? "is a symbolic link"
      : !st.isDirectory()
        ? "is not a directory"
        : st.uid !== uid
          ? `belongs to uid ${st.uid}, not to this user (uid ${uid})`
          : st.mode & 0o077
            ? `has mode ${(st.mode & 0o777).toString(8)}, so other users may replace the socket in it`
            : undefined
  return problem && `socket folder ${dir} ${problem}; it must be a folder of this user's with mode 0700 (remove it, and sharebox makes it so)`
}

export const checkSocketFolder = async (gitdir: string, sock: string): Promise<void> => {
  const problem = await socketFolderProblem(gitdir, sock)
  if (problem) throw new UsageError({ message: problem, exitCode: 1 })
}

/** Makes the socket's folder (private) when it is missing; refuses one others could tamper with. */
export const prepareSocketFolder = async (gitdir: string): Promise<void> => {
  const sock = layoutOf(gitdir).preferredSocket
  await fs.mkdir(path.dirname(sock), { recursive: true, mode: 0o700 })
  await checkSocketFolder(gitdir, sock)
}

/** A served control socket: `close` stops taking requests, `drained` waits (up to `ms`) for the answers in flight. */
export interface Served {
  close(): Promise<void>
  drained(ms: number): Promise<void>
}

export const serve = async (gitdir: string, handlers: Handlers): Promise<Served> => {
  const layout = layoutOf(gitdir)
  const sock = layout.preferredSocket
  await prepareSocketFolder(gitdir)
  await fs.rm(sock, { force: true })
  const server = net.createServer((conn) => {
    let buf = ""
    conn.on("error", () => {})
    conn.on("data", (d) => {
      buf += d.toString("utf8")
      const nl = buf.indexOf("\n")
      if (nl < 0) return
      const line = buf.slice(0, nl)
      buf = ""
      const send = (line: string) => {
        if (!conn.destroyed) conn.write(line)
      }
      // the protocol's Schemas are loaded at the first request, not while the daemon starts
      import("./protocol.js")
        .then(({ answer }) => answer((req, out) => dispatch(handlers, req, out), line, send))
        .catch(() => undefined) // answer() turns a handler's failure into the last line already
        .finally(() => conn.end())
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(sock, () => resolve())
  })
  await fs.chmod(sock, 0o600)
  await fs.writeFile(layout.socketRef, sock + "\n", { mode: 0o600 })
  const ended = new Promise<void>((r) => server.once("close", () => r()))
  return {
    // stops taking requests; one in flight (a sync) goes on until the host closes and cuts it short
    close: async () => {
      server.close()
      await fs.rm(sock, { force: true })
      await fs.rm(layout.socketRef, { force: true })
    },
    drained: (ms) => Promise.race([ended, new Promise<void>((r) => setTimeout(r, ms).unref())])
  }
}

/**
 * Sends a request to the daemon serving `gitdir`; undefined when none answers. Output lines go to
 * `out` as they come. Refuses (UsageError) a socket in a folder others could tamper with.
 */
export const askDaemon = async <R extends Request>(
  gitdir: string,
  req: R,
  timeoutSeconds: number,
  out: (line: string) => void = () => {}
): Promise<Outcome<ResultOf<R["_tag"]>> | undefined> => {
  const sock = await socketPathOf(gitdir)
  if (!sock) return undefined
  await checkSocketFolder(gitdir, sock)
  const { parseAnswer, requestLine } = await import("./protocol.js")
  return new Promise((resolve) => {
    const conn = net.createConnection(sock)
    let buf = ""
    let settled = false
    const finish = (v: Outcome<ResultOf<R["_tag"]>> | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => finish(undefined), timeoutSeconds * 1000)
    conn.on("connect", () => conn.write(requestLine(req)))
    conn.on("error", () => finish(undefined))
    conn.on("close", () => finish(undefined))
    conn.on("data", (d) => {
      buf += d.toString("utf8")
      let nl: number
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        const a = parseAnswer<R["_tag"]>(req._tag, line)
        if ("out" in a) out(a.out)
        else finish(a)
      }
    })
  })
}
