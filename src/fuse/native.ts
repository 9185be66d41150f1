/**
 * fuse-native (sharebox's fork, packages/fuse-native) as the FUSE layer sees it, and the one module
 * of sharebox that imports it. The package's index.d.ts describes each operation and how the
 * binding takes its answer; here sharebox names the operations it answers, and loads the binding
 * when the daemon mounts (not before: a command that mounts nothing never loads libfuse).
 */
import { createRequire } from "node:module"
import type Fuse from "fuse-native"

/** Answers an operation with its errno alone (negated; 0 is success). */
export type Done = Fuse.Done
/** Answers with a value on success (errno 0), or with an errno and nothing. */
export type Reply<T> = Fuse.Reply<T>
/** A read's or write's answer: the byte count, or an errno, both in the first argument. */
export type Count = Fuse.Count
/** A create's answer: the new handle and, saving libfuse a getattr, the file's attributes. */
export type Created = Fuse.Created
/** A chmod's or utimens's answer: the errno and, saving libfuse a getattr, the attributes after it. */
export type Changed = Fuse.Changed
/** A readdir's answer: the names and, beside them, each one's file type (see typesOf, directories.ts). */
export type Listed = Fuse.Listed
export type Stat = Fuse.Stat
export type Statfs = Fuse.Statfs
/** What fuse-native's native module adds, as the daemon's wiring uses it (mount.ts). */
export type Native = Fuse.Native
/** fuse-native's Fuse class. */
export type FuseClass = typeof Fuse

/**
 * A handler's answer before ops.ts replies it: a value, or a negated errno (for a handle or a byte
 * count, the sign tells them apart).
 */
export type Outcome<T> = T | number

/** An outcome now, or once the work it needs is done. */
export type Answer<T> = Outcome<T> | Promise<Outcome<T>>

/** Whose the files are, as getattr shows them (-o uid=, gid=, umask=): the kernel checks access by it. */
export interface Owner {
  readonly uid: number
  readonly gid: number
  /** permission bits no node shows */
  readonly umask: number
}

/**
 * The operations sharebox implements, each as fuse-native calls it; the binding tells the kernel
 * only these exist. No `access`: every mount has default_permissions, with which the kernel
 * answers access(2) from the modes. No opendir or releasedir: directories need no handle.
 */
export type FuseOperations = Required<
  Pick<
    Fuse.Operations,
    | "init"
    | "statfs"
    | "getattr"
    | "fgetattr"
    | "readdir"
    | "readlink"
    | "open"
    | "create"
    | "read"
    | "write"
    | "flush"
    | "fsync"
    | "fsyncdir"
    | "release"
    | "truncate"
    | "ftruncate"
    | "mkdir"
    | "rmdir"
    | "unlink"
    | "rename"
    | "symlink"
    | "link"
    | "mknod"
    | "chmod"
    | "chown"
    | "utimens"
    | "getxattr"
    | "listxattr"
    | "setxattr"
    | "removexattr"
  >
>

/** The binding, loaded (with libfuse) on first use; the bundle leaves it outside (scripts/bundle.mjs). */
export const loadFuse = (): FuseClass => createRequire(import.meta.url)("fuse-native") as FuseClass
