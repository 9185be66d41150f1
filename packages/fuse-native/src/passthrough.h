// The kernel's read passthrough and the binding's channel to /dev/fuse (passthrough.c).
#ifndef FUSE_NATIVE_PASSTHROUGH_H
#define FUSE_NATIVE_PASSTHROUGH_H

#include "binding.h"

// The binding's channel in place of libfuse's (kernel_ch) for a new mount.
struct fuse_chan *passthrough_channel (struct fuse_chan *kernel_ch);

// open, but a write open of an inode the kernel is reading gets a new inode first (ESTALE)
int fuse_native_open_beside_kernel (const char *path, struct fuse_file_info *info);

NAPI_METHOD(fuse_native_kernel_passthrough);
NAPI_METHOD(fuse_native_kernel_passthrough_stats);

#endif
