// The table of the view's names (names.c).
#ifndef FUSE_NATIVE_NAMES_H
#define FUSE_NATIVE_NAMES_H

#include "binding.h"

// Guards the table, the spares (spares.c) and the files created here (creates.c).
extern pthread_rwlock_t names_lock;
// The table's slots; NULL while there is no table (every lookup goes to JavaScript). Under names_lock.
extern uint64_t *names_slots;

// whether p (a path without its leading slash) is the exempt folder or inside it (takes names_lock:
// not to be called with it held)
int names_exempt_path (const char *p);
// a view path's hash as JavaScript computes it (FNV-1a, never 0)
uint64_t names_hash (const char *s, size_t n);
// with names_lock held for writing, and a table
int names_has (uint64_t h);
// with names_lock held for writing: 0 when there was no memory, and then there is no table
int names_add_locked (uint64_t h);

// whether path (with its leading slash) is in the table, outside the exempt folder, not the root
int names_holds (const char *path);
// getattr, answering ENOENT for a path not in the table
int fuse_native_getattr_known (const char *path, struct stat *stat);

NAPI_METHOD(fuse_native_names_reset);
NAPI_METHOD(fuse_native_names_add);

#endif
