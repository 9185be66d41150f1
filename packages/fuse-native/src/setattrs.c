// Attribute changes answered on the FUSE threads. chown: every file is the mount's owner's
// (src/fuse/attributes.ts, chown), so a chown that keeps the owner and group (or leaves them, -1)
// is allowed and any other refused, EPERM, whatever the file. Here that answer is given for a name
// JavaScript certainly knows (in the names table, outside the exempt folder: names_holds), once
// JavaScript has said whose the files are (fuse_native_owner) and switched this on
// (fuse_native_setattrs_here; a read-only mount does not, its handlers refuse every change). Every
// other chown goes to JavaScript as before: the root, the virtual folder, a name not in the table.
//
// Threads: the switch is set by the JavaScript thread and read by the FUSE threads (atomics); the
// owner and the table are read under their own rules (creates.c, names.c).

#include "binding.h"
#include "names.h"
#include "creates.h"
#include "setattrs.h"
#include "requests.h"

static int setattrs_on = 0;

// setattrs_here(on): whether the FUSE threads answer the changes they can
NAPI_METHOD(fuse_native_setattrs_here) {
  NAPI_ARGV(1)
  NAPI_ARGV_UINT32(on, 0)
  __atomic_store_n(&setattrs_on, on ? 1 : 0, __ATOMIC_RELEASE);
  return NULL;
}

int fuse_native_chown_or_ask (const char *path, uid_t uid, gid_t gid) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
  uint32_t owner_uid, owner_gid;
  if (__atomic_load_n(&setattrs_on, __ATOMIC_ACQUIRE) && owner_of(&owner_uid, &owner_gid) && names_holds(path)) {
    int keep_uid = uid == (uid_t) -1 || uid == owner_uid;
    int keep_gid = gid == (gid_t) -1 || gid == owner_gid;
    if (keep_uid && keep_gid) return 0;
    // a refusal ends libfuse's setattr without its getattr: the attributes a chmod before it in
    // the same setattr gave (dispatch.c, keep_changed) must not answer a later getattr
    fuse_native_take_changed(NULL, NULL);
    return -EPERM;
  }
  return fuse_native_chown(path, uid, gid);
}
