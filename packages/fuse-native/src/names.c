// The table of the view's names, for negative lookups: the 64-bit hashes of the paths that may
// exist, mirrored by JavaScript, so that a lookup (getattr) of any other path is answered ENOENT
// here, on the FUSE thread, without a round trip to JavaScript.
//
// Threads: FUSE threads read the table (getattr); the JavaScript thread replaces it and adds to it
// (names_reset, names_add); a FUSE thread creating a file adds its name (creates.c). names_lock
// (a read-write lock) guards the table, and also the spares and created files (spares.c,
// creates.c), so that a create takes a spare, checks and adds its name in one step.

#include "binding.h"
#include "names.h"
#include "creates.h"
#include "requests.h"

// Names: the paths that may exist in the view, mirrored by JavaScript (fuse_native_names_reset,
// fuse_native_names_add), so that a lookup of a name that does not exist is answered here, without
// a round trip to JavaScript: every new file's open(O_CREAT) starts with one. The table holds
// 64-bit hashes of view paths (UTF-8, no leading slash) and only grows between resets. A path
// found in it (or sharing a hash with one) goes to JavaScript as before, so the table can save a
// trip but never hide a file; until the first reset every lookup goes to JavaScript.

pthread_rwlock_t names_lock = PTHREAD_RWLOCK_INITIALIZER;
uint64_t *names_slots = NULL; // 0 marks an empty slot; NULL: no table, ask JavaScript
static size_t names_cap = 0; // a power of two
static size_t names_count = 0;
static char names_exempt[256]; // a top-level name always asked of JavaScript (the virtual folder)
static size_t names_exempt_len = 0;

// whether p (a path without its leading slash) is the exempt folder or inside it; takes names_lock
// for reading (names_reset sets the name under it for writing), so callers must not hold it
int names_exempt_path (const char *p) {
  pthread_rwlock_rdlock(&names_lock);
  int yes = names_exempt_len > 0 && strncmp(p, names_exempt, names_exempt_len) == 0 && (p[names_exempt_len] == 0 || p[names_exempt_len] == '/');
  pthread_rwlock_unlock(&names_lock);
  return yes;
}

uint64_t names_hash (const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char) s[i];
    h *= 0x100000001b3ULL;
  }
  return h ? h : 1;
}

static size_t names_index (uint64_t h, size_t cap) {
  return (size_t) (h ^ (h >> 31)) & (cap - 1);
}

static int names_put (uint64_t *slots, size_t cap, uint64_t h) {
  size_t i = names_index(h, cap);
  while (slots[i] != 0) {
    if (slots[i] == h) return 0;
    i = (i + 1) & (cap - 1);
  }
  slots[i] = h;
  return 1;
}

static size_t names_cap_for (size_t n) {
  size_t cap = 1024;
  while (cap < 2 * n + 2) cap *= 2;
  return cap;
}

// with names_lock held for writing
int names_has (uint64_t h) {
  for (size_t i = names_index(h, names_cap); names_slots[i] != 0; i = (i + 1) & (names_cap - 1)) {
    if (names_slots[i] == h) return 1;
  }
  return 0;
}

// with names_lock held for writing: adds a hash, growing the table (0 when there is no memory,
// and then there is no table: every lookup asks JavaScript)
int names_add_locked (uint64_t h) {
  if (2 * (names_count + 1) > names_cap) {
    size_t cap = names_cap * 2;
    uint64_t *slots = calloc(cap, sizeof(uint64_t));
    if (slots == NULL) {
      free(names_slots);
      names_slots = NULL;
      names_cap = names_count = 0;
      return 0;
    }
    for (size_t i = 0; i < names_cap; i++) if (names_slots[i] != 0) names_put(slots, cap, names_slots[i]);
    free(names_slots);
    names_slots = slots;
    names_cap = cap;
  }
  names_count += names_put(names_slots, names_cap, h);
  return 1;
}

// Whether bytes are UTF-8 that JavaScript decodes and encodes back to the same bytes; other names
// are hashed differently there, so they go to JavaScript.
static int names_utf8 (const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    i += len;
  }
  return 1;
}

// 1 when the hash of the n bytes at p is in the table, 0 when it is not, `no_table` while there is none
static int names_in_table (const char *p, size_t n, int no_table) {
  uint64_t h = names_hash(p, n);
  int yes = no_table;
  pthread_rwlock_rdlock(&names_lock);
  if (names_slots != NULL) {
    yes = 0;
    for (size_t i = names_index(h, names_cap); names_slots[i] != 0; i = (i + 1) & (names_cap - 1)) {
      if (names_slots[i] == h) { yes = 1; break; }
    }
  }
  pthread_rwlock_unlock(&names_lock);
  return yes;
}

static int names_may_exist (const char *path) {
  if (path[0] != '/' || path[1] == 0) return 1;
  const char *p = path + 1;
  size_t n = strlen(p);
  if (names_exempt_path(p)) return 1;
  if (!names_utf8((const unsigned char *) p, n)) return 1;
  return names_in_table(p, n, 1);
}

// Whether path (with its leading slash) is certainly a name JavaScript knows: not the root, not in
// the exempt folder, and its hash in the table. The table only grows between resets, so a name
// removed since (an unlink here) still holds; the kernel sends no request for such a name but
// through a dentry it cached before the removal (entry_timeout).
int names_holds (const char *path) {
  if (path[0] != '/' || path[1] == 0) return 0;
  const char *p = path + 1;
  size_t n = strlen(p);
  if (names_exempt_path(p)) return 0;
  if (!names_utf8((const unsigned char *) p, n)) return 0;
  return names_in_table(p, n, 0);
}

int fuse_native_getattr_known (const char *path, struct stat *stat) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
  if (fuse_native_take_changed(path, stat)) return 0; // right after a chmod or utimens (dispatch.c)
  if (!names_may_exist(path)) return -ENOENT;
  return fuse_native_getattr(path, stat);
}

// names_reset(paths, exempt): the table becomes the NUL-separated UTF-8 paths of a Buffer, and
// `exempt` the top-level name whose paths always go to JavaScript.
NAPI_METHOD(fuse_native_names_reset) {
  NAPI_ARGV(2)
  NAPI_ARGV_BUFFER(paths, 0)
  NAPI_ARGV_UTF8(exempt, 256, 1)
  size_t n = 0;
  for (size_t i = 0; i < paths_len; i++) if (paths[i] == 0) n++;
  size_t cap = names_cap_for(n + 1);
  uint64_t *slots = calloc(cap, sizeof(uint64_t)); // without it (no memory), no table
  size_t count = 0;
  for (size_t at = 0; slots != NULL && at < paths_len; ) {
    size_t end = at;
    while (end < paths_len && paths[end] != 0) end++;
    if (end > at) count += names_put(slots, cap, names_hash(paths + at, end - at));
    at = end + 1;
  }
  pthread_rwlock_wrlock(&names_lock);
  uint64_t *old = names_slots;
  names_slots = slots;
  names_cap = slots != NULL ? cap : 0;
  names_count = count;
  // files created here that JavaScript has not adopted yet are not in its view: they stay
  created_add_names_locked();
  snprintf(names_exempt, sizeof(names_exempt), "%s", exempt);
  names_exempt_len = strlen(names_exempt);
  pthread_rwlock_unlock(&names_lock);
  free(old);
  return NULL;
}

// names_add(path): one more path that may exist.
NAPI_METHOD(fuse_native_names_add) {
  NAPI_ARGV(1)
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], NULL, 0, &len);
  char small[1024];
  char *p = len < sizeof(small) ? small : malloc(len + 1);
  uint64_t h = 0;
  if (p != NULL) {
    napi_get_value_string_utf8(env, argv[0], p, len + 1, &len);
    h = names_hash(p, len);
    if (p != small) free(p);
  }
  pthread_rwlock_wrlock(&names_lock);
  if (names_slots != NULL && h == 0) { // a name it could not hash: no table
    free(names_slots);
    names_slots = NULL;
    names_cap = names_count = 0;
  }
  if (names_slots != NULL) names_add_locked(h);
  pthread_rwlock_unlock(&names_lock);
  return NULL;
}
