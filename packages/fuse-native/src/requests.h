// The requests the mount serves, counted for the daemon to tell a mount in use from an idle one:
// its write-back waits while the mount is in use. Requests under the quiet folder (the daemon's
// own status files, which its commands poll while they wait for the write-back) do not count, nor
// do those for the root itself, which every path walk revalidates, nor flushes (a process holding
// a file open sends one each time it starts a program: the child's copy of the descriptor closes).
#ifndef FUSE_NATIVE_REQUESTS_H
#define FUSE_NATIVE_REQUESTS_H

#include "binding.h"

// Counts a request for `path` (libfuse's, with its leading slash); called on FUSE threads.
void note_request (const char *path);

NAPI_METHOD(fuse_native_requests_served);
NAPI_METHOD(fuse_native_requests_quiet);

#endif
