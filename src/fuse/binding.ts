/**
 * What sharebox's fork of the binding (packages/fuse-native) adds, as the FUSE layer uses it: reads
 * and writes served on the FUSE thread, new files created there, and xattr names answered there.
 */

/**
 * The binding's fast path: reads and writes of a handle tied to a file descriptor are served by the
 * FUSE thread itself (pread/pwrite), never reaching the handlers. What was written that way is
 * collected with `written` (see Staging.pullWrites).
 */
export interface Passthrough {
  /**
   * Ties handle `fh` to `fd`; where the binding cannot, the handlers serve it as before. With
   * `kernel` (a read-only handle), the open may be handed to the kernel's own passthrough, which
   * then reads `fd`'s file with no request to the daemon at all.
   */
  open(fh: number, fd: number, kernel: boolean): void
  close(fh: number): void
  /** The end of the furthest write made through the binding on `fd` since the last call, or -1. */
  written(fd: number): number
  /** How the kernel's passthrough is doing, for `.sharebox/status`. */
  kernelStatus(): string
}

export const noPassthrough: Passthrough = { open: () => {}, close: () => {}, written: () => -1, kernelStatus: () => "off (this binding has no passthrough)" }

/**
 * Read-only extended attributes for scripts and file managers; no other name exists, and the
 * binding answers for those without asking (packages/fuse-native/src/dispatch.c, xattr_prefix).
 */
export const XATTR_PREFIX = "user.sharebox."

/** A file the binding created on a FUSE thread, waiting to be adopted. */
export interface CreatedHere {
  readonly fh: number
  readonly fd: number
  readonly id: string
  readonly path: string
  /** the permission bits create was asked for (the kernel applied the umask) */
  readonly mode: number
  readonly mtime: number
}

/**
 * The binding's creates: a new file whose name is certainly not in the view is created on the
 * FUSE thread, with one of the empty staging files the binding makes ahead on a thread of its own
 * and a handle of the binding's own range; the daemon adopts it (a write session, as `create`
 * opens) before it handles any other request and before the view is replaced.
 */
export interface CreatesHere {
  /** how many created files wait to be adopted */
  readonly waiting: Int32Array
  take(): Array<CreatedHere>
  /** starts making empty staging files in `dir`, named `prefix` and a number; false if it cannot */
  start(dir: string, prefix: string): boolean
  /** the staging files made and not used; no file is created there after */
  reclaim(): Array<{ fd: number; id: string }>
}

/** Handles at or above this number are the binding's (CREATED_BASE, packages/fuse-native/src/fastpath.h). */
export const BINDING_HANDLES = 0x40000000
