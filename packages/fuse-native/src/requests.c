// The count of requests served (requests.h). One word, added to with a relaxed atomic: the daemon
// compares two readings, never orders anything by it. The quiet folder is set before mounting and
// only read after, so FUSE threads read it without a lock.

#include "requests.h"

static uint64_t served = 0;
static char quiet[256];
static size_t quiet_len = 0;

// The quiet folder is the names table's exempt folder (names_exempt_path), checked here without
// its lock: this runs for every read and write.
void note_request (const char *path) {
  if (path != NULL && path[0] == '/') {
    const char *p = path + 1;
    // the root itself: the kernel asks for its attributes again on a path walk once they are a
    // second old, the status commands' walks to the quiet folder too
    if (p[0] == 0) return;
    if (quiet_len > 0 && strncmp(p, quiet, quiet_len) == 0 && (p[quiet_len] == 0 || p[quiet_len] == '/')) return;
  }
  __atomic_fetch_add(&served, 1, __ATOMIC_RELAXED);
}

// fuse_native_requests_served() -> the requests counted since the module loaded
NAPI_METHOD(fuse_native_requests_served) {
  (void) info;
  napi_value out;
  napi_create_double(env, (double) __atomic_load_n(&served, __ATOMIC_RELAXED), &out);
  return out;
}

// fuse_native_requests_quiet(name): requests for the top-level folder `name` and below are not
// counted; before mounting only ("" counts every request)
NAPI_METHOD(fuse_native_requests_quiet) {
  NAPI_ARGV(1)
  NAPI_ARGV_UTF8(name, 256, 0)
  snprintf(quiet, sizeof(quiet), "%s", name);
  quiet_len = strlen(quiet);
  return NULL;
}
