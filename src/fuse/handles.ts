/**
 * The open files' handles: each a file descriptor, read-only or of a write session. Every handle
 * is also told to the binding, which then serves its reads and writes itself where it can.
 */
import { BINDING_HANDLES, type Passthrough } from "./binding.js"
import type { WriteSession } from "./ports.js"

export type Handle = { readonly kind: "read"; readonly fd: number } | { readonly kind: "write"; readonly session: WriteSession; readonly fd: number }

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

  close(fh: number): Handle | undefined {
    const h = this.open.get(fh)
    if (!h) return undefined
    this.passthrough.close(fh) // for one of the binding's handles, this frees it there
    this.open.delete(fh)
    if (fh < BINDING_HANDLES) this.free.push(fh)
    return h
  }
}
