/**
 * The FUSE operations, wired in one table. A handler (attributes.ts, files.ts, directories.ts,
 * xattrs.ts, virtual.ts) parses nothing and replies to nothing: it returns a value or a negated
 * errno, now or as a promise. Here each is called with the path the view uses and its answer is
 * replied; a failure the handler did not expect becomes an errno through the one table (errno.ts).
 */
import { fromFusePath } from "../domain/paths.js"
import type { AtimePolicy } from "../domain/times.js"
import * as attributes from "./attributes.js"
import { type CreatesHere, type Passthrough, noPassthrough } from "./binding.js"
import type { FuseContext } from "./context.js"
import * as directories from "./directories.js"
import * as files from "./files.js"
import { Handles, readHandle } from "./handles.js"
import { E, errnoOf } from "./errno.js"
import type { Answer, Changed, Count, Created, Done, FuseOperations, Listed, Owner, Reply, Stat, Statfs } from "./native.js"
import type { Ports } from "./ports.js"
import { Crossing } from "./crossing.js"
import { withLocal } from "./ignored.js"
import { LocalStore } from "./local.js"
import { LocalTimes } from "./times.js"
import { VirtualDir } from "./virtual.js"
import * as xattrs from "./xattrs.js"

export interface OperationsConfig {
  /** the gitdir, whose file system statfs reports */
  readonly gitdir: string
  readonly log: (line: string) => void
  readonly passthrough?: Passthrough
  readonly creates?: CreatesHere
  /** what reads do to atimes (mount(8)'s noatime, relatime, strictatime); relatime unless told */
  readonly atime?: AtimePolicy
  /** whose the files are (default: this process's user, umask 0) */
  readonly owner?: Owner
  /** -o ro: every change is refused with EROFS, here too (the kernel refuses them first) */
  readonly readonly?: boolean
  /** the folder of the paths kept on this host only (.shareboxignore); none: nothing is ignored */
  readonly localRoot?: string
  /** whether the root's listing shows the virtual folder (hidden unless told: see directories.ts) */
  readonly listVirtual?: boolean
  /** the requests served since the mount, as the binding counts them (src/requests.c); none without */
  readonly served?: () => number
}

export interface Operations {
  readonly table: FuseOperations
  /**
   * Adopts the files the binding created since the last call: before every request (the
   * binding's `beforeOp`) and before the view is replaced.
   */
  readonly adoptCreated: () => void
  /** the paths kept on this host only, when there is a folder for them */
  readonly local: LocalStore | undefined
}

export const makeOperations = (ports: Ports, config: OperationsConfig): Operations => {
  const { log, creates } = config
  const owner = config.owner ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, umask: 0 }
  const passthrough = config.passthrough ?? noPassthrough
  const handles = new Handles(passthrough)
  let createdHere = 0
  const local = config.localRoot === undefined ? undefined : new LocalStore(config.localRoot, () => ports.views.view)
  const virtual = new VirtualDir({
    status: ports.status,
    versions: ports.versions,
    past: ports.past,
    content: ports.content,
    kernelReads: () => passthrough.kernelStatus(),
    createdInBinding: () => createdHere,
    served: config.served ?? (() => 0),
    ignoredHere: () => local?.count() ?? 0,
    owner,
    register: (fd) => handles.add(readHandle(fd, undefined))
  })
  const times = new LocalTimes(ports.views, config.atime ?? "relatime")
  ports.views.onReplaced((before, after) => times.viewReplaced(before, after))
  const cx: FuseContext = { ...ports, handles, virtual, times, ...owner, listVirtual: config.listVirtual === true }
  const crossing = local && new Crossing(cx, local, log, config.readonly === true)

  const adoptCreated = () => {
    if (!creates || Atomics.load(creates.waiting, 0) === 0) return
    for (const c of creates.take()) {
      if (local?.takesNew(c.path, false)) {
        // made in the staging folder, as every file the binding creates; it is this host's own
        try {
          local.adopt(c.path, ports.staging.stagingFile(c.id), c.fd, c.mode)
          handles.adopt(c.fh, { kind: "local", fd: c.fd, writes: true })
          createdHere++
          continue
        } catch (e: unknown) {
          log(`${c.path} is ignored but could not be kept here (${(e as Error)?.message ?? String(e)}): it is shared`)
        }
      }
      const session = ports.staging.adoptCreated(c.path, c.id, c.fd, c.mode, c.mtime)
      handles.adopt(c.fh, { kind: "write", session, fd: c.fd })
      if (ports.staging.sessionByPath.get(c.path) === session) times.created(c.path)
      createdHere++
    }
  }

  // The edge: one way to reply for each shape of answer.
  const failed = (e: unknown): number => errnoOf(e, log)
  /** a value (an object, a string) or an errno */
  const value = <T extends object | string>(cb: Reply<T>, a: Answer<T>): void => {
    if (a instanceof Promise) a.then((r) => value(cb, r), (e: unknown) => cb(failed(e)))
    else if (typeof a === "number") cb(a)
    else cb(0, a)
  }
  /** 0 or an errno; a byte count or an errno */
  const status = (cb: Done | Count, a: Answer<number>): void => {
    if (typeof a === "number") cb(a)
    else a.then(cb, (e: unknown) => cb(failed(e)))
  }
  /** a handle (0 or more) or an errno */
  const handle = (cb: Reply<number>, a: Answer<number>): void => {
    if (typeof a !== "number") a.then((r) => handle(cb, r), (e: unknown) => cb(failed(e)))
    else if (a < 0) cb(a)
    else cb(0, a)
  }

  /** what getattr answers for a path of the view */
  const attributesOf = (p: string): Answer<Stat> => (virtual.owns(p) ? virtual.getattr(p) : attributes.getattr(cx, p))

  /**
   * 0 with the attributes getattr gives now (libfuse asks for them next, to answer the setattr:
   * the binding answers that getattr from them), or an errno.
   */
  const changed = (fp: string, cb: Changed, a: Answer<number>): void => {
    status((r: number) => {
      if (r !== 0) return cb(r)
      const st = attributesOf(fromFusePath(fp))
      cb(0, typeof st === "object" && !(st instanceof Promise) ? st : undefined)
    }, a)
  }

  const getattr = (fp: string, cb: Reply<Stat>): void => value(cb, attributesOf(fromFusePath(fp)))

  const table = {
    init: (cb: Done) => cb(0),
    statfs: (_fp: string, cb: Reply<Statfs>) => value(cb, attributes.statfs(config.gitdir)),
    getattr,
    fgetattr: (fp: string, _fh: number, cb: Reply<Stat>) => getattr(fp, cb),
    readdir: (fp: string, cb: Listed) => {
      const p = fromFusePath(fp)
      if (virtual.owns(p)) return value(cb, virtual.readdir(p))
      const names = directories.readdir(cx, p)
      if (typeof names === "number") return cb(names)
      cb(0, names, directories.typesOf(cx, p, names))
    },
    readlink: (fp: string, cb: Reply<string>) => {
      const p = fromFusePath(fp)
      value(cb, virtual.owns(p) ? virtual.readlink(p) : directories.readlink(cx, p))
    },
    open: (fp: string, flags: number, cb: Reply<number>) => {
      const p = fromFusePath(fp)
      handle(cb, virtual.owns(p) ? virtual.open(p, flags, files.opensForWriting(flags)) : files.open(cx, p, flags))
    },
    create: (fp: string, mode: number, cb: Created) => {
      const a = files.create(cx, fromFusePath(fp), mode)
      if (typeof a === "number") cb(a)
      else Promise.resolve(a).then((r) => (typeof r === "number" ? cb(r) : cb(0, r.fh, r.stat)), (e: unknown) => cb(failed(e)))
    },
    read: (fp: string, fh: number, buf: Buffer, len: number, pos: number, cb: Count) => status(cb, files.read(cx, fromFusePath(fp), fh, buf, len, pos)),
    write: (_fp: string, fh: number, buf: Buffer, len: number, pos: number, cb: Count) => status(cb, files.write(cx, fh, buf, len, pos)),
    flush: (_fp: string, fh: number, cb: Done) => status(cb, files.flush(cx, fh)),
    fsync: (_fp: string, _datasync: boolean, fh: number, cb: Done) => status(cb, files.fsync(cx, fh)),
    fsyncdir: (_fp: string, _datasync: boolean, _fh: number, cb: Done) => status(cb, directories.fsyncdir(cx)),
    release: (_fp: string, fh: number, cb: Done) => status(cb, files.release(cx, fh)),
    truncate: (fp: string, size: number, cb: Done) => status(cb, files.truncate(cx, fromFusePath(fp), size)),
    ftruncate: (_fp: string, fh: number, size: number, cb: Done) => status(cb, files.ftruncate(cx, fh, size)),
    mkdir: (fp: string, mode: number, cb: Done) => status(cb, directories.mkdir(cx, fromFusePath(fp), mode)),
    rmdir: (fp: string, cb: Done) => status(cb, directories.rmdir(cx, fromFusePath(fp))),
    unlink: (fp: string, cb: Done) => status(cb, directories.unlink(cx, fromFusePath(fp))),
    rename: (src: string, dest: string, cb: Done) => status(cb, directories.rename(cx, fromFusePath(src), fromFusePath(dest))),
    symlink: (target: string, fdest: string, cb: Done) => status(cb, directories.symlink(cx, target, fromFusePath(fdest))),
    // hard links would make two paths one file, which a git tree cannot say
    link: (_src: string, _dest: string, cb: Done) => cb(E.EPERM),
    mknod: (_fp: string, _mode: number, _dev: number, cb: Done) => cb(E.EPERM),
    chmod: (fp: string, mode: number, cb: Changed) => changed(fp, cb, attributes.chmod(cx, fromFusePath(fp), mode)),
    chown: (fp: string, uid: number, gid: number, cb: Done) => cb(attributes.chown(cx, fromFusePath(fp), uid, gid)),
    utimens: (fp: string, atime: number, mtime: number, cb: Changed) => changed(fp, cb, attributes.utimens(cx, fromFusePath(fp), atime, mtime)),
    getxattr: (fp: string, name: string, _position: number, cb: Reply<Buffer>) => value(cb, xattrs.getxattr(cx, fromFusePath(fp), name)),
    listxattr: (fp: string, cb: Reply<ReadonlyArray<string>>) => value(cb, xattrs.listxattr(cx, fromFusePath(fp))),
    setxattr: (_fp: string, name: string, _value: Buffer, _position: number, _flags: number, cb: Done) => cb(xattrs.setxattr(name)),
    removexattr: (_fp: string, _name: string, cb: Done) => cb(xattrs.removexattr())
  } satisfies FuseOperations

  // -o ro: what would change a file or the tree is refused before it reaches a handler
  const rofs = (cb: Done | Count | Created | Changed) => cb(E.EROFS)
  const readOnly = {
    open: (fp: string, flags: number, cb: Reply<number>) => (files.opensForWriting(flags) ? cb(E.EROFS) : table.open(fp, flags, cb)),
    create: (_fp: string, _mode: number, cb: Created) => rofs(cb),
    write: (_fp: string, _fh: number, _buf: Buffer, _len: number, _pos: number, cb: Count) => rofs(cb),
    truncate: (_fp: string, _size: number, cb: Done) => rofs(cb),
    ftruncate: (_fp: string, _fh: number, _size: number, cb: Done) => rofs(cb),
    mkdir: (_fp: string, _mode: number, cb: Done) => rofs(cb),
    rmdir: (_fp: string, cb: Done) => rofs(cb),
    unlink: (_fp: string, cb: Done) => rofs(cb),
    rename: (_src: string, _dest: string, cb: Done) => rofs(cb),
    symlink: (_target: string, _fdest: string, cb: Done) => rofs(cb),
    link: (_src: string, _dest: string, cb: Done) => rofs(cb),
    mknod: (_fp: string, _mode: number, _dev: number, cb: Done) => rofs(cb),
    chmod: (_fp: string, _mode: number, cb: Changed) => rofs(cb),
    chown: (_fp: string, _uid: number, _gid: number, cb: Done) => rofs(cb),
    utimens: (_fp: string, _atime: number, _mtime: number, cb: Changed) => rofs(cb),
    setxattr: (_fp: string, _name: string, _value: Buffer, _position: number, _flags: number, cb: Done) => rofs(cb),
    removexattr: (_fp: string, _name: string, cb: Done) => rofs(cb)
  } satisfies Partial<FuseOperations>

  const served = local && crossing ? withLocal(table, cx, local, crossing, log) : table
  if (crossing) {
    ports.views.onReplaced((before) => void crossing.reload(before))
    void crossing.reload()
  }
  return { table: config.readonly ? { ...served, ...readOnly } : served, adoptCreated, local }
}
