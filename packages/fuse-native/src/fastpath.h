// Reads and writes of open files served on the FUSE threads (fastpath.c).
#ifndef FUSE_NATIVE_FASTPATH_H
#define FUSE_NATIVE_FASTPATH_H

#include "binding.h"

// Handles JavaScript gives (from 1, reused) and descriptors below this are served here.
#define PASSTHROUGH_SLOTS 65536

// Handles of files created here (creates.c): CREATED_BASE + slot, far above the handles
// JavaScript gives.
#define CREATED_BASE 0x40000000u
#define CREATED_SLOTS 4096

typedef struct {
  int written;
  uint64_t end;
} passthrough_writes_t;

// fd -> the furthest write made here since JavaScript last asked (atomics)
extern passthrough_writes_t passthrough_writes[PASSTHROUGH_SLOTS];
// created slot -> fd + 1 (0: free) (atomics)
extern int created_fds[CREATED_SLOTS];
// file handle -> its opens may be handed to the kernel's passthrough (atomics)
extern unsigned char passthrough_kernel_ok[PASSTHROUGH_SLOTS];

// the descriptor fh is tied to, or -1
int passthrough_fd (uint64_t fh);

int fuse_native_read_buf (const char *path, struct fuse_bufvec **bufp, size_t size, off_t offset, struct fuse_file_info *info);
int fuse_native_write_buf (const char *path, struct fuse_bufvec *buf, off_t offset, struct fuse_file_info *info);

NAPI_METHOD(fuse_native_passthrough_open);
NAPI_METHOD(fuse_native_passthrough_written);

#endif
