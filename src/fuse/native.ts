/**
 * How fuse-native (sharebox's fork, packages/fuse-native) calls the operations sharebox answers,
 * and how it takes their answers; the package ships no types. An errno is negated; 0 is success.
 */

/** Answers an operation with its errno alone. */
export type Done = (errno: number) => void
/** Answers with a value on success (errno 0), or with an errno and nothing. */
export type Reply<T> = (errno: number, value?: T) => void
/** A read's or write's answer: the byte count, or an errno, both in the first argument. */
export type Count = (bytesOrErrno: number) => void
/** A create's answer: the new handle and, saving libfuse a getattr, the file's attributes. */
export type Created = (errno: number, fh?: number, stat?: Stat) => void

/**
 * A handler's answer before ops.ts replies it: a value, or a negated errno (for a handle or a byte
 * count, the sign tells them apart).
 */
export type Outcome<T> = T | number

/** An outcome now, or once the work it needs is done. */
export type Answer<T> = Outcome<T> | Promise<Outcome<T>>

/** Times in milliseconds or as Dates: the binding takes both. */
export interface Stat {
  readonly mode: number
  readonly uid: number
  readonly gid: number
  readonly size: number
  readonly mtime: number | Date
  readonly atime: number | Date
  readonly ctime: number | Date
  readonly nlink: number
  readonly ino?: number
  readonly blksize?: number
  readonly blocks?: number
}

/** Whose the files are, as getattr shows them (-o uid=, gid=, umask=): the kernel checks access by it. */
export interface Owner {
  readonly uid: number
  readonly gid: number
  /** permission bits no node shows */
  readonly umask: number
}

export interface Statfs {
  readonly bsize: number
  readonly frsize: number
  readonly blocks: number
  readonly bfree: number
  readonly bavail: number
  readonly files: number
  readonly ffree: number
  readonly favail: number
  readonly fsid: number
  readonly flag: number
  readonly namemax: number
}

/**
 * The operations sharebox implements, as fuse-native calls them; the binding tells the kernel
 * only these exist. `utimens` gets UTIME_OMIT / UTIME_NOW as sentinels (the fork). No `access`:
 * every mount has default_permissions, with which the kernel answers access(2) from the modes.
 */
export interface FuseOperations {
  init(cb: Done): void
  statfs(path: string, cb: Reply<Statfs>): void
  getattr(path: string, cb: Reply<Stat>): void
  fgetattr(path: string, fh: number, cb: Reply<Stat>): void
  readdir(path: string, cb: Reply<ReadonlyArray<string>>): void
  readlink(path: string, cb: Reply<string>): void
  open(path: string, flags: number, cb: Reply<number>): void
  create(path: string, mode: number, cb: Created): void
  read(path: string, fh: number, buf: Buffer, len: number, pos: number, cb: Count): void
  write(path: string, fh: number, buf: Buffer, len: number, pos: number, cb: Count): void
  flush(path: string, fh: number, cb: Done): void
  fsync(path: string, datasync: boolean, fh: number, cb: Done): void
  fsyncdir(path: string, datasync: boolean, fh: number, cb: Done): void
  release(path: string, fh: number, cb: Done): void
  truncate(path: string, size: number, cb: Done): void
  ftruncate(path: string, fh: number, size: number, cb: Done): void
  mkdir(path: string, mode: number, cb: Done): void
  rmdir(path: string, cb: Done): void
  unlink(path: string, cb: Done): void
  rename(src: string, dest: string, cb: Done): void
  symlink(target: string, path: string, cb: Done): void
  link(src: string, dest: string, cb: Done): void
  mknod(path: string, mode: number, dev: number, cb: Done): void
  chmod(path: string, mode: number, cb: Done): void
  chown(path: string, uid: number, gid: number, cb: Done): void
  utimens(path: string, atime: number, mtime: number, cb: Done): void
  getxattr(path: string, name: string, position: number, cb: Reply<Buffer>): void
  listxattr(path: string, cb: Reply<ReadonlyArray<string>>): void
  setxattr(path: string, name: string, value: Buffer, position: number, flags: number, cb: Done): void
  removexattr(path: string, name: string, cb: Done): void
}
