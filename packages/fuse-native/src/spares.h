// Empty staging files made ahead for creates (spares.c).
#ifndef FUSE_NATIVE_SPARES_H
#define FUSE_NATIVE_SPARES_H

#include "binding.h"

#define SPARES_MAX 64
#define SPARE_ID_MAX 64
// fewer left than this: the maker makes another batch
#define SPARES_LOW 16

typedef struct {
  int fd;
  char id[SPARE_ID_MAX];
} spare_t;

// under names_lock (written with it held for writing)
extern spare_t spares[SPARES_MAX];
extern size_t spares_count;

// wakes the maker thread to make spares up to SPARES_MAX
void spares_want (void);

NAPI_METHOD(fuse_native_spares_start);
NAPI_METHOD(fuse_native_spares_reclaim);

#endif
