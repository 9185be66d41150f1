/**
 * The open files' handles: each a file descriptor, read-only or of a write session. Every handle
 * is also told to the binding, which then serves its reads and writes itself where it can.
 *
 * A read handle knows the path it reads (none for `.sharebox/` files, or once its file is gone),
 * so that when a write session of that path begins, it can be moved onto the session's staging
 * file (`follow`): every open of a file shares the kernel's one page cache of it, and a reader
 * filling it with the content it was opened on made a writer read back, and write back through a
 * shared map, old bytes over its own write.
 */
import { isWithin } from "../domain/paths.js"
import { BINDING_HANDLES, type Passthrough } from "./binding.js"
import type { WriteSession } from "./ports.js"

export interface ReadHandle {
  readonly kind: "read"
  /** the descriptor reads are served from */
  fd: number
  /** the path it reads, while it is the file there */
  path: string | undefined
  /** the write session whose staging file it reads, when it follows one */
  session: string | undefined
  /** descriptors it read before, closed with it (a read in flight on a FUSE thread may hold one) */
  readonly retired: Array<number>
}

/** A file of this host's own (local.ts): a descriptor of the real file, read and written in place. */
export interface LocalHandle {
  readonly kind: "local"
  readonly fd: number
  /** open for writing: the file must not cross to the shared tree under it (crossing.ts) */
  readonly writes: boolean
}

export type Handle = ReadHandle | { readonly kind: "write"; readonly session: WriteSession; readonly fd: number } | LocalHandle

/** A read handle of `fd`, reading `path`. */
export const readHandle = (fd: number, path: string | undefined): ReadHandle => ({ kind: "read", fd, path, session: undefined, retired: [] })

export class Handles {
  private readonly open = new Map<number, Handle>()
  // Handle numbers are reused, so they stay small enough for the binding's table.
  private readonly free: Array<number> = []
  private next = 1

  constructor(private readonly passthrough: Passthrough) {}

  get(fh: number): Handle | undefined {
    return this.open.get(fh)
  }

  /** A new handle for `h`; with `kernel`, the kernel may read its file itself. */
  add(h: Handle, kernel = false): number {
    const fh = this.free.pop() ?? this.next++
    this.open.set(fh, h)
    this.passthrough.open(fh, h.fd, kernel)
    return fh
  }

  /** A handle the binding numbered and tied itself (a file it created). */
  adopt(fh: number, h: Handle): void {
    this.open.set(fh, h)
  }

  /** The descriptors of this host's own files open for writing. */
  localWriters(): Array<number> {
    const out: Array<number> = []
    for (const h of this.open.values()) if (h.kind === "local" && h.writes) out.push(h.fd)
    return out
  }

  /** The read handles of the file at `path`. */
  readersOf(path: string): Array<[number, ReadHandle]> {
    const out: Array<[number, ReadHandle]> = []
    for (const [fh, h] of this.open) if (h.kind === "read" && h.path === path) out.push([fh, h])
    return out
  }

  /** Moves read handle `fh` onto `fd` (the binding's reads too); its old descriptor stays open until it closes. */
  follow(fh: number, h: ReadHandle, fd: number, session: string): void {
    h.retired.push(h.fd)
    h.fd = fd
    h.session = session
    this.passthrough.open(fh, fd, false)
  }

  /** Read handles follow a rename of their file or a folder above it; those of a file replaced by it read no path now. */
  renamed(from: string, to: string): void {
    if (from === to) return
    for (const h of this.open.values()) {
      if (h.kind !== "read" || h.path === undefined) continue
      if (isWithin(h.path, from)) h.path = to + h.path.slice(from.length)
      else if (isWithin(h.path, to)) h.path = undefined
    }
  }

  /** The file at `path` is gone: its readers read no path now. */
  removed(path: string): void {
    for (const h of this.open.values()) if (h.kind === "read" && h.path === path) h.path = undefined
  }

  close(fh: number): Handle | undefined {
    const h = this.open.get(fh)
    if (!h) return undefined
    this.passthrough.close(fh) // for one of the binding's handles, this frees it there
    this.open.delete(fh)
    if (fh < BINDING_HANDLES) this.free.push(fh)
    return h
  }
}
