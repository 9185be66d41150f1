// New files created on the FUSE threads: a new file whose name is certainly not in the view (not
// in the names table) is created here, on the FUSE thread, without a round trip to JavaScript. It
// gets an empty staging file made ahead (spares.c), a handle tied to it (fastpath.c) and its
// attributes for the fgetattr libfuse makes next. Creating records no event, so nothing durable
// happens here: JavaScript adopts the file (fuse_native_created_take) before it handles any other
// request and before it replaces the view, and records it at flush as it does the files it creates.
// Only plain paths are made here (printable ASCII, outside the exempt folder, under a parent in the
// table); the others, and every create while no spare is ready, go to JavaScript as before.
//
// Threads: a FUSE thread creates (create_here) under names_lock held for writing, which guards the
// queue of created files, the spares and the names table together; the JavaScript thread sets the
// owner before mounting (owner), gives the count it reads before each request (created_init: the
// array given last) and takes the queue (created_take), under the same lock. The attributes a
// create answers with wait for libfuse's next fgetattr in the FUSE thread's own record
// (fuse_thread_locals_t).

#include "binding.h"
#include "names.h"
#include "fastpath.h"
#include "spares.h"
#include "creates.h"
#include "requests.h"

typedef struct {
  uint32_t fh;
  int fd;
  char id[SPARE_ID_MAX];
  char *path; // without the leading slash
  uint32_t mode; // permission bits, as create was asked for them (the kernel applied the umask)
  uint64_t mtime; // ms
} created_t;

// under names_lock (written with it held for writing), with the table the files are added to
static created_t *created_queue = NULL;
static size_t created_len = 0;
static size_t created_cap = 0;
static size_t created_next_slot = 0;
// how many files wait to be adopted, in memory JavaScript reads before each request
static int32_t *created_waiting = NULL;
static napi_ref created_waiting_ref = NULL;

static int created_plain (const char *p, size_t n) {
  if (n == 0 || n > 4000) return 0;
  size_t name = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if (c < 0x20 || c > 0x7E) return 0;
    name = c == '/' ? 0 : name + 1;
    if (name > 255) return 0; // MAX_NAME_BYTES: JavaScript gives the error
  }
  if (names_exempt_path(p)) return 0;
  return 1;
}

// The owner and umask a created file's attributes show, as getattr shows them (src/fuse/attributes.ts):
// set once by JavaScript before the mount (fuse_native_owner), read by the FUSE threads.
static uint32_t owner_uid = 0;
static uint32_t owner_gid = 0;
static uint32_t owner_umask = 0;
static int owner_set = 0;

// owner(uid, gid, umask)
NAPI_METHOD(fuse_native_owner) {
  NAPI_ARGV(3)
  NAPI_ARGV_UINT32(uid, 0)
  NAPI_ARGV_UINT32(gid, 1)
  NAPI_ARGV_UINT32(umask, 2)
  __atomic_store_n(&owner_uid, uid, __ATOMIC_RELAXED);
  __atomic_store_n(&owner_gid, gid, __ATOMIC_RELAXED);
  __atomic_store_n(&owner_umask, umask & 07777, __ATOMIC_RELAXED);
  __atomic_store_n(&owner_set, 1, __ATOMIC_RELEASE);
  return NULL;
}

int owner_of (uint32_t *uid, uint32_t *gid) {
  if (!__atomic_load_n(&owner_set, __ATOMIC_ACQUIRE)) return 0;
  *uid = __atomic_load_n(&owner_uid, __ATOMIC_RELAXED);
  *gid = __atomic_load_n(&owner_gid, __ATOMIC_RELAXED);
  return 1;
}

static int fuse_native_create_here (const char *path, mode_t mode, struct fuse_file_info *info) {
  if (path[0] != '/' || __atomic_load_n(&spares_count, __ATOMIC_RELAXED) == 0) return 0;
  if (!__atomic_load_n(&owner_set, __ATOMIC_ACQUIRE)) return 0; // JavaScript answers until it said whose files are
  const char *p = path + 1;
  size_t n = strlen(p);
  if (!created_plain(p, n)) return 0;
  size_t parent_len = 0;
  for (size_t i = 0; i < n; i++) if (p[i] == '/') parent_len = i;
  uint64_t h = names_hash(p, n);
  uint64_t parent = parent_len > 0 ? names_hash(p, parent_len) : 0;
  char *copy = malloc(n + 1);
  if (copy == NULL) return 0;
  memcpy(copy, p, n + 1);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t ms = (uint64_t) now.tv_sec * 1000 + (uint64_t) now.tv_nsec / 1000000;

  pthread_rwlock_wrlock(&names_lock);
  int ok = names_slots != NULL && spares_count > 0 && created_waiting != NULL && !names_has(h) && (parent == 0 || names_has(parent));
  if (ok && created_len == created_cap) {
    size_t cap = created_cap ? created_cap * 2 : 64;
    created_t *q = realloc(created_queue, cap * sizeof(created_t));
    if (q == NULL) ok = 0;
    else {
      created_queue = q;
      created_cap = cap;
    }
  }
  uint32_t slot = 0;
  if (ok) {
    ok = 0;
    for (size_t k = 0; k < CREATED_SLOTS; k++) {
      slot = (uint32_t) ((created_next_slot + k) % CREATED_SLOTS);
      if (__atomic_load_n(&created_fds[slot], __ATOMIC_ACQUIRE) == 0) {
        ok = 1;
        break;
      }
    }
  }
  if (ok) ok = names_add_locked(h);
  if (!ok) {
    pthread_rwlock_unlock(&names_lock);
    free(copy);
    return 0;
  }
  uint32_t perm = mode & 01777; // set-user-ID and set-group-ID are never kept (src/fuse/attributes.ts)
  spare_t spare = spares[--spares_count];
  created_next_slot = slot + 1;
  __atomic_store_n(&created_fds[slot], spare.fd + 1, __ATOMIC_RELEASE);
  created_t *c = &created_queue[created_len++];
  c->fh = CREATED_BASE + slot;
  c->fd = spare.fd;
  memcpy(c->id, spare.id, SPARE_ID_MAX);
  c->path = copy;
  c->mode = perm;
  c->mtime = ms; // c is not touched after the lock is let go: the queue moves and empties
  if (spare.fd >= 0 && spare.fd < PASSTHROUGH_SLOTS) { // a descriptor number starts with no writes on record
    __atomic_store_n(&passthrough_writes[spare.fd].written, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&passthrough_writes[spare.fd].end, 0, __ATOMIC_RELEASE);
  }
  __atomic_add_fetch(created_waiting, 1, __ATOMIC_RELEASE);
  int low = spares_count < SPARES_LOW;
  pthread_rwlock_unlock(&names_lock);
  if (low) spares_want();

  info->fh = CREATED_BASE + slot;
  // what the fgetattr libfuse makes next is answered from (as JavaScript answers a new file)
  fuse_thread_locals_t *l = get_thread_locals();
  struct stat *st = &l->created_stat;
  memset(st, 0, sizeof(*st));
  st->st_mode = S_IFREG | (perm & ~__atomic_load_n(&owner_umask, __ATOMIC_RELAXED));
  st->st_uid = __atomic_load_n(&owner_uid, __ATOMIC_RELAXED);
  st->st_gid = __atomic_load_n(&owner_gid, __ATOMIC_RELAXED);
  st->st_nlink = 1;
  uint32_t ino = 0x811c9dc5; // as src/fuse/ops.ts numbers inodes: FNV-1a of the path, 32 bits
  for (size_t i = 0; i < n; i++) {
    ino ^= (unsigned char) p[i];
    ino *= 0x01000193;
  }
  st->st_ino = ino ? ino : 1;
  st->st_blksize = 4096;
  st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = ms / 1000;
  st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = (ms % 1000) * 1000000;
  l->created_fh = info->fh;
  l->created = 1;
  return 1;
}

int fuse_native_create_or_ask (const char *path, mode_t mode, struct fuse_file_info *info) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
  if (fuse_native_create_here(path, mode, info)) return 0;
  return fuse_native_create(path, mode, info);
}

// created_init(Int32Array): where the count of files waiting to be adopted is kept. A later call
// moves the count to its own array and lets go of the one before: every access to the count is
// made with names_lock held for writing, so once the pointer is swapped under it no FUSE thread
// writes to the old array, and the old reference can go. (Refusing a second call would be as safe,
// but a process that mounts again, or a test, could not hand over a new array.)
NAPI_METHOD(fuse_native_created_init) {
  NAPI_ARGV(1)
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, argv[0], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_int32_array || len < 1) {
    napi_throw_error(env, NULL, "created_init needs an Int32Array");
    return NULL;
  }
  // the binding writes into the array's memory: it must outlive the pointer, whatever JavaScript keeps
  napi_ref ref = NULL;
  if (napi_create_reference(env, argv[0], 1, &ref) != napi_ok) {
    napi_throw_error(env, NULL, "created_init could not hold on to its Int32Array");
    return NULL;
  }
  pthread_rwlock_wrlock(&names_lock);
  napi_ref before = created_waiting_ref;
  created_waiting_ref = ref;
  created_waiting = (int32_t *) data;
  __atomic_store_n(created_waiting, (int32_t) created_len, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&names_lock);
  if (before != NULL) napi_delete_reference(env, before);
  return NULL;
}

// created_take(): the files created here since the last call, as
// [fh, fd, id, path, mode, mtime, ...].
NAPI_METHOD(fuse_native_created_take) {
  (void) info;
  napi_value out;
  napi_create_array(env, &out);
  pthread_rwlock_wrlock(&names_lock);
  for (size_t i = 0; i < created_len; i++) {
    created_t *c = &created_queue[i];
    napi_value v[6];
    napi_create_uint32(env, c->fh, &v[0]);
    napi_create_int32(env, c->fd, &v[1]);
    napi_create_string_utf8(env, c->id, NAPI_AUTO_LENGTH, &v[2]);
    napi_create_string_utf8(env, c->path, NAPI_AUTO_LENGTH, &v[3]);
    napi_create_uint32(env, c->mode, &v[4]);
    napi_create_double(env, (double) c->mtime, &v[5]);
    for (int k = 0; k < 6; k++) napi_set_element(env, out, 6 * i + k, v[k]);
    free(c->path);
  }
  created_len = 0;
  if (created_waiting != NULL) __atomic_store_n(created_waiting, 0, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&names_lock);
  return out;
}

// with names_lock held for writing: the files created here that JavaScript has not adopted yet
// are not in its view, so a new table gets them too
void created_add_names_locked (void) {
  for (size_t i = 0; names_slots != NULL && i < created_len; i++) names_add_locked(names_hash(created_queue[i].path, strlen(created_queue[i].path)));
}

// After create, libfuse asks for the new file's attributes on the same thread: JavaScript gave
// them with its reply to create, so that round trip is saved.
int fuse_native_fgetattr_after_create (const char *path, struct stat *stat, struct fuse_file_info *info) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
  fuse_thread_locals_t *l = get_thread_locals();
  if (l->created && info != NULL && info->fh == l->created_fh) {
    l->created = 0;
    *stat = l->created_stat;
    return 0;
  }
  if (fuse_native_take_changed(path, stat)) return 0; // right after a chmod or utimens (dispatch.c)
  return fuse_native_fgetattr(path, stat, info);
}
