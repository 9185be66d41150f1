// New files created on the FUSE threads (creates.c).
#ifndef FUSE_NATIVE_CREATES_H
#define FUSE_NATIVE_CREATES_H

#include "binding.h"

// create: here when the name is certainly new and a spare is ready, else by JavaScript
int fuse_native_create_or_ask (const char *path, mode_t mode, struct fuse_file_info *info);
// fgetattr: right after a create, from the attributes the create gave
int fuse_native_fgetattr_after_create (const char *path, struct stat *stat, struct fuse_file_info *info);
// with names_lock held for writing: adds the names of the files not adopted yet to the table
void created_add_names_locked (void);

// the owner JavaScript set (fuse_native_owner): 0 before it did
int owner_of (uint32_t *uid, uint32_t *gid);

NAPI_METHOD(fuse_native_owner);
NAPI_METHOD(fuse_native_created_init);
NAPI_METHOD(fuse_native_created_take);

#endif
