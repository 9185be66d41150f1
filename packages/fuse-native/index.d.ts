/**
 * Types of sharebox's fork of fuse-native 2.2.6: the operation table as the binding calls it, the
 * Fuse class, and the native exports the fork adds (`Fuse.native`).
 *
 * Threads. The handlers and every function of `Fuse.native` run on the JavaScript thread. libfuse
 * runs the requests on FUSE threads of its own; a request that needs JavaScript waits there until
 * its handler's callback is called. The fast paths (reads and writes of tied handles, lookups of
 * names not in the table, creates) answer on the FUSE thread without waking JavaScript; what they
 * read is what `Fuse.native` set last, under a lock or with atomics.
 *
 * Errnos are negated (`Fuse.ENOENT` is -2); 0 is success.
 */
/// <reference types="node" />

declare namespace Fuse {
  /** Answers an operation with its errno alone. */
  type Done = (errno: number) => void
  /** Answers with a value on success (errno 0), or with an errno and nothing. */
  type Reply<T> = (errno: number, value?: T) => void
  /** A read's or write's answer: the byte count, or an errno, both in the first argument. */
  type Count = (bytesOrErrno: number) => void
  /**
   * A create's answer: the new handle and, optionally, the file's attributes, which answer the
   * fgetattr libfuse makes right after on the same FUSE thread (saving a round trip to JavaScript).
   */
  type Created = (errno: number, fh?: number, stat?: Stat) => void
  /**
   * A chmod's or utimens's answer: its errno and, optionally, the file's attributes after it,
   * which answer the getattr libfuse makes right after on the same FUSE thread to reply to the
   * setattr (saving a round trip to JavaScript). They must be what getattr would answer then.
   */
  type Changed = (errno: number, stat?: Stat) => void
  /**
   * A readdir's answer: the names (not `.` and `..`) and, optionally, their attributes; or, as a
   * Uint32Array beside the names, each one's file type alone (st_mode's S_IFMT bits, 0 when not
   * said), which the kernel gives readdir's callers as d_type (`find -type f` and `rm -r` then need
   * no lookup per name).
   */
  type Listed = (errno: number, names?: ReadonlyArray<string>, stats?: ReadonlyArray<Stat> | Uint32Array) => void

  /**
   * Attributes, as getattr, fgetattr and create answer them. Times in milliseconds or as Dates;
   * a missing time is now. Sizes and times above 2^32 are carried in two 32-bit words.
   */
  interface Stat {
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
    readonly dev?: number
    readonly rdev?: number
  }

  /** statvfs(3)'s fields; each is a 32-bit number. */
  interface Statfs {
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
   * The operations, as the binding calls them on the JavaScript thread. Only those present are
   * given to libfuse (getattr and init always are), so the kernel learns the others do not exist.
   * `path` is the path below the mount point, starting with `/`. `fh` is the handle open or create
   * answered, or one of a file the binding created (0x40000000 and above, see
   * `Native.fuse_native_created_take`).
   */
  interface Operations {
    /** After the kernel's INIT: the `mount` callback has been called by then. */
    init?(cb: Done): void
    error?(cb: Done): void
    access?(path: string, mode: number, cb: Done): void
    statfs?(path: string, cb: Reply<Statfs>): void
    /**
     * Asked only for names that may exist once `fuse_native_names_reset` made a table: the others
     * are answered ENOENT on the FUSE thread.
     */
    getattr?(path: string, cb: Reply<Stat>): void
    /** The binding calls `getattr` in its place; present, it tells libfuse fgetattr exists. */
    fgetattr?(path: string, fh: number, cb: Reply<Stat>): void
    readdir?(path: string, cb: Listed): void
    readlink?(path: string, cb: Reply<string>): void
    /** `flags` as open(2) got them; answers the new handle (0 or more). */
    open?(path: string, flags: number, cb: Reply<number>): void
    opendir?(path: string, flags: number, cb: Reply<number>): void
    /**
     * Asked only when the binding does not create the file itself (see
     * `Native.fuse_native_spares_start`); `mode` has the file type and the permission bits.
     */
    create?(path: string, mode: number, cb: Created): void
    /** Not asked for a handle tied with `fuse_native_passthrough_open`: the FUSE thread reads its fd. */
    read?(path: string, fh: number, buf: Buffer, len: number, pos: number, cb: Count): void
    /** Not asked for a handle tied with `fuse_native_passthrough_open`: the FUSE thread writes its fd. */
    write?(path: string, fh: number, buf: Buffer, len: number, pos: number, cb: Count): void
    flush?(path: string, fh: number, cb: Done): void
    fsync?(path: string, datasync: boolean, fh: number, cb: Done): void
    fsyncdir?(path: string, datasync: boolean, fh: number, cb: Done): void
    release?(path: string, fh: number, cb: Done): void
    releasedir?(path: string, fh: number, cb: Done): void
    truncate?(path: string, size: number, cb: Done): void
    ftruncate?(path: string, fh: number, size: number, cb: Done): void
    mkdir?(path: string, mode: number, cb: Done): void
    rmdir?(path: string, cb: Done): void
    unlink?(path: string, cb: Done): void
    rename?(src: string, dest: string, cb: Done): void
    symlink?(target: string, path: string, cb: Done): void
    link?(src: string, dest: string, cb: Done): void
    mknod?(path: string, mode: number, dev: number, cb: Done): void
    chmod?(path: string, mode: number, cb: Changed): void
    chown?(path: string, uid: number, gid: number, cb: Done): void
    /**
     * Times in milliseconds, or one of two sentinels above any real time: 0xFFFFFFFFFFFFF
     * (utimensat(2)'s UTIME_OMIT: leave it as it is) and 0xFFFFFFFFFFFFE (UTIME_NOW).
     */
    utimens?(path: string, atime: number, mtime: number, cb: Changed): void
    /**
     * Asked only for names under `fuse_native_xattr_prefix`'s prefix once it is set (Linux); the
     * others are answered ENODATA on the FUSE thread. A value of nothing with errno 0 is ENODATA.
     */
    getxattr?(path: string, name: string, position: number, cb: Reply<Buffer>): void
    listxattr?(path: string, cb: Reply<ReadonlyArray<string>>): void
    setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Done): void
    removexattr?(path: string, name: string, cb: Done): void
  }

  /** How long a handler may take before the binding answers ETIMEDOUT for it, in milliseconds. */
  type Timeout = number | false | ({ readonly default?: number } & { readonly [op in keyof Operations]?: number | false })

  interface Options {
    /** Per operation or for all; false: never. Default 15 seconds. */
    readonly timeout?: Timeout
    /** Unmounts a dead mount (ENOTCONN) at the mount point before mounting. */
    readonly force?: boolean
    /** Creates the mount point when it is missing. */
    readonly mkdir?: boolean
    /**
     * The `-o` options libfuse mounts with, each as libfuse reads it (a `,` inside a value escaped
     * as `\,`, a `\` as `\\`). When given, they are the whole list: the options below that name a
     * libfuse option (debug, allowOther, fsname, ...) and the DEBUG environment variable are not
     * read. The native side reads `-o` and the list joined with commas as at most 1023 bytes and
     * cuts what is longer.
     */
    readonly mountOptions?: ReadonlyArray<string>
    /**
     * Called on the JavaScript thread before each request is handed to its handler, including
     * requests of operations the table does not have.
     */
    readonly beforeOp?: () => void
    readonly debug?: boolean
    readonly allowOther?: boolean
    readonly allowRoot?: boolean
    readonly autoUnmount?: boolean
    readonly defaultPermissions?: boolean
    readonly blkdev?: boolean
    readonly blksize?: number
    readonly maxRead?: number
    readonly fd?: number
    readonly userId?: number
    readonly fsname?: string
    readonly subtype?: string
    readonly kernelCache?: boolean
    readonly autoCache?: boolean
    readonly umask?: number
    readonly uid?: number
    readonly gid?: number
    readonly entryTimeout?: number
    readonly attrTimeout?: number
    readonly acAttrTimeout?: number
    readonly noforget?: boolean
    readonly remember?: number
    readonly modules?: string
    /** macOS: names the volume after `name` or the mount point and gives it a folder icon. */
    readonly displayFolder?: boolean
    readonly name?: string
  }

  /**
   * The kernel's passthrough of reads as `fuse_native_kernel_passthrough_stats` counts it:
   * [offered by the kernel (0/1), on (0/1), opens handed to the kernel, inodes renewed beside the
   * kernel's opens, backing files the kernel refused, the errno of the last refusal (positive,
   * 0 for none), offered but not asked for because this process lacks CAP_SYS_ADMIN (0/1)].
   */
  type KernelPassthroughStats = [offered: number, on: number, opens: number, renewed: number, refused: number, errno: number, unprivileged: number]

  /**
   * What the fork's native module adds to upstream's, all called on the JavaScript thread. The
   * module's other exports (fuse_native_mount, the signals, the op numbers) are index.js's own.
   */
  interface Native {
    /**
     * Ties handle `fh` to descriptor `fd`: from now on the FUSE threads serve `fh`'s reads and
     * writes with pread/pwrite (or splice) on `fd`, and the `read` and `write` handlers are not
     * asked. `fd` -1 unties it (and frees a handle the binding created). With `kernel` 1 (a
     * read-only handle whose reads never need JavaScript), opens of it may be handed to the
     * kernel's own passthrough. Returns 1, or 0 where it cannot (fh or fd out of range): then the
     * handlers serve the handle as before.
     */
    fuse_native_passthrough_open(fh: number, fd: number, kernel: 0 | 1): 0 | 1
    /**
     * The end of the furthest write the FUSE threads made on `fd` since the last call, or -1 when
     * there was none (atomically exchanged with the FUSE threads' record).
     */
    fuse_native_passthrough_written(fd: number): number
    /**
     * Whether mounts made after this ask the kernel for its passthrough of reads at INIT (Linux
     * 6.9 or later, CONFIG_FUSE_PASSTHROUGH, CAP_SYS_ADMIN). Read by the binding's channel on
     * the FUSE thread that answers INIT.
     */
    fuse_native_kernel_passthrough(on: 0 | 1): void
    /** How the kernel's passthrough is doing, as the channel on the FUSE threads counted it. */
    fuse_native_kernel_passthrough_stats(): KernelPassthroughStats
    /**
     * Replaces the table of names that may exist: `paths` holds view paths (UTF-8, no leading
     * slash), each ended by a NUL. A lookup (getattr) of any other path is answered ENOENT on the
     * FUSE thread without asking JavaScript; paths inside the top-level folder `exempt`, and names
     * that are not UTF-8, are always asked. Before the first call every lookup is asked. Files the
     * binding created and JavaScript has not taken yet stay in the table.
     */
    fuse_native_names_reset(paths: Buffer, exempt: string): void
    /** Adds one path (no leading slash) to the table of names that may exist. */
    fuse_native_names_add(path: string): void
    /**
     * Where the binding counts the files it created and JavaScript has not taken: the FUSE threads
     * add to `waiting[0]` atomically as they create, `fuse_native_created_take` zeroes it. Needed
     * before the binding creates any file.
     */
    fuse_native_created_init(waiting: Int32Array): void
    /**
     * The files the FUSE threads created since the last call, flat: [fh, fd, id, path, mode,
     * mtime, ...] (path without its leading slash, mode the permission bits asked for, mtime in
     * ms). Each file's handle `fh` is CREATED_BASE (0x40000000) and a slot, tied to `fd`, a spare
     * named `id`; JavaScript adopts it (and unties the handle at release with
     * `fuse_native_passthrough_open(fh, -1, 0)`).
     */
    fuse_native_created_take(): Array<number | string>
    /**
     * Starts the binding's spares thread, which keeps a few empty files made ahead in `dir`, named
     * `prefix` and a hex number; with spares, the owner set (`fuse_native_owner`), a count
     * (`fuse_native_created_init`) and a names table, a create of a plain path whose name is not
     * in the table and whose parent is is done on the FUSE thread with a spare. Returns 1, or 0
     * when the thread runs already or cannot start.
     */
    fuse_native_spares_start(dir: string, prefix: string): 0 | 1
    /**
     * Stops the spares thread and hands back the spares not used, flat: [fd, id, ...]; no file is
     * created on the FUSE threads after.
     */
    fuse_native_spares_reclaim(): Array<number | string>
    /**
     * Whose the files the binding creates are, as getattr shows them: their attributes say `uid`
     * and `gid`, and the mode leaves out `umask`. The binding creates nothing before this call.
     */
    fuse_native_owner(uid: number, gid: number, umask: number): void
    /**
     * With `on` 1, the FUSE threads answer the attribute changes they can (src/setattrs.c): a
     * chown of a name in the names table, once the owner is set (`fuse_native_owner`), 0 when it
     * keeps the owner and group (or leaves them, -1) and EPERM otherwise, as sharebox's handler
     * does; every other chown goes to the chown handler. Off (0) until called.
     */
    fuse_native_setattrs_here(on: 0 | 1): void
    /**
     * The requests served since the module loaded, every part counted (src/requests.c): the daemon
     * compares two readings to tell a mount in use from an idle one.
     */
    fuse_native_requests_served(): number
    /** Requests for the top-level folder `name` and below are not counted; before mounting only. */
    fuse_native_requests_quiet(name: string): void
    /**
     * Only extended attributes whose name starts with `prefix` (at most 255 bytes) go to the
     * getxattr handler; the FUSE threads answer ENODATA for the others (security.capability before
     * every write, ACLs for ls -l). Not on macOS.
     */
    fuse_native_xattr_prefix?(prefix: string): void
  }
}

declare class Fuse {
  /**
   * A mount of `ops` on `mnt` (made absolute), not mounted until `mount` is called.
   */
  constructor(mnt: string, ops: Fuse.Operations, opts?: Fuse.Options)
  readonly mnt: string
  readonly ops: Fuse.Operations
  readonly opts: Fuse.Options
  /** Called before each request is handed to its handler (the `beforeOp` option). */
  beforeOp: (() => void) | null
  /** Mounts; `cb` is called once the kernel's INIT is answered, or with why it could not mount. */
  mount(cb: (err: Error | null) => void): void
  /** fusermount -uz, then the binding lets go of the mount. */
  unmount(cb: (err: Error | null) => void): void
  /** The negated errno of a code such as "ENOENT", or -1. */
  errno(code: string): number
  /** fusermount -uz (diskutil unmount force on macOS) of any mount point. */
  static unmount(mnt: string, cb: (err: Error | null) => void): void
  /** The native module's exports the fork adds. */
  static readonly native: Fuse.Native
  static readonly EPERM: number
  static readonly ENOENT: number
  static readonly EIO: number
  static readonly EBADF: number
  static readonly EACCES: number
  static readonly EBUSY: number
  static readonly EEXIST: number
  static readonly EXDEV: number
  static readonly ENOTDIR: number
  static readonly EISDIR: number
  static readonly EINVAL: number
  static readonly EFBIG: number
  static readonly ENOSPC: number
  static readonly EROFS: number
  static readonly ERANGE: number
  static readonly ENAMETOOLONG: number
  static readonly ENOSYS: number
  static readonly ENOTEMPTY: number
  static readonly ENODATA: number
  static readonly ETIMEDOUT: number
  static readonly ENOTCONN: number
  static readonly EOPNOTSUPP: number
  static readonly EDQUOT: number
  /** Every other errno upstream names, by its code. */
  static readonly [code: `E${string}`]: number
}

export = Fuse
