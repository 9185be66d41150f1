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

static int IS_ARRAY_BUFFER_DETACH_SUPPORTED = 0;

napi_status napi_detach_arraybuffer(napi_env env, napi_value buf);

#define FUSE_NATIVE_CALLBACK(fn, blk)\
  napi_env env = ft->env;\
  napi_handle_scope scope;\
  napi_open_handle_scope(env, &scope);\
  napi_value ctx;\
  napi_get_reference_value(env, ft->ctx, &ctx);\
  napi_value callback;\
  napi_get_reference_value(env, fn, &callback);\
  blk\
  napi_close_handle_scope(env, scope);

#define FUSE_NATIVE_HANDLER(name, blk)\
  fuse_thread_locals_t *l = get_thread_locals();\
  l->created = 0;\
  l->op = op_##name;\
  l->op_fn = fuse_native_dispatch_##name;\
  blk\
  uv_async_send(&(l->async));\
  uv_sem_wait(&(l->sem));\
  return l->res;

#define FUSE_METHOD(name, callbackArgs, signalArgs, signature, callBlk, callbackBlk, signalBlk)\
  static void fuse_native_dispatch_##name (uv_async_t* handle, fuse_thread_locals_t* l, fuse_thread_t* ft) {\
    (void) handle;\
    uint32_t op = op_##name;\
    FUSE_NATIVE_CALLBACK(ft->handlers[op], {\
      napi_value argv[callbackArgs + 2];\
      napi_get_reference_value(env, l->self, &(argv[0]));\
      napi_create_uint32(env, l->op, &(argv[1]));\
      callbackBlk\
      NAPI_MAKE_CALLBACK(env, NULL, ctx, callback, callbackArgs + 2, argv, NULL)\
    })\
  }\
  NAPI_METHOD(fuse_native_signal_##name) {\
    NAPI_ARGV(signalArgs + 2)\
    NAPI_ARGV_BUFFER_CAST(fuse_thread_locals_t *, l, 0);\
    NAPI_ARGV_INT32(res, 1);\
    signalBlk\
    l->res = res;\
    uv_sem_post(&(l->sem));\
    return NULL;\
  }\
  static int fuse_native_##name signature {\
    FUSE_NATIVE_HANDLER(name, callBlk)\
  }

#define FUSE_METHOD_VOID(name, callbackArgs, signalArgs, signature, callBlk, callbackBlk)\
  FUSE_METHOD(name, callbackArgs, signalArgs, signature, callBlk, callbackBlk, {})

#define FUSE_UINT64_TO_INTS_ARGV(n, pos)\
  uint32_t low##pos = n % 4294967296;\
  uint32_t high##pos = (n - low##pos) / 4294967296;\
  napi_create_uint32(env, low##pos, &(argv[pos]));\
  napi_create_uint32(env, high##pos, &(argv[pos + 1]));


// Opcodes

static const uint32_t op_init = 0;
static const uint32_t op_error = 1;
static const uint32_t op_access = 2;
static const uint32_t op_statfs = 3;
static const uint32_t op_fgetattr = 4;
static const uint32_t op_getattr = 5;
static const uint32_t op_flush = 6;
static const uint32_t op_fsync = 7;
static const uint32_t op_fsyncdir = 8;
static const uint32_t op_readdir = 9;
static const uint32_t op_truncate = 10;
static const uint32_t op_ftruncate = 11;
static const uint32_t op_utimens = 12;
static const uint32_t op_readlink = 13;
static const uint32_t op_chown = 14;
static const uint32_t op_chmod = 15;
static const uint32_t op_mknod = 16;
static const uint32_t op_setxattr = 17;
static const uint32_t op_getxattr = 18;
static const uint32_t op_listxattr = 19;
static const uint32_t op_removexattr = 20;
static const uint32_t op_open = 21;
static const uint32_t op_opendir = 22;
static const uint32_t op_read = 23;
static const uint32_t op_write = 24;
static const uint32_t op_release = 25;
static const uint32_t op_releasedir = 26;
static const uint32_t op_create = 27;
static const uint32_t op_unlink = 28;
static const uint32_t op_rename = 29;
static const uint32_t op_link = 30;
static const uint32_t op_symlink = 31;
static const uint32_t op_mkdir = 32;
static const uint32_t op_rmdir = 33;

// Data structures

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

  // Internal bookkeeping
  fuse_thread_t *fuse;
  uv_sem_t sem;
  uv_async_t async;

} fuse_thread_locals_t;

static pthread_key_t thread_locals_key;
static fuse_thread_locals_t* get_thread_locals();

// Helpers
// TODO: Extract into a separate file.

static uint64_t uint32s_to_uint64 (uint32_t **ints) {
  uint64_t low = *((*ints)++);
  uint64_t high = *((*ints)++);
  return high * 4294967296 + low;
}

static void uint32s_to_timespec (struct timespec* ts, uint32_t** ints) {
  uint64_t ms = uint32s_to_uint64(ints);
  ts->tv_sec = ms / 1000;
  ts->tv_nsec = (ms % 1000) * 1000000;
}

static uint64_t timespec_to_uint64 (const struct timespec* ts) {
  uint64_t ms = (ts->tv_sec * 1000) + (ts->tv_nsec / 1000000);
  return ms;
}

// UTIME_NOW and UTIME_OMIT reach JavaScript as two sentinels above any real time
static uint64_t utime_to_uint64 (const struct timespec* ts) {
  if (ts->tv_nsec == UTIME_OMIT) return 0xFFFFFFFFFFFFFULL;
  if (ts->tv_nsec == UTIME_NOW) return 0xFFFFFFFFFFFFEULL;
  return timespec_to_uint64(ts);
}

static void populate_stat (uint32_t *ints, struct stat* stat) {
  stat->st_mode = *ints++;
  stat->st_uid = *ints++;
  stat->st_gid = *ints++;
  stat->st_size = uint32s_to_uint64(&ints);
  stat->st_dev = *ints++;
  stat->st_nlink = *ints++;
  stat->st_ino = *ints++;
  stat->st_rdev = *ints++;
  stat->st_blksize = *ints++;
  stat->st_blocks = uint32s_to_uint64(&ints);
#ifdef __APPLE__
  uint32s_to_timespec(&stat->st_atimespec, &ints);
  uint32s_to_timespec(&stat->st_mtimespec, &ints);
  uint32s_to_timespec(&stat->st_ctimespec, &ints);
#else
  uint32s_to_timespec(&stat->st_atim, &ints);
  uint32s_to_timespec(&stat->st_mtim, &ints);
  uint32s_to_timespec(&stat->st_ctim, &ints);
#endif
}

static void populate_statvfs (uint32_t *ints, struct statvfs* statvfs) {
  statvfs->f_bsize = *ints++;
  statvfs->f_frsize = *ints++;
  statvfs->f_blocks = *ints++;
  statvfs->f_bfree = *ints++;
  statvfs->f_bavail = *ints++;
  statvfs->f_files = *ints++;
  statvfs->f_ffree = *ints++;
  statvfs->f_favail = *ints++;
  statvfs->f_fsid = *ints++;
  statvfs->f_flag = *ints++;
  statvfs->f_namemax = *ints++;
}

// Methods

FUSE_METHOD(statfs, 1, 1, (const char * path, struct statvfs *statvfs), {
  l->path = path;
  l->statvfs = statvfs;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
}, {
  NAPI_ARGV_BUFFER_CAST(uint32_t*, ints, 2)
  populate_statvfs(ints, l->statvfs);
})

FUSE_METHOD(getattr, 1, 1, (const char *path, struct stat *stat), {
  l->path = path;
  l->stat = stat;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
}, {
  NAPI_ARGV_BUFFER_CAST(uint32_t*, ints, 2)
  populate_stat(ints, l->stat);
})

FUSE_METHOD(fgetattr, 2, 1, (const char *path, struct stat *stat, struct fuse_file_info *info), {
  l->path = path;
  l->stat = stat;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[3]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
  }
}, {
  NAPI_ARGV_BUFFER_CAST(uint32_t*, ints, 2)
  populate_stat(ints, l->stat);
})

FUSE_METHOD_VOID(access, 2, 0, (const char *path, int mode), {
  l->path = path;
  l->mode = mode;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
})

FUSE_METHOD(open, 2, 1, (const char *path, struct fuse_file_info *info), {
  l->path = path;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->flags, &(argv[3]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
  }
}, {
  NAPI_ARGV_INT32(fd, 2)
  if (fd != 0) {
    l->info->fh = fd;
  }
})

FUSE_METHOD(opendir, 3, 1, (const char *path, struct fuse_file_info *info), {
  l->path = path;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[3]));
    napi_create_uint32(env, l->info->flags, &(argv[4]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
    napi_create_uint32(env, 0, &(argv[4]));
  }
}, {
  NAPI_ARGV_INT32(fd, 2)
  if (fd != 0) {
    l->info->fh = fd;
  }
})

FUSE_METHOD(create, 2, 2, (const char *path, mode_t mode, struct fuse_file_info *info), {
  l->path = path;
  l->mode = mode;
  l->info = info;
  l->created = 0;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
}, {
  NAPI_ARGV_INT32(fd, 2)
  if (fd != 0) {
    l->info->fh = fd;
  }
  napi_valuetype stat_type;
  uint32_t *stat_ints;
  size_t stat_len;
  if (res == 0 && argc > 3 && napi_typeof(env, argv[3], &stat_type) == napi_ok && stat_type == napi_object &&
      napi_get_buffer_info(env, argv[3], (void **) &stat_ints, &stat_len) == napi_ok && stat_len >= 18 * sizeof(uint32_t)) {
    populate_stat(stat_ints, &l->created_stat);
    l->created_fh = l->info->fh;
    l->created = 1;
  }
})

FUSE_METHOD_VOID(utimens, 5, 0, (const char *path, const struct timespec tv[2]), {
  l->path = path;
  l->atime = utime_to_uint64(&tv[0]);
  l->mtime = utime_to_uint64(&tv[1]);
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  FUSE_UINT64_TO_INTS_ARGV(l->atime, 3)
  FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)
})

FUSE_METHOD_VOID(release, 2, 0, (const char *path, struct fuse_file_info *info), {
  l->path = path;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[3]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
  }
})

FUSE_METHOD_VOID(releasedir, 2, 0, (const char *path, struct fuse_file_info *info), {
  l->path = path;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[3]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
  }
})

FUSE_METHOD(read, 6, 2, (const char *path, char *buf, size_t len, off_t offset, struct fuse_file_info *info), {
  l->path = path;
  l->buf = buf;
  l->len = len;
  l->offset = offset;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->info->fh, &(argv[3]));
  napi_create_external_buffer(env, l->len, (char *) l->buf, NULL, NULL, &(argv[4]));
  napi_create_uint32(env, l->len, &(argv[5]));
  FUSE_UINT64_TO_INTS_ARGV(l->offset, 6)
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[3]) == napi_ok);
})

FUSE_METHOD(write, 6, 2, (const char *path, const char *buf, size_t len, off_t offset, struct fuse_file_info *info), {
  l->path = path;
  l->buf = buf;
  l->len = len;
  l->offset = offset;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->info->fh, &(argv[3]));
  napi_create_external_buffer(env, l->len, (char *) l->buf, NULL, NULL, &(argv[4]));
  napi_create_uint32(env, l->len, &(argv[5]));
  FUSE_UINT64_TO_INTS_ARGV(l->offset, 6)
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[3]) == napi_ok);
})

FUSE_METHOD(readdir, 1, 2, (const char *path, void *buf, fuse_fill_dir_t filler, off_t offset, struct fuse_file_info *info), {
  l->buf = buf;
  l->path = path;
  l->offset = offset;
  l->info = info;
  l->readdir_filler = filler;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
}, {
  uint32_t stats_length;
  uint32_t names_length;
  napi_get_array_length(env, argv[3], &stats_length);
  napi_get_array_length(env, argv[2], &names_length);

  napi_value raw_names = argv[2];
  napi_value raw_stats = argv[3];

  if (names_length != stats_length) {
    NAPI_FOR_EACH(raw_names, raw_name) {
      NAPI_UTF8(name, 1024, raw_name)
      int err = l->readdir_filler((char *) l->buf, name, NULL, 0);
      if (err == 1) {
        break;
      }
    }
  } else {
    NAPI_FOR_EACH(raw_names, raw_name) {
      NAPI_UTF8(name, 1024, raw_name)
      napi_value raw_stat;
      napi_get_element(env, raw_stats, i, &raw_stat);

      NAPI_BUFFER_CAST(uint32_t*, stats_array, raw_stat);
      struct stat st;
      populate_stat(stats_array, &st);

      // TODO: It turns out readdirplus likely won't work with FUSE 29...
      // Metadata caching between readdir/getattr will be enabled when we upgrade fuse-shared-library
      int err = l->readdir_filler((char *) l->buf, name, (struct stat *) &st, 0);
      if (err == 1) {
        break;
      }
    }
  }
})

#ifdef __APPLE__

FUSE_METHOD(setxattr, 5, 1, (const char *path, const char *name, const char *value, size_t size, int flags, uint32_t position), {
  l->path = path;
  l->name = name;
  l->value = value;
  l->size = size;
  l->flags = flags;
  l->position = position;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->name, NAPI_AUTO_LENGTH, &(argv[3]));
  napi_create_external_buffer(env, l->size, (char *) l->value, NULL, NULL, &(argv[4]));
  napi_create_uint32(env, l->position, &(argv[5]));
  napi_create_uint32(env, l->flags, &(argv[6]));
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[2]) == napi_ok);
})

FUSE_METHOD(getxattr, 4, 1, (const char *path, const char *name, char *value, size_t size, uint32_t position), {
  l->path = path;
  l->name = name;
  l->value = value;
  l->size = size;
  l->position = position;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->name, NAPI_AUTO_LENGTH, &(argv[3]));
  napi_create_external_buffer(env, l->size, (char *) l->value, NULL, NULL, &(argv[4]));
  napi_create_uint32(env, l->position, &(argv[5]));
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[2]) == napi_ok);
})

#else

FUSE_METHOD(setxattr, 5, 1, (const char *path, const char *name, const char *value, size_t size, int flags), {
  l->path = path;
  l->name = name;
  l->value = value;
  l->size = size;
  l->flags = flags;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->name, NAPI_AUTO_LENGTH, &(argv[3]));
  napi_create_external_buffer(env, l->size, (char *) l->value, NULL, NULL, &(argv[4]));
  napi_create_uint32(env, 0, &(argv[5])); // normalize apis between mac and linux
  napi_create_uint32(env, l->flags, &(argv[6]));
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[2]) == napi_ok);
})

FUSE_METHOD(getxattr, 4, 1, (const char *path, const char *name, char *value, size_t size), {
  l->path = path;
  l->name = name;
  l->value = value;
  l->size = size;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->name, NAPI_AUTO_LENGTH, &(argv[3]));
  napi_create_external_buffer(env, l->size, (char *) l->value, NULL, NULL, &(argv[4]));
  napi_create_uint32(env, 0, &(argv[5]));
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[2]) == napi_ok);
})

#endif

FUSE_METHOD(listxattr, 2, 1, (const char *path, char *list, size_t size), {
  l->path = path;
  l->list = list;
  l->size = size;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_external_buffer(env, l->size, l->list, NULL, NULL, &(argv[3]));
}, {
  if (IS_ARRAY_BUFFER_DETACH_SUPPORTED == 1) assert(napi_detach_arraybuffer(env, argv[2]) == napi_ok);
})

FUSE_METHOD_VOID(removexattr, 2, 0, (const char *path, const char *name), {
  l->path = path;
  l->name = name;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->name, NAPI_AUTO_LENGTH, &(argv[3]));
})

FUSE_METHOD_VOID(flush, 2, 0, (const char *path, struct fuse_file_info *info), {
  l->path = path;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[3]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
  }
})

FUSE_METHOD_VOID(fsync, 3, 0, (const char *path, int datasync, struct fuse_file_info *info), {
  l->path = path;
  l->mode = datasync;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[4]));
  } else {
    napi_create_uint32(env, 0, &(argv[4]));
  }
})

FUSE_METHOD_VOID(fsyncdir, 3, 0, (const char *path, int datasync, struct fuse_file_info *info), {
  l->path = path;
  l->mode = datasync;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[4]));
  } else {
    napi_create_uint32(env, 0, &(argv[4]));
  }
})


FUSE_METHOD_VOID(truncate, 3, 0, (const char *path, off_t size), {
  l->path = path;
  l->offset = size;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  FUSE_UINT64_TO_INTS_ARGV(l->offset, 3)
})

FUSE_METHOD_VOID(ftruncate, 4, 0, (const char *path, off_t size, struct fuse_file_info *info), {
  l->path = path;
  l->offset = size;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  if (l->info != NULL) {
    napi_create_uint32(env, l->info->fh, &(argv[3]));
  } else {
    napi_create_uint32(env, 0, &(argv[3]));
  }
  FUSE_UINT64_TO_INTS_ARGV(l->offset, 4)
})

FUSE_METHOD(readlink, 1, 1, (const char *path, char *linkname, size_t len), {
  l->path = path;
  l->linkname = linkname;
  l->len = len;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
}, {
  NAPI_ARGV_UTF8(linkname, l->len, 2)
  strncpy(l->linkname, linkname, l->len);
})

FUSE_METHOD_VOID(chown, 3, 0, (const char *path, uid_t uid, gid_t gid), {
  l->path = path;
  l->uid = uid;
  l->gid = gid;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->uid, &(argv[3]));
  napi_create_uint32(env, l->gid, &(argv[4]));
})

FUSE_METHOD_VOID(chmod, 2, 0, (const char *path, mode_t mode), {
  l->path = path;
  l->mode = mode;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
})

FUSE_METHOD_VOID(mknod, 3, 0, (const char *path, mode_t mode, dev_t dev), {
  l->path = path;
  l->mode = mode;
  l->dev = dev;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
  napi_create_uint32(env, l->dev, &(argv[4]));
})

FUSE_METHOD_VOID(unlink, 1, 0, (const char *path), {
  l->path = path;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
})

FUSE_METHOD_VOID(rename, 2, 0, (const char *path, const char *dest), {
  l->path = path;
  l->dest = dest;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->dest, NAPI_AUTO_LENGTH, &(argv[3]));
})

FUSE_METHOD_VOID(link, 2, 0, (const char *path, const char *dest), {
  l->path = path;
  l->dest = dest;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->dest, NAPI_AUTO_LENGTH, &(argv[3]));
})

FUSE_METHOD_VOID(symlink, 2, 0, (const char *path, const char *dest), {
  l->path = path;
  l->dest = dest;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_string_utf8(env, l->dest, NAPI_AUTO_LENGTH, &(argv[3]));
})

FUSE_METHOD_VOID(mkdir, 2, 0, (const char *path, mode_t mode), {
  l->path = path;
  l->mode = mode;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->mode, &(argv[3]));
})

FUSE_METHOD_VOID(rmdir, 1, 0, (const char *path), {
  l->path = path;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
})


// After create, libfuse asks for the new file's attributes on the same thread: JavaScript gave
// them with its reply to create, so that round trip is saved.
static int fuse_native_fgetattr_after_create (const char *path, struct stat *stat, struct fuse_file_info *info) {
  fuse_thread_locals_t *l = get_thread_locals();
  if (l->created && info != NULL && info->fh == l->created_fh) {
    l->created = 0;
    *stat = l->created_stat;
    return 0;
  }
  return fuse_native_fgetattr(path, stat, info);
}

#ifndef __APPLE__
// Extended attributes outside the prefix JavaScript set (fuse_native_xattr_prefix) do not exist.
// The kernel asks for some before every write (security.capability) and ls -l for others (ACLs):
// those are answered here.
static char xattr_prefix[256];
static size_t xattr_prefix_len = 0;

static int fuse_native_getxattr_in_prefix (const char *path, const char *name, char *value, size_t size) {
  if (xattr_prefix_len > 0 && strncmp(name, xattr_prefix, xattr_prefix_len) != 0) return -ENODATA;
  return fuse_native_getxattr(path, name, value, size);
}

NAPI_METHOD(fuse_native_xattr_prefix) {
  NAPI_ARGV(1)
  NAPI_ARGV_UTF8(prefix, 256, 0)
  snprintf(xattr_prefix, sizeof(xattr_prefix), "%s", prefix);
  xattr_prefix_len = strlen(xattr_prefix);
  return NULL;
}
#endif

// Names: the paths that may exist in the view, mirrored by JavaScript (fuse_native_names_reset,
// fuse_native_names_add), so that a lookup of a name that does not exist is answered here, without
// a round trip to JavaScript: every new file's open(O_CREAT) starts with one. The table holds
// 64-bit hashes of view paths (UTF-8, no leading slash) and only grows between resets. A path
// found in it (or sharing a hash with one) goes to JavaScript as before, so the table can save a
// trip but never hide a file; until the first reset every lookup goes to JavaScript.

static pthread_rwlock_t names_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t *names_slots = NULL; // 0 marks an empty slot; NULL: no table, ask JavaScript
static size_t names_cap = 0; // a power of two
static size_t names_count = 0;
static char names_exempt[256]; // a top-level name always asked of JavaScript (the virtual folder)
static size_t names_exempt_len = 0;

// whether p (a path without its leading slash) is the exempt folder or inside it
static int names_exempt_path (const char *p) {
  return names_exempt_len > 0 && strncmp(p, names_exempt, names_exempt_len) == 0 && (p[names_exempt_len] == 0 || p[names_exempt_len] == '/');
}

static uint64_t names_hash (const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char) s[i];
    h *= 0x100000001b3ULL;
  }
  return h ? h : 1;
}

static size_t names_index (uint64_t h, size_t cap) {
  return (size_t) (h ^ (h >> 31)) & (cap - 1);
}

static int names_put (uint64_t *slots, size_t cap, uint64_t h) {
  size_t i = names_index(h, cap);
  while (slots[i] != 0) {
    if (slots[i] == h) return 0;
    i = (i + 1) & (cap - 1);
  }
  slots[i] = h;
  return 1;
}

static size_t names_cap_for (size_t n) {
  size_t cap = 1024;
  while (cap < 2 * n + 2) cap *= 2;
  return cap;
}

// with names_lock held for writing
static int names_has (uint64_t h) {
  for (size_t i = names_index(h, names_cap); names_slots[i] != 0; i = (i + 1) & (names_cap - 1)) {
    if (names_slots[i] == h) return 1;
  }
  return 0;
}

// with names_lock held for writing: adds a hash, growing the table (0 when there is no memory,
// and then there is no table: every lookup asks JavaScript)
static int names_add_locked (uint64_t h) {
  if (2 * (names_count + 1) > names_cap) {
    size_t cap = names_cap * 2;
    uint64_t *slots = calloc(cap, sizeof(uint64_t));
    if (slots == NULL) {
      free(names_slots);
      names_slots = NULL;
      names_cap = names_count = 0;
      return 0;
    }
    for (size_t i = 0; i < names_cap; i++) if (names_slots[i] != 0) names_put(slots, cap, names_slots[i]);
    free(names_slots);
    names_slots = slots;
    names_cap = cap;
  }
  names_count += names_put(names_slots, names_cap, h);
  return 1;
}

// Files created on a FUSE thread (see "Creates" below), with the table they are added to.
#define SPARES_MAX 64
#define SPARE_ID_MAX 64

typedef struct {
  int fd;
  char id[SPARE_ID_MAX];
} spare_t;

typedef struct {
  uint32_t fh;
  int fd;
  char id[SPARE_ID_MAX];
  char *path; // without the leading slash
  uint32_t mode; // permission bits, as create was asked for them (the kernel applied the umask)
  uint64_t mtime; // ms
} created_t;

// under names_lock (written with it held for writing), with the table the files are added to
static spare_t spares[SPARES_MAX];
static size_t spares_count = 0;
static created_t *created_queue = NULL;
static size_t created_len = 0;
static size_t created_cap = 0;
static size_t created_next_slot = 0;
// how many files wait to be adopted, in memory JavaScript reads before each request
static int32_t *created_waiting = NULL;
static napi_ref created_waiting_ref = NULL;

// Whether bytes are UTF-8 that JavaScript decodes and encodes back to the same bytes; other names
// are hashed differently there, so they go to JavaScript.
static int names_utf8 (const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    i += len;
  }
  return 1;
}

static int names_may_exist (const char *path) {
  if (path[0] != '/' || path[1] == 0) return 1;
  const char *p = path + 1;
  size_t n = strlen(p);
  if (names_exempt_path(p)) return 1;
  if (!names_utf8((const unsigned char *) p, n)) return 1;
  uint64_t h = names_hash(p, n);
  int yes = 1;
  pthread_rwlock_rdlock(&names_lock);
  if (names_slots != NULL) {
    yes = 0;
    for (size_t i = names_index(h, names_cap); names_slots[i] != 0; i = (i + 1) & (names_cap - 1)) {
      if (names_slots[i] == h) { yes = 1; break; }
    }
  }
  pthread_rwlock_unlock(&names_lock);
  return yes;
}

static int fuse_native_getattr_known (const char *path, struct stat *stat) {
  if (!names_may_exist(path)) return -ENOENT;
  return fuse_native_getattr(path, stat);
}

// names_reset(paths, exempt): the table becomes the NUL-separated UTF-8 paths of a Buffer, and
// `exempt` the top-level name whose paths always go to JavaScript.
NAPI_METHOD(fuse_native_names_reset) {
  NAPI_ARGV(2)
  NAPI_ARGV_BUFFER(paths, 0)
  NAPI_ARGV_UTF8(exempt, 256, 1)
  size_t n = 0;
  for (size_t i = 0; i < paths_len; i++) if (paths[i] == 0) n++;
  size_t cap = names_cap_for(n + 1);
  uint64_t *slots = calloc(cap, sizeof(uint64_t)); // without it (no memory), no table
  size_t count = 0;
  for (size_t at = 0; slots != NULL && at < paths_len; ) {
    size_t end = at;
    while (end < paths_len && paths[end] != 0) end++;
    if (end > at) count += names_put(slots, cap, names_hash(paths + at, end - at));
    at = end + 1;
  }
  pthread_rwlock_wrlock(&names_lock);
  uint64_t *old = names_slots;
  names_slots = slots;
  names_cap = slots != NULL ? cap : 0;
  names_count = count;
  // files created here that JavaScript has not adopted yet are not in its view: they stay
  for (size_t i = 0; names_slots != NULL && i < created_len; i++) names_add_locked(names_hash(created_queue[i].path, strlen(created_queue[i].path)));
  snprintf(names_exempt, sizeof(names_exempt), "%s", exempt);
  names_exempt_len = strlen(names_exempt);
  pthread_rwlock_unlock(&names_lock);
  free(old);
  return NULL;
}

// names_add(path): one more path that may exist.
NAPI_METHOD(fuse_native_names_add) {
  NAPI_ARGV(1)
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], NULL, 0, &len);
  char small[1024];
  char *p = len < sizeof(small) ? small : malloc(len + 1);
  uint64_t h = 0;
  if (p != NULL) {
    napi_get_value_string_utf8(env, argv[0], p, len + 1, &len);
    h = names_hash(p, len);
    if (p != small) free(p);
  }
  pthread_rwlock_wrlock(&names_lock);
  if (names_slots != NULL && h == 0) { // a name it could not hash: no table
    free(names_slots);
    names_slots = NULL;
    names_cap = names_count = 0;
  }
  if (names_slots != NULL) names_add_locked(h);
  pthread_rwlock_unlock(&names_lock);
  return NULL;
}

// Passthrough: reads and writes of a file handle that JavaScript tied to a file descriptor are
// served on the FUSE thread that received them (pread/pwrite, or splice where libfuse can), with
// no round trip to JavaScript. JavaScript learns what was written through
// fuse_native_passthrough_written. Handles it did not tie go to its read/write handlers as before.

#define PASSTHROUGH_SLOTS 65536

typedef struct {
  int written;
  uint64_t end;
} passthrough_writes_t;

static int passthrough_fds[PASSTHROUGH_SLOTS]; // file handle -> fd + 1 (0: not tied)
static passthrough_writes_t passthrough_writes[PASSTHROUGH_SLOTS]; // fd -> writes made here

// Handles of files created here (see "Creates" below): CREATED_BASE + slot, far above the
// handles JavaScript gives, which start at 1 and are reused.
#define CREATED_BASE 0x40000000u
#define CREATED_SLOTS 4096
static int created_fds[CREATED_SLOTS]; // slot -> fd + 1 (0: free)

static int passthrough_fd (uint64_t fh) {
  if (fh >= CREATED_BASE && fh < CREATED_BASE + CREATED_SLOTS) return __atomic_load_n(&created_fds[fh - CREATED_BASE], __ATOMIC_ACQUIRE) - 1;
  if (fh >= PASSTHROUGH_SLOTS) return -1;
  return __atomic_load_n(&passthrough_fds[fh], __ATOMIC_ACQUIRE) - 1;
}

static void passthrough_note_write (int fd, uint64_t end) {
  if (fd < 0 || fd >= PASSTHROUGH_SLOTS) return;
  passthrough_writes_t *w = &passthrough_writes[fd];
  uint64_t seen = __atomic_load_n(&w->end, __ATOMIC_RELAXED);
  while (seen < end && !__atomic_compare_exchange_n(&w->end, &seen, end, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {}
  __atomic_store_n(&w->written, 1, __ATOMIC_RELEASE);
}

static int fuse_native_read_buf (const char *path, struct fuse_bufvec **bufp, size_t size, off_t offset, struct fuse_file_info *info) {
  struct fuse_bufvec *src = malloc(sizeof(struct fuse_bufvec));
  if (src == NULL) return -ENOMEM;
  int fd = passthrough_fd(info->fh);
  if (fd >= 0) {
    *src = FUSE_BUFVEC_INIT(size);
    src->buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    src->buf[0].fd = fd;
    src->buf[0].pos = offset;
    *bufp = src;
    return 0;
  }
  char *mem = malloc(size > 0 ? size : 1);
  if (mem == NULL) {
    free(src);
    return -ENOMEM;
  }
  int res = fuse_native_read(path, mem, size, offset, info);
  if (res < 0) {
    free(mem);
    free(src);
    return res;
  }
  *src = FUSE_BUFVEC_INIT(res);
  src->buf[0].mem = mem; // libfuse frees it with the vector
  *bufp = src;
  return 0;
}

static int fuse_native_write_buf (const char *path, struct fuse_bufvec *buf, off_t offset, struct fuse_file_info *info) {
  size_t size = fuse_buf_size(buf);
  int fd = passthrough_fd(info->fh);
  if (fd >= 0) {
    struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
    dst.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    dst.buf[0].fd = fd;
    dst.buf[0].pos = offset;
    ssize_t res = fuse_buf_copy(&dst, buf, FUSE_BUF_SPLICE_NONBLOCK);
    if (res > 0) passthrough_note_write(fd, (uint64_t) offset + (uint64_t) res);
    return (int) res;
  }
  if (buf->count == 1 && !(buf->buf[0].flags & FUSE_BUF_IS_FD)) {
    return fuse_native_write(path, buf->buf[0].mem, size, offset, info);
  }
  char *mem = malloc(size > 0 ? size : 1);
  if (mem == NULL) return -ENOMEM;
  struct fuse_bufvec tmp = FUSE_BUFVEC_INIT(size);
  tmp.buf[0].mem = mem;
  ssize_t copied = fuse_buf_copy(&tmp, buf, 0);
  int res = copied < 0 ? (int) copied : fuse_native_write(path, mem, (size_t) copied, offset, info);
  free(mem);
  return res;
}

static unsigned char passthrough_kernel_ok[PASSTHROUGH_SLOTS]; // file handle -> may be handed to the kernel

// passthrough_open(fh, fd, kernel): serve fh's reads and writes from fd; fd -1 unties it. With
// kernel 1, fh's opens may be handed to the kernel's own passthrough (see "The kernel's
// passthrough" below): only for handles whose reads never need JavaScript and that see no writes.
NAPI_METHOD(fuse_native_passthrough_open) {
  NAPI_ARGV(3)
  NAPI_ARGV_UINT32(fh, 0)
  NAPI_ARGV_INT32(fd, 1)
  NAPI_ARGV_UINT32(kernel, 2)
  int ok = fd < PASSTHROUGH_SLOTS && (fh < PASSTHROUGH_SLOTS || (fh >= CREATED_BASE && fh < CREATED_BASE + CREATED_SLOTS));
  if (ok && fh < PASSTHROUGH_SLOTS) __atomic_store_n(&passthrough_kernel_ok[fh], fd >= 0 && kernel ? 1 : 0, __ATOMIC_RELEASE);
  // untying a handle made here frees its slot
  if (ok) __atomic_store_n(fh >= CREATED_BASE ? &created_fds[fh - CREATED_BASE] : &passthrough_fds[fh], fd + 1, __ATOMIC_RELEASE);
  NAPI_RETURN_INT32(ok)
}

// The kernel's passthrough (Linux 6.9 and later): an open whose reply names a "backing file"
// registered on /dev/fuse has its reads served by the kernel from that file, with no request to
// this process at all, at the speed of the file system underneath. libfuse 2 knows nothing of it,
// so the binding puts its own channel between libfuse and the device: it reads requests and writes
// replies exactly as libfuse's does, and on the way it
//  - asks for FUSE_PASSTHROUGH in the answer to INIT when the kernel offers it and this process
//    has CAP_SYS_ADMIN, which registering backing files takes (libfuse's answer grows to the
//    kernel's current fuse_init_out; the protocol minor stays libfuse's);
//  - sets FOPEN_PASSTHROUGH and the backing file in the answer to an OPEN of a handle JavaScript
//    allowed (passthrough_open's kernel: read-only handles), registering the handle's descriptor
//    with FUSE_DEV_IOC_BACKING_OPEN (where that fails, the open is answered as before).
//
// The kernel allows only one mode per inode at a time: while any open of an inode is passthrough,
// every other open of it must be passthrough to the same backing file, and while an open of the
// page cache ("cached") is live, none may be passthrough; an open that breaks this fails with EIO.
// So every open and create is recorded here, by the node id in its request's header, until its
// RELEASE (the kernel forgets an open before it sends RELEASE, so the records only ever err
// towards the slower answer):
//  - a read-only open goes to the kernel when the inode has no cached open, reusing the backing
//    file of the inode's passthrough opens when it is the same file;
//  - a cached open is given while the inode has no passthrough open;
//  - an open that fits neither (a write while the file is being read by the kernel: writes go to
//    a staging file, never into the annex object being read; or a read of new content while old
//    content is read by the kernel) gets the file a new inode: the open is answered ESTALE, which
//    makes the kernel walk the path again and revalidate the name, and from then on the name is
//    looked up as an alias node id, a fresh inode whose requests are handed to libfuse under the
//    original id. The old inode keeps serving the opens it has, as a file replaced under its
//    readers would. The alias lives until the kernel forgets it and the opens it was made for
//    are released.

#define FUSE_OP_LOOKUP 1
#define FUSE_OP_FORGET 2
#define FUSE_OP_LINK 13
#define FUSE_OP_OPEN 14
#define FUSE_OP_RELEASE 18
#define FUSE_OP_INIT 26
#define FUSE_OP_CREATE 35
#define FUSE_OP_BATCH_FORGET 42
#define FUSE_FLAG_HANDLE_KILLPRIV_V2 (1u << 28)
#define FUSE_FLAG_INIT_EXT (1u << 30)
#define FUSE_FLAG2_PASSTHROUGH (1u << (37 - 32))
#define FUSE_FOPEN_DIRECT_IO (1u << 0)
#define FUSE_FOPEN_PASSTHROUGH (1u << 7)

struct fuse_backing_map_native { int32_t fd; uint32_t flags; uint64_t padding; };
#define FUSE_DEV_IOC_BACKING_OPEN_NATIVE _IOW(229, 1, struct fuse_backing_map_native)
#define FUSE_DEV_IOC_BACKING_CLOSE_NATIVE _IOW(229, 2, uint32_t)

// fuse_init_out as the kernel reads it today (libfuse 2 knows the first 24 bytes)
struct fuse_init_out_native {
  uint32_t major, minor, max_readahead, flags;
  uint16_t max_background, congestion_threshold;
  uint32_t max_write, time_gran;
  uint16_t max_pages, map_alignment;
  uint32_t flags2, max_stack_depth;
  uint16_t request_timeout;
  uint16_t unused[11];
};

typedef enum { OPEN_CACHED = 1, OPEN_KERNEL = 2 } open_mode_t;

typedef struct {
  uint64_t fh;
  uint64_t nodeid; // the kernel's (an alias, where it is one)
  open_mode_t mode;
  int32_t backing; // OPEN_KERNEL: the backing file's id
  dev_t dev;
  ino_t ino;
} open_record_t;

typedef struct {
  uint64_t alias; // the node id the kernel knows
  uint64_t target; // libfuse's
  uint64_t origin; // the kernel's node id whose opens it was made beside
  int64_t lookups; // lookups answered with it, less those forgotten
  int current; // lookups of target are answered with this alias
} alias_t;

// libfuse 2 numbers nodes from 2 up, one at a time: aliases start far above
#define ALIAS_BASE 0x7000000000000000ull

static int kernel_wanted = 1; // fuse_native_kernel_passthrough(0) before mounting turns it off
static int kernel_offered = 0; // the kernel's INIT offered FUSE_PASSTHROUGH
static int kernel_on = 0; // and it was asked for
static int kernel_unprivileged = 0; // offered, but this process may not register backing files
static int kernel_killpriv = 0; // the kernel's INIT offered FUSE_HANDLE_KILLPRIV_V2
static uint64_t kernel_init_unique = 0;
static pthread_mutex_t opens_mutex = PTHREAD_MUTEX_INITIALIZER; // opens and aliases
static open_record_t *opens = NULL;
static size_t opens_count = 0, opens_cap = 0;
static alias_t *aliases = NULL;
static size_t aliases_count = 0, aliases_cap = 0;
static uint64_t alias_next = ALIAS_BASE;
static uint64_t kernel_opens = 0, kernel_renewed = 0, kernel_refused = 0;
static int kernel_refused_errno = 0;

// the request this FUSE thread is handling: libfuse 2 answers each on the thread that read it
static __thread uint32_t request_opcode = 0;
static __thread uint64_t request_unique = 0;
static __thread uint64_t request_nodeid = 0; // as the kernel sent it

static int grow (void **items, size_t *cap, size_t count, size_t size) {
  if (count < *cap) return 1;
  size_t bigger = *cap ? *cap * 2 : 64;
  void *grown = realloc(*items, bigger * size);
  if (grown == NULL) return 0;
  *items = grown;
  *cap = bigger;
  return 1;
}

static int opens_live_locked (uint64_t nodeid, open_mode_t mode) {
  for (size_t i = 0; i < opens_count; i++) {
    if (opens[i].nodeid == nodeid && opens[i].mode == mode) return 1;
  }
  return 0;
}

static alias_t *alias_of_locked (uint64_t alias) {
  for (size_t i = 0; i < aliases_count; i++) {
    if (aliases[i].alias == alias) return &aliases[i];
  }
  return NULL;
}

static uint64_t target_of_locked (uint64_t nodeid) {
  alias_t *a = nodeid >= ALIAS_BASE ? alias_of_locked(nodeid) : NULL;
  return a ? a->target : nodeid;
}

// Drops the aliases nothing needs any more.
static void aliases_prune_locked (void) {
  for (size_t i = 0; i < aliases_count;) {
    alias_t *a = &aliases[i];
    if (a->lookups <= 0 && !opens_live_locked(a->alias, OPEN_CACHED) && !opens_live_locked(a->alias, OPEN_KERNEL) && !opens_live_locked(a->origin, OPEN_KERNEL)) {
      aliases[i] = aliases[--aliases_count];
    } else {
      i++;
    }
  }
}

// A new inode for the file behind the kernel's node id `origin`: lookups of it get an alias now.
static void alias_make_locked (uint64_t origin) {
  uint64_t target = target_of_locked(origin);
  if (!grow((void **) &aliases, &aliases_cap, aliases_count, sizeof(alias_t))) return;
  for (size_t i = 0; i < aliases_count; i++) {
    if (aliases[i].target == target) aliases[i].current = 0;
  }
  aliases[aliases_count++] = (alias_t) { .alias = alias_next++, .target = target, .origin = origin, .lookups = 0, .current = 1 };
  kernel_renewed++;
}

static void backing_close (int devfd, int32_t backing) {
  uint32_t id = (uint32_t) backing;
  ioctl(devfd, FUSE_DEV_IOC_BACKING_CLOSE_NATIVE, &id);
}

// Removes fh's record; closes its backing file once no other open uses it.
static void opens_remove_locked (int devfd, uint64_t fh) {
  for (size_t i = 0; i < opens_count; i++) {
    if (opens[i].fh != fh) continue;
    open_record_t r = opens[i];
    opens[i] = opens[--opens_count];
    if (aliases_count > 0) aliases_prune_locked();
    if (r.mode != OPEN_KERNEL) return;
    for (size_t j = 0; j < opens_count; j++) {
      if (opens[j].mode == OPEN_KERNEL && opens[j].backing == r.backing) return;
    }
    backing_close(devfd, r.backing);
    return;
  }
}

// How to answer an OPEN (or CREATE) of the kernel's nodeid with handle fh: the open flags to add
// and the backing file, recorded; or, for an open that fits neither of the inode's modes and is
// renewable, -1 once an alias is made (not recorded).
static int64_t opens_decide (int devfd, uint64_t nodeid, uint64_t fh, int renewable, int32_t *backing) {
  *backing = 0;
  int fd = -1;
  int wanted = fh < PASSTHROUGH_SLOTS && __atomic_load_n(&passthrough_kernel_ok[fh], __ATOMIC_ACQUIRE) && (fd = passthrough_fd(fh)) >= 0;
  pthread_mutex_lock(&opens_mutex);
  size_t cached = 0;
  open_record_t *kernel = NULL;
  for (size_t i = 0; i < opens_count; i++) {
    if (opens[i].nodeid != nodeid) continue;
    if (opens[i].mode == OPEN_CACHED) cached++;
    else kernel = &opens[i];
  }
  open_record_t r = { .fh = fh, .nodeid = nodeid, .mode = OPEN_CACHED };
  struct stat st;
  if (wanted && cached == 0 && fstat(fd, &st) == 0) {
    if (kernel != NULL) {
      if (kernel->dev == st.st_dev && kernel->ino == st.st_ino) {
        r.mode = OPEN_KERNEL;
        r.backing = kernel->backing;
      }
    } else {
      struct fuse_backing_map_native map = { .fd = fd, .flags = 0, .padding = 0 };
      int id = ioctl(devfd, FUSE_DEV_IOC_BACKING_OPEN_NATIVE, &map);
      if (id > 0) {
        r.mode = OPEN_KERNEL;
        r.backing = id;
      } else {
        kernel_refused++;
        kernel_refused_errno = errno;
        if (errno == EPERM) kernel_on = 0; // not root: no open will be handed over
      }
    }
    if (r.mode == OPEN_KERNEL) {
      r.dev = st.st_dev;
      r.ino = st.st_ino;
      kernel_opens++;
    }
  }
  int64_t flags = 0;
  if (r.mode == OPEN_CACHED && kernel != NULL && renewable) {
    alias_make_locked(nodeid);
    flags = -1;
  } else if (grow((void **) &opens, &opens_cap, opens_count, sizeof(open_record_t))) {
    opens[opens_count++] = r;
    if (r.mode == OPEN_KERNEL) {
      flags = FUSE_FOPEN_PASSTHROUGH;
      *backing = r.backing;
    }
  } else if (r.mode == OPEN_KERNEL) {
    // unrecorded, so not handed over (the backing file stays registered for the inode's others)
    if (kernel == NULL) backing_close(devfd, r.backing);
  }
  pthread_mutex_unlock(&opens_mutex);
  return flags;
}

// libfuse's open, but a write open of an inode the kernel is reading gets a new inode first
// (without opening a write session for an open that is answered ESTALE).
static int fuse_native_open (const char *path, struct fuse_file_info *info);
static int fuse_native_open_beside_kernel (const char *path, struct fuse_file_info *info) {
  if (kernel_on && ((info->flags & O_ACCMODE) != O_RDONLY || (info->flags & O_TRUNC))) {
    pthread_mutex_lock(&opens_mutex);
    int renew = opens_live_locked(request_nodeid, OPEN_KERNEL);
    if (renew) alias_make_locked(request_nodeid);
    pthread_mutex_unlock(&opens_mutex);
    if (renew) return -ESTALE;
  }
  return fuse_native_open(path, info);
}

// FUSE_DEV_IOC_BACKING_OPEN takes CAP_SYS_ADMIN (capget(2), as <linux/capability.h> has it;
// that header's types clash with libfuse's fuse_kernel.h)
static int may_register_backing_files (void) {
  struct { uint32_t version; int pid; } header = { 0x20080522, 0 }; // _LINUX_CAPABILITY_VERSION_3
  struct { uint32_t effective, permitted, inheritable; } data[2];
  const int cap_sys_admin = 21;
  if (syscall(SYS_capget, &header, data) != 0) return 0;
  return (data[cap_sys_admin / 32].effective >> (cap_sys_admin % 32)) & 1;
}

static int channel_receive (struct fuse_chan **chp, char *buf, size_t size) {
  struct fuse_chan *ch = *chp;
  struct fuse_session *se = fuse_chan_session(ch);
  ssize_t res;
  int err;
  do {
    res = read(fuse_chan_fd(ch), buf, size);
    err = errno;
    if (fuse_session_exited(se)) return 0;
  } while (res == -1 && err == ENOENT); // an interrupted request: read again
  if (res == -1) {
    if (err == ENODEV) { // unmounted
      fuse_session_exit(se);
      return 0;
    }
    if (err != EINTR && err != EAGAIN) perror("fuse: reading device");
    return -err;
  }
  if ((size_t) res < sizeof(struct fuse_in_header)) {
    fprintf(stderr, "short read on fuse device\n");
    return -EIO;
  }
  struct fuse_in_header *in = (struct fuse_in_header *) buf;
  char *arg = buf + sizeof(*in);
  size_t arg_len = (size_t) res - sizeof(*in);
  request_opcode = in->opcode;
  request_unique = in->unique;
  request_nodeid = in->nodeid;
  if (in->opcode == FUSE_OP_RELEASE && arg_len >= sizeof(struct fuse_release_in)) {
    pthread_mutex_lock(&opens_mutex);
    opens_remove_locked(fuse_chan_fd(ch), ((struct fuse_release_in *) arg)->fh);
    pthread_mutex_unlock(&opens_mutex);
  } else if (in->opcode == FUSE_OP_INIT && arg_len >= 20) {
    uint32_t *init = (uint32_t *) arg; // major, minor, max_readahead, flags, flags2
    kernel_offered = (init[3] & FUSE_FLAG_INIT_EXT) && (init[4] & FUSE_FLAG2_PASSTHROUGH);
    kernel_killpriv = (init[3] & FUSE_FLAG_HANDLE_KILLPRIV_V2) != 0;
    kernel_init_unique = in->unique;
  }
  // requests about an alias go to libfuse as requests about its target
  if (__atomic_load_n(&aliases_count, __ATOMIC_ACQUIRE) > 0) {
    pthread_mutex_lock(&opens_mutex);
    alias_t *a = in->nodeid >= ALIAS_BASE ? alias_of_locked(in->nodeid) : NULL;
    if (a != NULL) {
      in->nodeid = a->target;
      if (in->opcode == FUSE_OP_FORGET && arg_len >= sizeof(struct fuse_forget_in)) {
        a->lookups -= (int64_t) ((struct fuse_forget_in *) arg)->nlookup;
        aliases_prune_locked();
      }
    }
    if (in->opcode == FUSE_OP_BATCH_FORGET && arg_len >= sizeof(struct fuse_batch_forget_in)) {
      uint32_t n = ((struct fuse_batch_forget_in *) arg)->count;
      struct fuse_forget_one *one = (struct fuse_forget_one *) (arg + sizeof(struct fuse_batch_forget_in));
      for (uint32_t i = 0; i < n && (char *) (one + i + 1) <= buf + res; i++) {
        alias_t *b = one[i].nodeid >= ALIAS_BASE ? alias_of_locked(one[i].nodeid) : NULL;
        if (b == NULL) continue;
        b->lookups -= (int64_t) one[i].nlookup;
        one[i].nodeid = b->target;
      }
      aliases_prune_locked();
    } else if (in->opcode == FUSE_OP_LINK && arg_len >= sizeof(struct fuse_link_in)) {
      struct fuse_link_in *link = (struct fuse_link_in *) arg;
      link->oldnodeid = target_of_locked(link->oldnodeid);
    }
    pthread_mutex_unlock(&opens_mutex);
  }
  return res;
}

static int channel_write (struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  ssize_t res = writev(fuse_chan_fd(ch), iov, count);
  int err = errno;
  if (res == -1) {
    // ENOENT: the request was interrupted
    if (!fuse_session_exited(fuse_chan_session(ch)) && err != ENOENT) perror("fuse: writing device");
    return -err;
  }
  return 0;
}

static int channel_send (struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  if (iov == NULL) return 0;
  struct fuse_out_header *out = (struct fuse_out_header *) iov[0].iov_base;
  if (out->unique != request_unique || out->error != 0 || count != 2) return channel_write(ch, iov, count);
  int devfd = fuse_chan_fd(ch);
  uint32_t opcode = request_opcode;

  if (opcode == FUSE_OP_INIT && out->unique == kernel_init_unique) {
    int passthrough = kernel_offered && kernel_wanted;
    // without the capability no open could be handed over: the mount is left as libfuse makes it
    // (a mount that asked for passthrough cannot be stacked on as deep)
    if (passthrough && !may_register_backing_files()) {
      kernel_unprivileged = 1;
      passthrough = 0;
    }
    if (!passthrough && !kernel_killpriv) return channel_write(ch, iov, count);
    struct fuse_init_out_native arg;
    memset(&arg, 0, sizeof(arg));
    memcpy(&arg, iov[1].iov_base, iov[1].iov_len < sizeof(arg) ? iov[1].iov_len : sizeof(arg));
    // No file here is ever set-user-ID, set-group-ID or has file capabilities (chmod refuses those
    // bits; extended attributes are sharebox's own, read-only), so there is nothing for a write to
    // clear: with FUSE_HANDLE_KILLPRIV_V2 the kernel leaves that to this process and stops asking
    // for security.capability before every write(2), a round trip each (a 4 KiB write was two).
    if (kernel_killpriv) arg.flags |= FUSE_FLAG_HANDLE_KILLPRIV_V2;
    struct fuse_out_header grown = *out;
    grown.len = sizeof(grown) + sizeof(arg);
    struct iovec v[2] = { { &grown, sizeof(grown) }, { &arg, sizeof(arg) } };
    if (!passthrough) return channel_write(ch, v, 2);
    arg.flags |= FUSE_FLAG_INIT_EXT;
    arg.flags2 |= FUSE_FLAG2_PASSTHROUGH;
    // backing files on a stacked file system too (a gitdir in a container's overlayfs); the mount
    // itself then cannot be stacked on (FILESYSTEM_MAX_STACK_DEPTH is 2)
    arg.max_stack_depth = 2;
    kernel_on = 1;
    return channel_write(ch, v, 2);
  }

  if (!kernel_on) return channel_write(ch, iov, count);

  if ((opcode == FUSE_OP_LOOKUP || opcode == FUSE_OP_LINK) && iov[1].iov_len == sizeof(struct fuse_entry_out) && __atomic_load_n(&aliases_count, __ATOMIC_ACQUIRE) > 0) {
    struct fuse_entry_out entry;
    memcpy(&entry, iov[1].iov_base, sizeof(entry));
    pthread_mutex_lock(&opens_mutex);
    alias_t *a = NULL;
    for (size_t i = 0; i < aliases_count && a == NULL; i++) {
      if (aliases[i].current && aliases[i].target == entry.nodeid) a = &aliases[i];
    }
    uint64_t alias = 0;
    if (a != NULL) {
      a->lookups++;
      alias = entry.nodeid = a->alias;
    }
    pthread_mutex_unlock(&opens_mutex);
    if (alias == 0) return channel_write(ch, iov, count);
    struct iovec v[2] = { iov[0], { &entry, sizeof(entry) } };
    int res = channel_write(ch, v, 2);
    if (res != 0) { // libfuse forgets the lookup: so does the alias
      pthread_mutex_lock(&opens_mutex);
      alias_t *b = alias_of_locked(alias);
      if (b != NULL) b->lookups--;
      pthread_mutex_unlock(&opens_mutex);
    }
    return res;
  }

  struct fuse_open_out open_out;
  struct fuse_entry_out entry_out;
  char create_out[sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out)];
  uint64_t nodeid;
  if (opcode == FUSE_OP_OPEN && iov[1].iov_len == sizeof(open_out)) {
    memcpy(&open_out, iov[1].iov_base, sizeof(open_out));
    nodeid = request_nodeid;
  } else if (opcode == FUSE_OP_CREATE && iov[1].iov_len == sizeof(create_out)) {
    memcpy(&entry_out, iov[1].iov_base, sizeof(entry_out));
    memcpy(&open_out, (char *) iov[1].iov_base + sizeof(entry_out), sizeof(open_out));
    nodeid = entry_out.nodeid; // a new node: never an alias
  } else {
    return channel_write(ch, iov, count);
  }
  if (open_out.open_flags & FUSE_FOPEN_DIRECT_IO) return channel_write(ch, iov, count);
  uint64_t fh = open_out.fh;

  int32_t backing;
  // (a CREATE makes a new node, so it can hardly meet the kernel's opens: it is recorded as it is)
  int64_t flags = opens_decide(devfd, nodeid, fh, opcode == FUSE_OP_OPEN, &backing);
  if (flags < 0) {
    // a new inode: ESTALE to the kernel, and to libfuse the error of an interrupted open, on
    // which it releases the handle itself
    struct fuse_out_header stale = { .len = sizeof(stale), .error = -ESTALE, .unique = out->unique };
    struct iovec v[1] = { { &stale, sizeof(stale) } };
    channel_write(ch, v, 1);
    return -ENOENT;
  }
  open_out.open_flags |= (uint32_t) flags;
  open_out.padding = (uint32_t) backing; // backing_id
  struct iovec v[2] = { iov[0], { &open_out, sizeof(open_out) } };
  if (opcode == FUSE_OP_CREATE) {
    memcpy(create_out, &entry_out, sizeof(entry_out));
    memcpy(create_out + sizeof(entry_out), &open_out, sizeof(open_out));
    v[1].iov_base = create_out;
    v[1].iov_len = sizeof(create_out);
  }
  int res = channel_write(ch, v, 2);
  if (res != 0) { // the open did not happen: libfuse releases the handle without a RELEASE
    pthread_mutex_lock(&opens_mutex);
    opens_remove_locked(devfd, fh);
    pthread_mutex_unlock(&opens_mutex);
  }
  return res;
}

static void channel_destroy (struct fuse_chan *ch) {
  int fd = fuse_chan_fd(ch);
  if (fd != -1) close(fd);
}

static struct fuse_chan_ops channel_ops = {
  .receive = channel_receive,
  .send = channel_send,
  .destroy = channel_destroy
};

// fuse_native_kernel_passthrough(on): whether mounts made after ask for the kernel's passthrough.
NAPI_METHOD(fuse_native_kernel_passthrough) {
  NAPI_ARGV(1)
  NAPI_ARGV_UINT32(on, 0)
  kernel_wanted = on ? 1 : 0;
  return NULL;
}

// fuse_native_kernel_passthrough_stats() -> [offered, on, opens handed to the kernel, inodes
// renewed beside the kernel's opens, backing files refused, the errno of the last refusal,
// offered but not asked for (this process lacks CAP_SYS_ADMIN)]
NAPI_METHOD(fuse_native_kernel_passthrough_stats) {
  (void) info;
  napi_value result;
  napi_create_array_with_length(env, 7, &result);
  pthread_mutex_lock(&opens_mutex);
  double values[7] = { kernel_offered, kernel_on, (double) kernel_opens, (double) kernel_renewed, (double) kernel_refused, kernel_refused_errno, kernel_unprivileged };
  pthread_mutex_unlock(&opens_mutex);
  for (uint32_t i = 0; i < 7; i++) {
    napi_value v;
    napi_create_double(env, values[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}

// Creates: a new file whose name is certainly not in the view (not in the names table) is created
// here, on the FUSE thread, without a round trip to JavaScript. It gets an empty staging file that
// JavaScript made ahead and handed down (fuse_native_spares_give), a handle tied to it, and its
// attributes for the fgetattr libfuse makes next. Creating records no event, so nothing durable
// happens here: JavaScript adopts the file (fuse_native_created_take) before it handles any other
// request and before it replaces the view, and records it at flush as it does the files it creates.
// Only plain paths are made here (printable ASCII, outside the exempt folder, under a parent in the
// table); the others, and every create while no spare is ready, go to JavaScript as before.


static int created_plain (const char *p, size_t n) {
  if (n == 0 || n > 4000) return 0;
  size_t name = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if (c < 0x20 || c > 0x7E) return 0;
    name = c == '/' ? 0 : name + 1;
    if (name > 255) return 0; // MAX_NAME_BYTES: JavaScript gives the error
  }
  if (names_exempt_path(p)) return 0;
  return 1;
}


// The spares are made by a thread of the binding's own (fuse_native_spares_start), a batch at a
// time once fewer than SPARES_LOW are left: one wake-up per batch, where a thread-pool job per
// file cost one each.
#define SPARES_LOW 16
static pthread_mutex_t spares_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spares_cond = PTHREAD_COND_INITIALIZER;
static int spares_making = 0; // 1 while the maker thread runs; 0 once reclaimed
static int spares_wanted = 0;
static char spares_dir[4096];
static char spares_prefix[SPARE_ID_MAX - 16];
static uint64_t spares_serial = 0;

static void *spares_maker (void *arg) {
  (void) arg;
  for (;;) {
    pthread_mutex_lock(&spares_mutex);
    while (spares_making && !spares_wanted) pthread_cond_wait(&spares_cond, &spares_mutex);
    spares_wanted = 0;
    int run = spares_making;
    pthread_mutex_unlock(&spares_mutex);
    if (!run) return NULL;
    while (__atomic_load_n(&spares_count, __ATOMIC_ACQUIRE) < SPARES_MAX) {
      spare_t spare;
      snprintf(spare.id, SPARE_ID_MAX, "%s%llx", spares_prefix, (unsigned long long) spares_serial++);
      char file[4096 + SPARE_ID_MAX + 2];
      snprintf(file, sizeof(file), "%s/%s", spares_dir, spare.id);
      spare.fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (spare.fd < 0) break; // a create goes to JavaScript instead, which says what is wrong
      pthread_rwlock_wrlock(&names_lock);
      int kept = __atomic_load_n(&spares_making, __ATOMIC_ACQUIRE) && spare.fd < PASSTHROUGH_SLOTS && spares_count < SPARES_MAX;
      if (kept) {
        spares[spares_count] = spare;
        __atomic_store_n(&spares_count, spares_count + 1, __ATOMIC_RELEASE);
      }
      pthread_rwlock_unlock(&names_lock);
      if (!kept) {
        close(spare.fd);
        unlink(file);
        break;
      }
    }
  }
}

static void spares_want (void) {
  pthread_mutex_lock(&spares_mutex);
  spares_wanted = 1;
  pthread_cond_signal(&spares_cond);
  pthread_mutex_unlock(&spares_mutex);
}

// The owner and umask a created file's attributes show, as getattr shows them (src/fuse/attributes.ts):
// set once by JavaScript before the mount (fuse_native_owner), read by the FUSE threads.
static uint32_t owner_uid = 0;
static uint32_t owner_gid = 0;
static uint32_t owner_umask = 0;
static int owner_set = 0;

// owner(uid, gid, umask)
NAPI_METHOD(fuse_native_owner) {
  NAPI_ARGV(3)
  NAPI_ARGV_UINT32(uid, 0)
  NAPI_ARGV_UINT32(gid, 1)
  NAPI_ARGV_UINT32(umask, 2)
  __atomic_store_n(&owner_uid, uid, __ATOMIC_RELAXED);
  __atomic_store_n(&owner_gid, gid, __ATOMIC_RELAXED);
  __atomic_store_n(&owner_umask, umask & 07777, __ATOMIC_RELAXED);
  __atomic_store_n(&owner_set, 1, __ATOMIC_RELEASE);
  return NULL;
}

static int fuse_native_create_here (const char *path, mode_t mode, struct fuse_file_info *info) {
  if (path[0] != '/' || __atomic_load_n(&spares_count, __ATOMIC_RELAXED) == 0) return 0;
  if (!__atomic_load_n(&owner_set, __ATOMIC_ACQUIRE)) return 0; // JavaScript answers until it said whose files are
  const char *p = path + 1;
  size_t n = strlen(p);
  if (!created_plain(p, n)) return 0;
  size_t parent_len = 0;
  for (size_t i = 0; i < n; i++) if (p[i] == '/') parent_len = i;
  uint64_t h = names_hash(p, n);
  uint64_t parent = parent_len > 0 ? names_hash(p, parent_len) : 0;
  char *copy = malloc(n + 1);
  if (copy == NULL) return 0;
  memcpy(copy, p, n + 1);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t ms = (uint64_t) now.tv_sec * 1000 + (uint64_t) now.tv_nsec / 1000000;

  pthread_rwlock_wrlock(&names_lock);
  int ok = names_slots != NULL && spares_count > 0 && created_waiting != NULL && !names_has(h) && (parent == 0 || names_has(parent));
  if (ok && created_len == created_cap) {
    size_t cap = created_cap ? created_cap * 2 : 64;
    created_t *q = realloc(created_queue, cap * sizeof(created_t));
    if (q == NULL) ok = 0;
    else {
      created_queue = q;
      created_cap = cap;
    }
  }
  uint32_t slot = 0;
  if (ok) {
    ok = 0;
    for (size_t k = 0; k < CREATED_SLOTS; k++) {
      slot = (uint32_t) ((created_next_slot + k) % CREATED_SLOTS);
      if (__atomic_load_n(&created_fds[slot], __ATOMIC_ACQUIRE) == 0) {
        ok = 1;
        break;
      }
    }
  }
  if (ok) ok = names_add_locked(h);
  if (!ok) {
    pthread_rwlock_unlock(&names_lock);
    free(copy);
    return 0;
  }
  uint32_t perm = mode & 01777; // set-user-ID and set-group-ID are never kept (src/fuse/attributes.ts)
  spare_t spare = spares[--spares_count];
  created_next_slot = slot + 1;
  __atomic_store_n(&created_fds[slot], spare.fd + 1, __ATOMIC_RELEASE);
  created_t *c = &created_queue[created_len++];
  c->fh = CREATED_BASE + slot;
  c->fd = spare.fd;
  memcpy(c->id, spare.id, SPARE_ID_MAX);
  c->path = copy;
  c->mode = perm;
  c->mtime = ms; // c is not touched after the lock is let go: the queue moves and empties
  if (spare.fd >= 0 && spare.fd < PASSTHROUGH_SLOTS) { // a descriptor number starts with no writes on record
    __atomic_store_n(&passthrough_writes[spare.fd].written, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&passthrough_writes[spare.fd].end, 0, __ATOMIC_RELEASE);
  }
  __atomic_add_fetch(created_waiting, 1, __ATOMIC_RELEASE);
  int low = spares_count < SPARES_LOW;
  pthread_rwlock_unlock(&names_lock);
  if (low) spares_want();

  info->fh = CREATED_BASE + slot;
  // what the fgetattr libfuse makes next is answered from (as JavaScript answers a new file)
  fuse_thread_locals_t *l = get_thread_locals();
  struct stat *st = &l->created_stat;
  memset(st, 0, sizeof(*st));
  st->st_mode = S_IFREG | (perm & ~__atomic_load_n(&owner_umask, __ATOMIC_RELAXED));
  st->st_uid = __atomic_load_n(&owner_uid, __ATOMIC_RELAXED);
  st->st_gid = __atomic_load_n(&owner_gid, __ATOMIC_RELAXED);
  st->st_nlink = 1;
  uint32_t ino = 0x811c9dc5; // as src/fuse/ops.ts numbers inodes: FNV-1a of the path, 32 bits
  for (size_t i = 0; i < n; i++) {
    ino ^= (unsigned char) p[i];
    ino *= 0x01000193;
  }
  st->st_ino = ino ? ino : 1;
  st->st_blksize = 4096;
  st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = ms / 1000;
  st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = (ms % 1000) * 1000000;
  l->created_fh = info->fh;
  l->created = 1;
  return 1;
}

static int fuse_native_create_or_ask (const char *path, mode_t mode, struct fuse_file_info *info) {
  if (fuse_native_create_here(path, mode, info)) return 0;
  return fuse_native_create(path, mode, info);
}

// created_init(Int32Array): where the count of files waiting to be adopted is kept.
NAPI_METHOD(fuse_native_created_init) {
  NAPI_ARGV(1)
  void *data = NULL;
  size_t len = 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, argv[0], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_int32_array || len < 1) {
    napi_throw_error(env, NULL, "created_init needs an Int32Array");
    return NULL;
  }
  pthread_rwlock_wrlock(&names_lock);
  if (created_waiting_ref == NULL) napi_create_reference(env, argv[0], 1, &created_waiting_ref);
  created_waiting = (int32_t *) data;
  *created_waiting = (int32_t) created_len;
  pthread_rwlock_unlock(&names_lock);
  return NULL;
}

// spares_start(dir, prefix): the binding makes its spares in dir, named prefix + a number.
NAPI_METHOD(fuse_native_spares_start) {
  NAPI_ARGV(2)
  NAPI_ARGV_UTF8(dir, 4096, 0)
  NAPI_ARGV_UTF8(prefix, SPARE_ID_MAX - 16, 1)
  pthread_mutex_lock(&spares_mutex);
  int ok = !spares_making;
  if (ok) {
    snprintf(spares_dir, sizeof(spares_dir), "%s", dir);
    snprintf(spares_prefix, sizeof(spares_prefix), "%s", prefix);
    __atomic_store_n(&spares_making, 1, __ATOMIC_RELEASE);
    spares_wanted = 1;
    pthread_t t;
    if (pthread_create(&t, NULL, spares_maker, NULL) == 0) pthread_detach(t);
    else {
      __atomic_store_n(&spares_making, 0, __ATOMIC_RELEASE);
      ok = 0;
    }
  }
  pthread_mutex_unlock(&spares_mutex);
  NAPI_RETURN_INT32(ok)
}

// spares_reclaim(): the spares not used, as [fd, id, fd, id, ...]; no file is created here after,
// and the maker thread stops (removing what it is making).
NAPI_METHOD(fuse_native_spares_reclaim) {
  (void) info;
  napi_value out;
  napi_create_array(env, &out);
  pthread_mutex_lock(&spares_mutex);
  __atomic_store_n(&spares_making, 0, __ATOMIC_RELEASE);
  pthread_cond_signal(&spares_cond);
  pthread_mutex_unlock(&spares_mutex);
  pthread_rwlock_wrlock(&names_lock);
  for (size_t i = 0; i < spares_count; i++) {
    napi_value fd, id;
    napi_create_int32(env, spares[i].fd, &fd);
    napi_create_string_utf8(env, spares[i].id, NAPI_AUTO_LENGTH, &id);
    napi_set_element(env, out, 2 * i, fd);
    napi_set_element(env, out, 2 * i + 1, id);
  }
  __atomic_store_n(&spares_count, 0, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&names_lock);
  return out;
}

// created_take(): the files created here since the last call, as
// [fh, fd, id, path, mode, mtime, ...].
NAPI_METHOD(fuse_native_created_take) {
  (void) info;
  napi_value out;
  napi_create_array(env, &out);
  pthread_rwlock_wrlock(&names_lock);
  for (size_t i = 0; i < created_len; i++) {
    created_t *c = &created_queue[i];
    napi_value v[6];
    napi_create_uint32(env, c->fh, &v[0]);
    napi_create_int32(env, c->fd, &v[1]);
    napi_create_string_utf8(env, c->id, NAPI_AUTO_LENGTH, &v[2]);
    napi_create_string_utf8(env, c->path, NAPI_AUTO_LENGTH, &v[3]);
    napi_create_uint32(env, c->mode, &v[4]);
    napi_create_double(env, (double) c->mtime, &v[5]);
    for (int k = 0; k < 6; k++) napi_set_element(env, out, 6 * i + k, v[k]);
    free(c->path);
  }
  created_len = 0;
  if (created_waiting != NULL) __atomic_store_n(created_waiting, 0, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&names_lock);
  return out;
}

// passthrough_written(fd): the end of the furthest write made on fd since the last call, or -1
// when nothing was written.
NAPI_METHOD(fuse_native_passthrough_written) {
  NAPI_ARGV(1)
  NAPI_ARGV_INT32(fd, 0)
  double res = -1;
  if (fd >= 0 && fd < PASSTHROUGH_SLOTS && __atomic_exchange_n(&passthrough_writes[fd].written, 0, __ATOMIC_ACQ_REL)) {
    res = (double) __atomic_exchange_n(&passthrough_writes[fd].end, 0, __ATOMIC_ACQ_REL);
  }
  napi_value out;
  napi_create_double(env, res, &out);
  return out;
}

static void fuse_native_dispatch_init (uv_async_t* handle, fuse_thread_locals_t* l, fuse_thread_t* ft) {
  (void) handle;
  FUSE_NATIVE_CALLBACK(ft->handlers[op_init], {
    napi_value argv[2];

    napi_get_reference_value(env, l->self, &(argv[0]));
    napi_create_uint32(env, l->op, &(argv[1]));

    NAPI_MAKE_CALLBACK(env, NULL, ctx, callback, 2, argv, NULL);
  })
}

NAPI_METHOD(fuse_native_signal_init) {
  NAPI_ARGV(2)
  NAPI_ARGV_BUFFER_CAST(fuse_thread_locals_t *, l, 0);
  NAPI_ARGV_INT32(res, 1);
  l->res = res;
  uv_sem_post(&(l->sem));
  return NULL;
}

static void * fuse_native_init (struct fuse_conn_info *conn) {
  (void) conn;
  fuse_thread_locals_t *l = get_thread_locals();

  l->op = op_init;
  l->op_fn = fuse_native_dispatch_init;

  uv_async_send(&(l->async));
  uv_sem_wait(&(l->sem));

  return l->fuse;
}

// Top-level dispatcher

static void fuse_native_dispatch (uv_async_t* handle) {
  fuse_thread_locals_t *l = (fuse_thread_locals_t *) handle->data;
  fuse_thread_t *ft = l->fuse;
  void (*fn)(uv_async_t *, fuse_thread_locals_t *, fuse_thread_t *) = l->op_fn;

  fn(handle, l, ft);
}

static void fuse_native_async_init (uv_async_t* handle) {
  fuse_thread_t *ft = (fuse_thread_t *) handle->data;
  fuse_thread_locals_t *l;

  FUSE_NATIVE_CALLBACK(ft->malloc, {
    napi_value argv[1];
    napi_create_uint32(ft->env, (uint32_t) sizeof(fuse_thread_locals_t), &(argv[0]));

    napi_value buf;
    NAPI_MAKE_CALLBACK(ft->env, NULL, ctx, callback, 1, argv, &buf);

    size_t l_len;

    napi_get_buffer_info(env, buf, (void **) &l, &l_len);
    napi_create_reference(env, buf, 1, &(l->self));
  })


  int err = uv_async_init(uv_default_loop(), &(l->async), (uv_async_cb) fuse_native_dispatch);
  assert(err >= 0);

  uv_unref((uv_handle_t *) &(l->async));

  uv_sem_init(&(l->sem), 0);
  l->async.data = l;
  ft->async.data = l;
  l->fuse = ft;

  uv_sem_post(&(ft->sem));
}

static fuse_thread_locals_t* get_thread_locals () {
  struct fuse_context *ctx = fuse_get_context();
  fuse_thread_t *ft = (fuse_thread_t *) ctx->private_data;

  void *data = pthread_getspecific(thread_locals_key);

  if (data != NULL) {
    return (fuse_thread_locals_t *) data;
  }

  // Need to lock the mutation of l->async.
  uv_mutex_lock(&(ft->mut));
  ft->async.data = ft;

  // Notify the main thread to uv_async_init l->async.
  uv_async_send(&(ft->async));
  uv_sem_wait(&(ft->sem));

  fuse_thread_locals_t *l = (fuse_thread_locals_t*) ft->async.data;

  pthread_setspecific(thread_locals_key, (void *) l);
  uv_mutex_unlock(&(ft->mut));

  return l;
}

static void* start_fuse_thread (void *data) {
  fuse_thread_t *ft = (fuse_thread_t *) data;
  fuse_loop_mt(ft->fuse);

  fuse_unmount(ft->mnt, ft->ch);
  fuse_session_remove_chan(ft->ch);
  fuse_destroy(ft->fuse);

  return NULL;
}

NAPI_METHOD(fuse_native_mount) {
  NAPI_ARGV(7)

  NAPI_ARGV_UTF8(mnt, 1024, 0);
  NAPI_ARGV_UTF8(mntopts, 1024, 1);
  NAPI_ARGV_BUFFER_CAST(fuse_thread_t *, ft, 2);
  napi_create_reference(env, argv[3], 1, &(ft->ctx));
  napi_create_reference(env, argv[4], 1, &(ft->malloc));
  napi_value handlers = argv[5];
  NAPI_ARGV_BUFFER_CAST(uint32_t *, implemented, 6)

  for (int i = 0; i < 35; i++) {
    ft->handlers[i] = NULL;
  }

  NAPI_FOR_EACH(handlers, handler) {
    napi_create_reference(env, handler, 1, &ft->handlers[i]);
  }

  ft->env = env;

  struct fuse_operations ops = { };
  ops.flag_utime_omit_ok = 1;
  if (implemented[op_access]) ops.access = fuse_native_access;
  if (implemented[op_truncate]) ops.truncate = fuse_native_truncate;
  if (implemented[op_ftruncate]) ops.ftruncate = fuse_native_ftruncate;
  if (implemented[op_getattr]) ops.getattr = fuse_native_getattr_known;
  if (implemented[op_fgetattr]) ops.fgetattr = fuse_native_fgetattr_after_create;
  if (implemented[op_flush]) ops.flush = fuse_native_flush;
  if (implemented[op_fsync]) ops.fsync = fuse_native_fsync;
  if (implemented[op_fsyncdir]) ops.fsyncdir = fuse_native_fsyncdir;
  if (implemented[op_readdir]) ops.readdir = fuse_native_readdir;
  if (implemented[op_readlink]) ops.readlink = fuse_native_readlink;
  if (implemented[op_chown]) ops.chown = fuse_native_chown;
  if (implemented[op_chmod]) ops.chmod = fuse_native_chmod;
  if (implemented[op_mknod]) ops.mknod = fuse_native_mknod;
  if (implemented[op_setxattr]) ops.setxattr = fuse_native_setxattr;
#ifdef __APPLE__
  if (implemented[op_getxattr]) ops.getxattr = fuse_native_getxattr;
#else
  if (implemented[op_getxattr]) ops.getxattr = fuse_native_getxattr_in_prefix;
#endif
  if (implemented[op_listxattr]) ops.listxattr = fuse_native_listxattr;
  if (implemented[op_removexattr]) ops.removexattr = fuse_native_removexattr;
  if (implemented[op_statfs]) ops.statfs = fuse_native_statfs;
  if (implemented[op_open]) ops.open = fuse_native_open_beside_kernel;
  if (implemented[op_opendir]) ops.opendir = fuse_native_opendir;
  if (implemented[op_read]) ops.read = fuse_native_read;
  if (implemented[op_write]) ops.write = fuse_native_write;
  if (implemented[op_read]) ops.read_buf = fuse_native_read_buf;
  if (implemented[op_write]) ops.write_buf = fuse_native_write_buf;
  if (implemented[op_release]) ops.release = fuse_native_release;
  if (implemented[op_releasedir]) ops.releasedir = fuse_native_releasedir;
  if (implemented[op_create]) ops.create = fuse_native_create_or_ask;
  if (implemented[op_utimens]) ops.utimens = fuse_native_utimens;
  if (implemented[op_unlink]) ops.unlink = fuse_native_unlink;
  if (implemented[op_rename]) ops.rename = fuse_native_rename;
  if (implemented[op_link]) ops.link = fuse_native_link;
  if (implemented[op_symlink]) ops.symlink = fuse_native_symlink;
  if (implemented[op_mkdir]) ops.mkdir = fuse_native_mkdir;
  if (implemented[op_rmdir]) ops.rmdir = fuse_native_rmdir;
  if (implemented[op_init]) ops.init = fuse_native_init;

  int _argc = (strcmp(mntopts, "-o") <= 0) ? 1 : 2;
  char *_argv[] = {
    (char *) "fuse_bindings_dummy",
    (char *) mntopts
  };

  struct fuse_args args = FUSE_ARGS_INIT(_argc, _argv);
  struct fuse_chan *kernel_ch = fuse_mount(mnt, &args);

  if (kernel_ch == NULL) {
    napi_throw_error(env, "fuse failed", "fuse failed");
    return NULL;
  }

  // libfuse's channel for the device, replaced by the binding's own (see "The kernel's
  // passthrough"); the replaced one is left as it is, since destroying it would close the device.
  kernel_offered = kernel_on = kernel_unprivileged = kernel_killpriv = 0;
  struct fuse_chan *ch = fuse_chan_new(&channel_ops, fuse_chan_fd(kernel_ch), fuse_chan_bufsize(kernel_ch), NULL);
  if (ch == NULL) {
    napi_throw_error(env, "fuse failed", "fuse failed");
    return NULL;
  }

  struct fuse *fuse = fuse_new(ch, &args, &ops, sizeof(struct fuse_operations), ft);

  uv_mutex_init(&(ft->mut));
  uv_sem_init(&(ft->sem), 0);

  strncpy(ft->mnt, mnt, 1024);
  strncpy(ft->mntopts, mntopts, 1024);
  ft->fuse = fuse;
  ft->ch = ch;
  ft->mounted++;

  int err = uv_async_init(uv_default_loop(), &(ft->async), (uv_async_cb) fuse_native_async_init);

  if (fuse == NULL || err < 0) {
    napi_throw_error(env, "fuse failed", "fuse failed");
    return NULL;
  }

  pthread_attr_init(&(ft->attr));
  pthread_create(&(ft->thread), &(ft->attr), start_fuse_thread, ft);

  return NULL;
}

NAPI_METHOD(fuse_native_unmount) {
  NAPI_ARGV(2)
  NAPI_ARGV_UTF8(mnt, 1024, 0);
  NAPI_ARGV_BUFFER_CAST(fuse_thread_t *, ft, 1);

  if (ft != NULL && ft->mounted) {
    // TODO: Investigate why the FUSE thread is not always killed after fusermount.
    // pthread_join(ft->thread, NULL);
  }

  // TODO: fix the async holding the loop
  uv_unref((uv_handle_t *) &(ft->async));
  ft->mounted--;

  return NULL;
}

NAPI_INIT() {
  const napi_node_version* version;
  assert(napi_get_node_version(env, &version) == napi_ok);

  if (version->major > 12 || (version->major == 12 && version->minor >= 16)) {
    IS_ARRAY_BUFFER_DETACH_SUPPORTED = 1;
  }

  pthread_key_create(&(thread_locals_key), NULL); // TODO: add destructor

  NAPI_EXPORT_SIZEOF(fuse_thread_t)

  NAPI_EXPORT_FUNCTION(fuse_native_mount)
  NAPI_EXPORT_FUNCTION(fuse_native_unmount)
  NAPI_EXPORT_FUNCTION(fuse_native_passthrough_open)
  NAPI_EXPORT_FUNCTION(fuse_native_passthrough_written)
  NAPI_EXPORT_FUNCTION(fuse_native_kernel_passthrough)
  NAPI_EXPORT_FUNCTION(fuse_native_kernel_passthrough_stats)
  NAPI_EXPORT_FUNCTION(fuse_native_names_reset)
  NAPI_EXPORT_FUNCTION(fuse_native_names_add)
  NAPI_EXPORT_FUNCTION(fuse_native_created_init)
  NAPI_EXPORT_FUNCTION(fuse_native_created_take)
  NAPI_EXPORT_FUNCTION(fuse_native_spares_start)
  NAPI_EXPORT_FUNCTION(fuse_native_spares_reclaim)
#ifndef __APPLE__
  NAPI_EXPORT_FUNCTION(fuse_native_xattr_prefix)
#endif

  NAPI_EXPORT_FUNCTION(fuse_native_signal_getattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_init)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_access)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_statfs)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_fgetattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_getattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_flush)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_fsync)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_fsyncdir)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_readdir)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_truncate)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_ftruncate)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_utimens)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_readlink)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_chown)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_chmod)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_mknod)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_setxattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_getxattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_listxattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_removexattr)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_open)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_opendir)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_read)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_write)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_release)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_releasedir)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_create)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_unlink)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_rename)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_link)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_symlink)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_mkdir)
  NAPI_EXPORT_FUNCTION(fuse_native_signal_rmdir)
  NAPI_EXPORT_FUNCTION(fuse_native_owner)

  NAPI_EXPORT_UINT32(op_getattr)
  NAPI_EXPORT_UINT32(op_init)
  NAPI_EXPORT_UINT32(op_error)
  NAPI_EXPORT_UINT32(op_access)
  NAPI_EXPORT_UINT32(op_statfs)
  NAPI_EXPORT_UINT32(op_fgetattr)
  NAPI_EXPORT_UINT32(op_getattr)
  NAPI_EXPORT_UINT32(op_flush)
  NAPI_EXPORT_UINT32(op_fsync)
  NAPI_EXPORT_UINT32(op_fsyncdir)
  NAPI_EXPORT_UINT32(op_readdir)
  NAPI_EXPORT_UINT32(op_truncate)
  NAPI_EXPORT_UINT32(op_ftruncate)
  NAPI_EXPORT_UINT32(op_utimens)
  NAPI_EXPORT_UINT32(op_readlink)
  NAPI_EXPORT_UINT32(op_chown)
  NAPI_EXPORT_UINT32(op_chmod)
  NAPI_EXPORT_UINT32(op_mknod)
  NAPI_EXPORT_UINT32(op_setxattr)
  NAPI_EXPORT_UINT32(op_getxattr)
  NAPI_EXPORT_UINT32(op_listxattr)
  NAPI_EXPORT_UINT32(op_removexattr)
  NAPI_EXPORT_UINT32(op_open)
  NAPI_EXPORT_UINT32(op_opendir)
  NAPI_EXPORT_UINT32(op_read)
  NAPI_EXPORT_UINT32(op_write)
  NAPI_EXPORT_UINT32(op_release)
  NAPI_EXPORT_UINT32(op_releasedir)
  NAPI_EXPORT_UINT32(op_create)
  NAPI_EXPORT_UINT32(op_unlink)
  NAPI_EXPORT_UINT32(op_rename)
  NAPI_EXPORT_UINT32(op_link)
  NAPI_EXPORT_UINT32(op_symlink)
  NAPI_EXPORT_UINT32(op_mkdir)
  NAPI_EXPORT_UINT32(op_rmdir)
}
