// Reads and writes of open files served on the FUSE threads: a handle that JavaScript tied to a
// file descriptor (passthrough_open), or that creates.c made, is read and written with
// pread/pwrite (or splice where libfuse can) on the FUSE thread that received the request.
//
// Threads: the JavaScript thread ties and unties handles (passthrough_open) and collects how far
// writes went (passthrough_written); FUSE threads read the tables and note writes; a FUSE thread
// creating a file takes a free created slot (creates.c, under names_lock). No lock: every slot is
// one word read and written with atomics, and a handle is tied before the kernel learns of it and
// untied after its RELEASE.

#include "binding.h"
#include "fastpath.h"
#include "requests.h"

// Passthrough: reads and writes of a file handle that JavaScript tied to a file descriptor are
// served on the FUSE thread that received them (pread/pwrite, or splice where libfuse can), with
// no round trip to JavaScript. JavaScript learns what was written through
// fuse_native_passthrough_written. Handles it did not tie go to its read/write handlers as before.

static int passthrough_fds[PASSTHROUGH_SLOTS]; // file handle -> fd + 1 (0: not tied)
passthrough_writes_t passthrough_writes[PASSTHROUGH_SLOTS]; // fd -> writes made here

int created_fds[CREATED_SLOTS]; // slot -> fd + 1 (0: free)

int passthrough_fd (uint64_t fh) {
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

int fuse_native_read_buf (const char *path, struct fuse_bufvec **bufp, size_t size, off_t offset, struct fuse_file_info *info) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
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

int fuse_native_write_buf (const char *path, struct fuse_bufvec *buf, off_t offset, struct fuse_file_info *info) {
  note_request(path); // use of the mount (requests.h); a hand-off to JavaScript counts again
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

unsigned char passthrough_kernel_ok[PASSTHROUGH_SLOTS]; // file handle -> may be handed to the kernel

// passthrough_open(fh, fd, kernel): serve fh's reads and writes from fd; fd -1 unties it. With
// kernel 1, fh's opens may be handed to the kernel's own passthrough (passthrough.c): only for handles whose reads never need JavaScript and that see no writes.
NAPI_METHOD(fuse_native_passthrough_open) {
  NAPI_ARGV(3)
  NAPI_ARGV_UINT32(fh, 0)
  NAPI_ARGV_INT32(fd, 1)
  NAPI_ARGV_UINT32(kernel, 2)
  int slot = fh < PASSTHROUGH_SLOTS || (fh >= CREATED_BASE && fh < CREATED_BASE + CREATED_SLOTS);
  int ok = slot && fd < PASSTHROUGH_SLOTS;
  // a descriptor past the table unties the handle (JavaScript serves it) rather than leave a tie
  // the handle had before in place; untying a handle made here frees its slot
  int tie = ok ? fd : -1;
  if (slot && fh < PASSTHROUGH_SLOTS) __atomic_store_n(&passthrough_kernel_ok[fh], tie >= 0 && kernel ? 1 : 0, __ATOMIC_RELEASE);
  if (slot) __atomic_store_n(fh >= CREATED_BASE ? &created_fds[fh - CREATED_BASE] : &passthrough_fds[fh], tie + 1, __ATOMIC_RELEASE);
  NAPI_RETURN_INT32(ok)
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
