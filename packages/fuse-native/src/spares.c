// The spares: empty staging files made ahead, by a thread of the binding's own, so that a create
// on a FUSE thread (creates.c) has a file to hand out at once.
//
// Threads: the maker thread (spares_maker) opens files and adds them to the spares; a FUSE thread
// creating a file takes one and wakes the maker when few are left (spares_want); the JavaScript
// thread starts the maker (spares_start) and, before unmounting, stops it and takes back the
// spares not used (spares_reclaim). names_lock guards the spares themselves (a create takes one
// under it); spares_mutex and spares_cond guard the maker's state (running, wanted).

#include "binding.h"
#include "names.h"
#include "fastpath.h"
#include "spares.h"

// under names_lock (written with it held for writing)
spare_t spares[SPARES_MAX];
size_t spares_count = 0;

// The spares are made by a thread of the binding's own (fuse_native_spares_start), a batch at a
// time once fewer than SPARES_LOW are left: one wake-up per batch, where a thread-pool job per
// file cost one each.
static pthread_mutex_t spares_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spares_cond = PTHREAD_COND_INITIALIZER;
static int spares_making = 0; // 1 while the maker thread runs; 0 once reclaimed
static int spares_wanted = 0;
static char spares_dir[4096];
static char spares_prefix[SPARE_ID_MAX - 16];
static uint64_t spares_serial = 0;

static void *spares_maker (void *arg) {
  (void) arg;
  for (;;) {
    pthread_mutex_lock(&spares_mutex);
    while (spares_making && !spares_wanted) pthread_cond_wait(&spares_cond, &spares_mutex);
    spares_wanted = 0;
    int run = spares_making;
    pthread_mutex_unlock(&spares_mutex);
    if (!run) return NULL;
    while (__atomic_load_n(&spares_count, __ATOMIC_ACQUIRE) < SPARES_MAX) {
      spare_t spare;
      snprintf(spare.id, SPARE_ID_MAX, "%s%llx", spares_prefix, (unsigned long long) spares_serial++);
      char file[4096 + SPARE_ID_MAX + 2];
      snprintf(file, sizeof(file), "%s/%s", spares_dir, spare.id);
      spare.fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (spare.fd < 0) break; // a create goes to JavaScript instead, which says what is wrong
      pthread_rwlock_wrlock(&names_lock);
      int kept = __atomic_load_n(&spares_making, __ATOMIC_ACQUIRE) && spare.fd < PASSTHROUGH_SLOTS && spares_count < SPARES_MAX;
      if (kept) {
        spares[spares_count] = spare;
        __atomic_store_n(&spares_count, spares_count + 1, __ATOMIC_RELEASE);
      }
      pthread_rwlock_unlock(&names_lock);
      if (!kept) {
        close(spare.fd);
        unlink(file);
        break;
      }
    }
  }
}

void spares_want (void) {
  pthread_mutex_lock(&spares_mutex);
  spares_wanted = 1;
  pthread_cond_signal(&spares_cond);
  pthread_mutex_unlock(&spares_mutex);
}

// spares_start(dir, prefix): the binding makes its spares in dir, named prefix + a number.
NAPI_METHOD(fuse_native_spares_start) {
  NAPI_ARGV(2)
  NAPI_ARGV_UTF8(dir, 4096, 0)
  NAPI_ARGV_UTF8(prefix, SPARE_ID_MAX - 16, 1)
  pthread_mutex_lock(&spares_mutex);
  int ok = !spares_making;
  if (ok) {
    snprintf(spares_dir, sizeof(spares_dir), "%s", dir);
    snprintf(spares_prefix, sizeof(spares_prefix), "%s", prefix);
    __atomic_store_n(&spares_making, 1, __ATOMIC_RELEASE);
    spares_wanted = 1;
    pthread_t t;
    if (pthread_create(&t, NULL, spares_maker, NULL) == 0) pthread_detach(t);
    else {
      __atomic_store_n(&spares_making, 0, __ATOMIC_RELEASE);
      ok = 0;
    }
  }
  pthread_mutex_unlock(&spares_mutex);
  NAPI_RETURN_INT32(ok)
}

// spares_reclaim(): the spares not used, as [fd, id, fd, id, ...]; no file is created here after,
// and the maker thread stops (removing what it is making).
NAPI_METHOD(fuse_native_spares_reclaim) {
  (void) info;
  napi_value out;
  napi_create_array(env, &out);
  pthread_mutex_lock(&spares_mutex);
  __atomic_store_n(&spares_making, 0, __ATOMIC_RELEASE);
  pthread_cond_signal(&spares_cond);
  pthread_mutex_unlock(&spares_mutex);
  pthread_rwlock_wrlock(&names_lock);
  for (size_t i = 0; i < spares_count; i++) {
    napi_value fd, id;
    napi_create_int32(env, spares[i].fd, &fd);
    napi_create_string_utf8(env, spares[i].id, NAPI_AUTO_LENGTH, &id);
    napi_set_element(env, out, 2 * i, fd);
    napi_set_element(env, out, 2 * i + 1, id);
  }
  __atomic_store_n(&spares_count, 0, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&names_lock);
  return out;
}
