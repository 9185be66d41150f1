// What every part of the binding shares: the headers it is built on; the record of a mount
// (fuse_thread_t) and of each FUSE thread (fuse_thread_locals_t) that the JavaScript bridge keeps
// (dispatch.c); and the operations that the other parts hand to JavaScript when they do not answer
// a request themselves (defined by FUSE_METHOD in dispatch.c, called on FUSE threads only).
#ifndef FUSE_NATIVE_BINDING_H
#define FUSE_NATIVE_BINDING_H

#define FUSE_USE_VERSION 29

#include <uv.h>
#include <node_api.h>
#include <napi-macros.h>

#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <assert.h>

#include <fuse.h>
#include <fuse_opt.h>
#include <fuse_common.h>
#include <fuse_lowlevel.h>
#include <fuse_kernel.h>

#include <unistd.h>
#include <sys/wait.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>

typedef struct {
  napi_env env;
  pthread_t thread;
  pthread_attr_t attr;
  napi_ref ctx;
  napi_ref malloc;

  // Operation handlers
  napi_ref handlers[35];

  struct fuse *fuse;
  struct fuse_chan *ch;
  char mnt[1024];
  char mntopts[1024];
  int mounted;

  uv_async_t async;
  uv_mutex_t mut;
  uv_sem_t sem;
} fuse_thread_t;

typedef struct {
  napi_ref self;

  // Opcode
  uint32_t op;
  void *op_fn;

  // Payloads
  const char *path;
  const char *dest;
  char *linkname;
  struct fuse_file_info *info;
  const void *buf;
  off_t offset;
  size_t len;
  mode_t mode;
  dev_t dev;
  uid_t uid;
  gid_t gid;
  size_t atime;
  size_t mtime;
  int32_t res;

  // Extended attributes
  const char *name;
  const char *value;
  char *list;
  size_t size;
  uint32_t position;
  int flags;

  // Stat + Statfs
  struct stat *stat;
  struct statvfs *statvfs;

  // Readdir
  fuse_fill_dir_t readdir_filler;

  // The attributes JavaScript gave with the reply to create, for the fgetattr libfuse makes next
  int created;
  uint64_t created_fh;
  struct stat created_stat;

  // The attributes JavaScript gave with its reply to a chmod or utimens, for the getattr (or
  // fgetattr) libfuse makes next on this thread to answer the setattr (fuse_lib_setattr); the
  // path is copied, so a getattr of another path, on this thread later, never takes them
  int changed;
  struct stat changed_stat;
  char changed_path[4096];

  // Internal bookkeeping
  fuse_thread_t *fuse;
  uv_sem_t sem;
  uv_async_t async;

} fuse_thread_locals_t;

// This FUSE thread's record, made by the JavaScript thread on the thread's first request.
fuse_thread_locals_t* get_thread_locals (void);

int fuse_native_getattr (const char *path, struct stat *stat);
int fuse_native_fgetattr (const char *path, struct stat *stat, struct fuse_file_info *info);
int fuse_native_open (const char *path, struct fuse_file_info *info);
int fuse_native_read (const char *path, char *buf, size_t len, off_t offset, struct fuse_file_info *info);
int fuse_native_write (const char *path, const char *buf, size_t len, off_t offset, struct fuse_file_info *info);
int fuse_native_create (const char *path, mode_t mode, struct fuse_file_info *info);
int fuse_native_chown (const char *path, uid_t uid, gid_t gid);
// the attributes a chmod's or utimens's reply gave for `path`, taken once: 1 when there were
// (a NULL path drops them)
int fuse_native_take_changed (const char *path, struct stat *stat);

#endif
