// Attribute changes answered on the FUSE threads (setattrs.c).
#ifndef FUSE_NATIVE_SETATTRS_H
#define FUSE_NATIVE_SETATTRS_H

#include "binding.h"

// chown: here when the name is in the table and the owner is known, else by JavaScript
int fuse_native_chown_or_ask (const char *path, uid_t uid, gid_t gid);

NAPI_METHOD(fuse_native_setattrs_here);

#endif
