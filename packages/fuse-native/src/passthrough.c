// The kernel's read passthrough, and the binding's own channel between libfuse 2 and /dev/fuse
// that makes it possible: it answers INIT (asking for FUSE_PASSTHROUGH), marks the answers to OPEN
// and CREATE, and follows RELEASE, FORGET and BATCH_FORGET to know each inode's opens and aliases.
//
// Threads: FUSE threads run the channel (each request is read and answered on one thread, whose
// request_* thread-locals say which request it is); the JavaScript thread turns the feature on or
// off before a mount (kernel_passthrough) and reads the figures (kernel_passthrough_stats).
// opens_mutex guards the records of opens and aliases and the figures; kernel_on, kernel_offered
// and the others are set at INIT, before any open.
//
// Past 400 lines because the channel and the records of opens and aliases are one protocol: each
// decision in channel_send depends on what channel_receive recorded, and reads best beside it.

#include "binding.h"
#include "fastpath.h"
#include "passthrough.h"
#include "requests.h"

// The kernel's passthrough (Linux 6.9 and later): an open whose reply names a "backing file"
// registered on /dev/fuse has its reads served by the kernel from that file, with no request to
// this process at all, at the speed of the file system underneath. libfuse 2 knows nothing of it,
// so the binding puts its own channel between libfuse and the device: it reads requests and writes
// replies exactly as libfuse's does, and on the way it
//  - asks for FUSE_PASSTHROUGH in the answer to INIT when the kernel offers it and this process
//    has CAP_SYS_ADMIN, which registering backing files takes (libfuse's answer grows to the
//    kernel's current fuse_init_out; the protocol minor stays libfuse's);
//  - sets FOPEN_PASSTHROUGH and the backing file in the answer to an OPEN of a handle JavaScript
//    allowed (passthrough_open's kernel: read-only handles), registering the handle's descriptor
//    with FUSE_DEV_IOC_BACKING_OPEN (where that fails, the open is answered as before).
//
// The kernel allows only one mode per inode at a time: while any open of an inode is passthrough,
// every other open of it must be passthrough to the same backing file, and while an open of the
// page cache ("cached") is live, none may be passthrough; an open that breaks this fails with EIO.
// So every open and create is recorded here, by the node id in its request's header, until its
// RELEASE (the kernel forgets an open before it sends RELEASE, so the records only ever err
// towards the slower answer):
//  - a read-only open goes to the kernel when the inode has no cached open, reusing the backing
//    file of the inode's passthrough opens when it is the same file;
//  - a cached open is given while the inode has no passthrough open;
//  - an open that fits neither (a write while the file is being read by the kernel: writes go to
//    a staging file, never into the annex object being read; or a read of new content while old
//    content is read by the kernel) gets the file a new inode: the open is answered ESTALE, which
//    makes the kernel walk the path again and revalidate the name, and from then on the name is
//    looked up as an alias node id, a fresh inode whose requests are handed to libfuse under the
//    original id. The old inode keeps serving the opens it has, as a file replaced under its
//    readers would. The alias lives until the kernel forgets it and the opens it was made for
//    are released.

#define FUSE_OP_LOOKUP 1
#define FUSE_OP_FORGET 2
#define FUSE_OP_LINK 13
#define FUSE_OP_OPEN 14
#define FUSE_OP_RELEASE 18
#define FUSE_OP_INIT 26
#define FUSE_OP_CREATE 35
#define FUSE_OP_BATCH_FORGET 42
#define FUSE_FLAG_HANDLE_KILLPRIV_V2 (1u << 28)
#define FUSE_FLAG_INIT_EXT (1u << 30)
#define FUSE_FLAG2_PASSTHROUGH (1u << (37 - 32))
#define FUSE_FOPEN_DIRECT_IO (1u << 0)
#define FUSE_FOPEN_PASSTHROUGH (1u << 7)

struct fuse_backing_map_native { int32_t fd; uint32_t flags; uint64_t padding; };
#define FUSE_DEV_IOC_BACKING_OPEN_NATIVE _IOW(229, 1, struct fuse_backing_map_native)
#define FUSE_DEV_IOC_BACKING_CLOSE_NATIVE _IOW(229, 2, uint32_t)

// fuse_init_out as the kernel reads it today (libfuse 2 knows the first 24 bytes)
struct fuse_init_out_native {
  uint32_t major, minor, max_readahead, flags;
  uint16_t max_background, congestion_threshold;
  uint32_t max_write, time_gran;
  uint16_t max_pages, map_alignment;
  uint32_t flags2, max_stack_depth;
  uint16_t request_timeout;
  uint16_t unused[11];
};

typedef enum { OPEN_CACHED = 1, OPEN_KERNEL = 2 } open_mode_t;

typedef struct {
  uint64_t fh;
  uint64_t nodeid; // the kernel's (an alias, where it is one)
  open_mode_t mode;
  int32_t backing; // OPEN_KERNEL: the backing file's id
  dev_t dev;
  ino_t ino;
} open_record_t;

typedef struct {
  uint64_t alias; // the node id the kernel knows
  uint64_t target; // libfuse's
  uint64_t origin; // the kernel's node id whose opens it was made beside
  int64_t lookups; // lookups answered with it, less those forgotten
  int current; // lookups of target are answered with this alias
} alias_t;

// libfuse 2 numbers nodes from 2 up, one at a time: aliases start far above
#define ALIAS_BASE 0x7000000000000000ull

static int kernel_wanted = 1; // fuse_native_kernel_passthrough(0) before mounting turns it off
static int kernel_offered = 0; // the kernel's INIT offered FUSE_PASSTHROUGH
static int kernel_on = 0; // and it was asked for
static int kernel_unprivileged = 0; // offered, but this process may not register backing files
static int kernel_killpriv = 0; // the kernel's INIT offered FUSE_HANDLE_KILLPRIV_V2
static uint64_t kernel_init_unique = 0;
static pthread_mutex_t opens_mutex = PTHREAD_MUTEX_INITIALIZER; // opens and aliases
static open_record_t *opens = NULL;
static size_t opens_count = 0, opens_cap = 0;
static alias_t *aliases = NULL;
static size_t aliases_count = 0, aliases_cap = 0;
static uint64_t alias_next = ALIAS_BASE;
static uint64_t kernel_opens = 0, kernel_renewed = 0, kernel_refused = 0;
static int kernel_refused_errno = 0;

// the request this FUSE thread is handling: libfuse 2 answers each on the thread that read it
static __thread uint32_t request_opcode = 0;
static __thread uint64_t request_unique = 0;
static __thread uint64_t request_nodeid = 0; // as the kernel sent it

static int grow (void **items, size_t *cap, size_t count, size_t size) {
  if (count < *cap) return 1;
  size_t bigger = *cap ? *cap * 2 : 64;
  void *grown = realloc(*items, bigger * size);
  if (grown == NULL) return 0;
  *items = grown;
  *cap = bigger;
  return 1;
}

static int opens_live_locked (uint64_t nodeid, open_mode_t mode) {
  for (size_t i = 0; i < opens_count; i++) {
    if (opens[i].nodeid == nodeid && opens[i].mode == mode) return 1;
  }
  return 0;
}

static alias_t *alias_of_locked (uint64_t alias) {
  for (size_t i = 0; i < aliases_count; i++) {
    if (aliases[i].alias == alias) return &aliases[i];
  }
  return NULL;
}

static uint64_t target_of_locked (uint64_t nodeid) {
  alias_t *a = nodeid >= ALIAS_BASE ? alias_of_locked(nodeid) : NULL;
  return a ? a->target : nodeid;
}

// Drops the aliases nothing needs any more.
static void aliases_prune_locked (void) {
  for (size_t i = 0; i < aliases_count;) {
    alias_t *a = &aliases[i];
    if (a->lookups <= 0 && !opens_live_locked(a->alias, OPEN_CACHED) && !opens_live_locked(a->alias, OPEN_KERNEL) && !opens_live_locked(a->origin, OPEN_KERNEL)) {
      aliases[i] = aliases[--aliases_count];
    } else {
      i++;
    }
  }
}

// A new inode for the file behind the kernel's node id `origin`: lookups of it get an alias now.
static void alias_make_locked (uint64_t origin) {
  uint64_t target = target_of_locked(origin);
  if (!grow((void **) &aliases, &aliases_cap, aliases_count, sizeof(alias_t))) return;
  for (size_t i = 0; i < aliases_count; i++) {
    if (aliases[i].target == target) aliases[i].current = 0;
  }
  aliases[aliases_count++] = (alias_t) { .alias = alias_next++, .target = target, .origin = origin, .lookups = 0, .current = 1 };
  kernel_renewed++;
}

static void backing_close (int devfd, int32_t backing) {
  uint32_t id = (uint32_t) backing;
  ioctl(devfd, FUSE_DEV_IOC_BACKING_CLOSE_NATIVE, &id);
}

// Removes fh's record; closes its backing file once no other open uses it.
static void opens_remove_locked (int devfd, uint64_t fh) {
  for (size_t i = 0; i < opens_count; i++) {
    if (opens[i].fh != fh) continue;
    open_record_t r = opens[i];
    opens[i] = opens[--opens_count];
    if (aliases_count > 0) aliases_prune_locked();
    if (r.mode != OPEN_KERNEL) return;
    for (size_t j = 0; j < opens_count; j++) {
      if (opens[j].mode == OPEN_KERNEL && opens[j].backing == r.backing) return;
    }
    backing_close(devfd, r.backing);
    return;
  }
}

// How to answer an OPEN (or CREATE) of the kernel's nodeid with handle fh: the open flags to add
// and the backing file, recorded; or, for an open that fits neither of the inode's modes and is
// renewable, -1 once an alias is made (not recorded).
static int64_t opens_decide (int devfd, uint64_t nodeid, uint64_t fh, int renewable, int32_t *backing) {
  *backing = 0;
  int fd = -1;
  int wanted = fh < PASSTHROUGH_SLOTS && __atomic_load_n(&passthrough_kernel_ok[fh], __ATOMIC_ACQUIRE) && (fd = passthrough_fd(fh)) >= 0;
  pthread_mutex_lock(&opens_mutex);
  size_t cached = 0;
  open_record_t *kernel = NULL;
  for (size_t i = 0; i < opens_count; i++) {
    if (opens[i].nodeid != nodeid) continue;
    if (opens[i].mode == OPEN_CACHED) cached++;
    else kernel = &opens[i];
  }
  open_record_t r = { .fh = fh, .nodeid = nodeid, .mode = OPEN_CACHED };
  struct stat st;
  if (wanted && cached == 0 && fstat(fd, &st) == 0) {
    if (kernel != NULL) {
      if (kernel->dev == st.st_dev && kernel->ino == st.st_ino) {
        r.mode = OPEN_KERNEL;
        r.backing = kernel->backing;
      }
    } else {
      struct fuse_backing_map_native map = { .fd = fd, .flags = 0, .padding = 0 };
      int id = ioctl(devfd, FUSE_DEV_IOC_BACKING_OPEN_NATIVE, &map);
      if (id > 0) {
        r.mode = OPEN_KERNEL;
        r.backing = id;
      } else {
        kernel_refused++;
        kernel_refused_errno = errno;
        if (errno == EPERM) kernel_on = 0; // not root: no open will be handed over
      }
    }
    if (r.mode == OPEN_KERNEL) {
      r.dev = st.st_dev;
      r.ino = st.st_ino;
      kernel_opens++;
    }
  }
  int64_t flags = 0;
  if (r.mode == OPEN_CACHED && kernel != NULL && renewable) {
    alias_make_locked(nodeid);
    flags = -1;
  } else if (grow((void **) &opens, &opens_cap, opens_count, sizeof(open_record_t))) {
    opens[opens_count++] = r;
    if (r.mode == OPEN_KERNEL) {
      flags = FUSE_FOPEN_PASSTHROUGH;
      *backing = r.backing;
    }
  } else if (r.mode == OPEN_KERNEL) {
    // unrecorded, so not handed over (the backing file stays registered for the inode's others)
    if (kernel == NULL) backing_close(devfd, r.backing);
  }
  pthread_mutex_unlock(&opens_mutex);
  return flags;
}

// libfuse's open, but a write open of an inode the kernel is reading gets a new inode first
// (without opening a write session for an open that is answered ESTALE).
int fuse_native_open_beside_kernel (const char *path, struct fuse_file_info *info) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
  if (kernel_on && ((info->flags & O_ACCMODE) != O_RDONLY || (info->flags & O_TRUNC))) {
    pthread_mutex_lock(&opens_mutex);
    int renew = opens_live_locked(request_nodeid, OPEN_KERNEL);
    if (renew) alias_make_locked(request_nodeid);
    pthread_mutex_unlock(&opens_mutex);
    if (renew) return -ESTALE;
  }
  return fuse_native_open(path, info);
}

// FUSE_DEV_IOC_BACKING_OPEN takes CAP_SYS_ADMIN (capget(2), as <linux/capability.h> has it;
// that header's types clash with libfuse's fuse_kernel.h)
static int may_register_backing_files (void) {
  struct { uint32_t version; int pid; } header = { 0x20080522, 0 }; // _LINUX_CAPABILITY_VERSION_3
  struct { uint32_t effective, permitted, inheritable; } data[2];
  const int cap_sys_admin = 21;
  if (syscall(SYS_capget, &header, data) != 0) return 0;
  return (data[cap_sys_admin / 32].effective >> (cap_sys_admin % 32)) & 1;
}

static int channel_receive (struct fuse_chan **chp, char *buf, size_t size) {
  struct fuse_chan *ch = *chp;
  struct fuse_session *se = fuse_chan_session(ch);
  ssize_t res;
  int err;
  do {
    res = read(fuse_chan_fd(ch), buf, size);
    err = errno;
    if (fuse_session_exited(se)) return 0;
  } while (res == -1 && err == ENOENT); // an interrupted request: read again
  if (res == -1) {
    if (err == ENODEV) { // unmounted
      fuse_session_exit(se);
      return 0;
    }
    if (err != EINTR && err != EAGAIN) perror("fuse: reading device");
    return -err;
  }
  if ((size_t) res < sizeof(struct fuse_in_header)) {
    fprintf(stderr, "short read on fuse device\n");
    return -EIO;
  }
  struct fuse_in_header *in = (struct fuse_in_header *) buf;
  char *arg = buf + sizeof(*in);
  size_t arg_len = (size_t) res - sizeof(*in);
  request_opcode = in->opcode;
  request_unique = in->unique;
  request_nodeid = in->nodeid;
  if (in->opcode == FUSE_OP_RELEASE && arg_len >= sizeof(struct fuse_release_in)) {
    pthread_mutex_lock(&opens_mutex);
    opens_remove_locked(fuse_chan_fd(ch), ((struct fuse_release_in *) arg)->fh);
    pthread_mutex_unlock(&opens_mutex);
  } else if (in->opcode == FUSE_OP_INIT && arg_len >= 20) {
    uint32_t *init = (uint32_t *) arg; // major, minor, max_readahead, flags, flags2
    kernel_offered = (init[3] & FUSE_FLAG_INIT_EXT) && (init[4] & FUSE_FLAG2_PASSTHROUGH);
    kernel_killpriv = (init[3] & FUSE_FLAG_HANDLE_KILLPRIV_V2) != 0;
    kernel_init_unique = in->unique;
  }
  // requests about an alias go to libfuse as requests about its target
  if (__atomic_load_n(&aliases_count, __ATOMIC_ACQUIRE) > 0) {
    pthread_mutex_lock(&opens_mutex);
    alias_t *a = in->nodeid >= ALIAS_BASE ? alias_of_locked(in->nodeid) : NULL;
    if (a != NULL) {
      in->nodeid = a->target;
      if (in->opcode == FUSE_OP_FORGET && arg_len >= sizeof(struct fuse_forget_in)) {
        a->lookups -= (int64_t) ((struct fuse_forget_in *) arg)->nlookup;
        aliases_prune_locked();
      }
    }
    if (in->opcode == FUSE_OP_BATCH_FORGET && arg_len >= sizeof(struct fuse_batch_forget_in)) {
      uint32_t n = ((struct fuse_batch_forget_in *) arg)->count;
      struct fuse_forget_one *one = (struct fuse_forget_one *) (arg + sizeof(struct fuse_batch_forget_in));
      for (uint32_t i = 0; i < n && (char *) (one + i + 1) <= buf + res; i++) {
        alias_t *b = one[i].nodeid >= ALIAS_BASE ? alias_of_locked(one[i].nodeid) : NULL;
        if (b == NULL) continue;
        b->lookups -= (int64_t) one[i].nlookup;
        one[i].nodeid = b->target;
      }
      aliases_prune_locked();
    } else if (in->opcode == FUSE_OP_LINK && arg_len >= sizeof(struct fuse_link_in)) {
      struct fuse_link_in *link = (struct fuse_link_in *) arg;
      link->oldnodeid = target_of_locked(link->oldnodeid);
    }
    pthread_mutex_unlock(&opens_mutex);
  }
  return res;
}

static int channel_write (struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  ssize_t res = writev(fuse_chan_fd(ch), iov, count);
  int err = errno;
  if (res == -1) {
    // ENOENT: the request was interrupted
    if (!fuse_session_exited(fuse_chan_session(ch)) && err != ENOENT) perror("fuse: writing device");
    return -err;
  }
  return 0;
}

static int channel_send (struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  if (iov == NULL) return 0;
  struct fuse_out_header *out = (struct fuse_out_header *) iov[0].iov_base;
  if (out->unique != request_unique || out->error != 0 || count != 2) return channel_write(ch, iov, count);
  int devfd = fuse_chan_fd(ch);
  uint32_t opcode = request_opcode;

  if (opcode == FUSE_OP_INIT && out->unique == kernel_init_unique) {
    int passthrough = kernel_offered && kernel_wanted;
    // without the capability no open could be handed over: the mount is left as libfuse makes it
    // (a mount that asked for passthrough cannot be stacked on as deep)
    if (passthrough && !may_register_backing_files()) {
      kernel_unprivileged = 1;
      passthrough = 0;
    }
    if (!passthrough && !kernel_killpriv) return channel_write(ch, iov, count);
    struct fuse_init_out_native arg;
    memset(&arg, 0, sizeof(arg));
    memcpy(&arg, iov[1].iov_base, iov[1].iov_len < sizeof(arg) ? iov[1].iov_len : sizeof(arg));
    // No file here is ever set-user-ID, set-group-ID or has file capabilities (chmod refuses those
    // bits; extended attributes are sharebox's own, read-only), so there is nothing for a write to
    // clear: with FUSE_HANDLE_KILLPRIV_V2 the kernel leaves that to this process and stops asking
    // for security.capability before every write(2), a round trip each (a 4 KiB write was two).
    if (kernel_killpriv) arg.flags |= FUSE_FLAG_HANDLE_KILLPRIV_V2;
    struct fuse_out_header grown = *out;
    grown.len = sizeof(grown) + sizeof(arg);
    struct iovec v[2] = { { &grown, sizeof(grown) }, { &arg, sizeof(arg) } };
    if (!passthrough) return channel_write(ch, v, 2);
    arg.flags |= FUSE_FLAG_INIT_EXT;
    arg.flags2 |= FUSE_FLAG2_PASSTHROUGH;
    // backing files on a stacked file system too (a gitdir in a container's overlayfs); the mount
    // itself then cannot be stacked on (FILESYSTEM_MAX_STACK_DEPTH is 2)
    arg.max_stack_depth = 2;
    kernel_on = 1;
    return channel_write(ch, v, 2);
  }

  if (!kernel_on) return channel_write(ch, iov, count);

  if ((opcode == FUSE_OP_LOOKUP || opcode == FUSE_OP_LINK) && iov[1].iov_len == sizeof(struct fuse_entry_out) && __atomic_load_n(&aliases_count, __ATOMIC_ACQUIRE) > 0) {
    struct fuse_entry_out entry;
    memcpy(&entry, iov[1].iov_base, sizeof(entry));
    pthread_mutex_lock(&opens_mutex);
    alias_t *a = NULL;
    for (size_t i = 0; i < aliases_count && a == NULL; i++) {
      if (aliases[i].current && aliases[i].target == entry.nodeid) a = &aliases[i];
    }
    uint64_t alias = 0;
    if (a != NULL) {
      a->lookups++;
      alias = entry.nodeid = a->alias;
    }
    pthread_mutex_unlock(&opens_mutex);
    if (alias == 0) return channel_write(ch, iov, count);
    struct iovec v[2] = { iov[0], { &entry, sizeof(entry) } };
    int res = channel_write(ch, v, 2);
    if (res != 0) { // libfuse forgets the lookup: so does the alias
      pthread_mutex_lock(&opens_mutex);
      alias_t *b = alias_of_locked(alias);
      if (b != NULL) b->lookups--;
      pthread_mutex_unlock(&opens_mutex);
    }
    return res;
  }

  struct fuse_open_out open_out;
  struct fuse_entry_out entry_out;
  char create_out[sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out)];
  uint64_t nodeid;
  if (opcode == FUSE_OP_OPEN && iov[1].iov_len == sizeof(open_out)) {
    memcpy(&open_out, iov[1].iov_base, sizeof(open_out));
    nodeid = request_nodeid;
  } else if (opcode == FUSE_OP_CREATE && iov[1].iov_len == sizeof(create_out)) {
    memcpy(&entry_out, iov[1].iov_base, sizeof(entry_out));
    memcpy(&open_out, (char *) iov[1].iov_base + sizeof(entry_out), sizeof(open_out));
    nodeid = entry_out.nodeid; // a new node: never an alias
  } else {
    return channel_write(ch, iov, count);
  }
  if (open_out.open_flags & FUSE_FOPEN_DIRECT_IO) return channel_write(ch, iov, count);
  uint64_t fh = open_out.fh;

  int32_t backing;
  // (a CREATE makes a new node, so it can hardly meet the kernel's opens: it is recorded as it is)
  int64_t flags = opens_decide(devfd, nodeid, fh, opcode == FUSE_OP_OPEN, &backing);
  if (flags < 0) {
    // a new inode: ESTALE to the kernel, and to libfuse the error of an interrupted open, on
    // which it releases the handle itself
    struct fuse_out_header stale = { .len = sizeof(stale), .error = -ESTALE, .unique = out->unique };
    struct iovec v[1] = { { &stale, sizeof(stale) } };
    channel_write(ch, v, 1);
    return -ENOENT;
  }
  open_out.open_flags |= (uint32_t) flags;
  open_out.padding = (uint32_t) backing; // backing_id
  struct iovec v[2] = { iov[0], { &open_out, sizeof(open_out) } };
  if (opcode == FUSE_OP_CREATE) {
    memcpy(create_out, &entry_out, sizeof(entry_out));
    memcpy(create_out + sizeof(entry_out), &open_out, sizeof(open_out));
    v[1].iov_base = create_out;
    v[1].iov_len = sizeof(create_out);
  }
  int res = channel_write(ch, v, 2);
  if (res != 0) { // the open did not happen: libfuse releases the handle without a RELEASE
    pthread_mutex_lock(&opens_mutex);
    opens_remove_locked(devfd, fh);
    pthread_mutex_unlock(&opens_mutex);
  }
  return res;
}

static void channel_destroy (struct fuse_chan *ch) {
  int fd = fuse_chan_fd(ch);
  if (fd != -1) close(fd);
}

static struct fuse_chan_ops channel_ops = {
  .receive = channel_receive,
  .send = channel_send,
  .destroy = channel_destroy
};

// The binding's channel in place of libfuse's (kernel_ch) for a new mount, which starts knowing
// nothing of the kernel until its INIT.
struct fuse_chan *passthrough_channel (struct fuse_chan *kernel_ch) {
  kernel_offered = kernel_on = kernel_unprivileged = kernel_killpriv = 0;
  return fuse_chan_new(&channel_ops, fuse_chan_fd(kernel_ch), fuse_chan_bufsize(kernel_ch), NULL);
}

// fuse_native_kernel_passthrough(on): whether mounts made after ask for the kernel's passthrough.
NAPI_METHOD(fuse_native_kernel_passthrough) {
  NAPI_ARGV(1)
  NAPI_ARGV_UINT32(on, 0)
  kernel_wanted = on ? 1 : 0;
  return NULL;
}

// fuse_native_kernel_passthrough_stats() -> [offered, on, opens handed to the kernel, inodes
// renewed beside the kernel's opens, backing files refused, the errno of the last refusal,
// offered but not asked for (this process lacks CAP_SYS_ADMIN)]
NAPI_METHOD(fuse_native_kernel_passthrough_stats) {
  (void) info;
  napi_value result;
  napi_create_array_with_length(env, 7, &result);
  pthread_mutex_lock(&opens_mutex);
  double values[7] = { kernel_offered, kernel_on, (double) kernel_opens, (double) kernel_renewed, (double) kernel_refused, kernel_refused_errno, kernel_unprivileged };
  pthread_mutex_unlock(&opens_mutex);
  for (uint32_t i = 0; i < 7; i++) {
    napi_value v;
    napi_create_double(env, values[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}
