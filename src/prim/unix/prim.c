/* mimic: POSIX platform layer (Linux first; BSD/macOS compatible calls where cheap). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mimic/internal.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include <pthread.h>
#include <fcntl.h>
#include <time.h>
#include <sched.h>
#include <errno.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <sys/auxv.h>
#include <linux/mman.h>
#endif

__thread int _mi_prim_tls_anchor;

/* ---- memory ---- */

// The page size from the auxiliary vector where there is one: sysconf would pull a 64 KiB window of
// libc's read-only data into every process (fault-around), about 5% of a small program's RSS.
static long mi_prim_page_size(void) {
#if defined(__linux__) && defined(AT_PAGESZ)
  unsigned long psize = getauxval(AT_PAGESZ);
  if (psize != 0) return (long)psize;
#endif
  return sysconf(_SC_PAGESIZE);
}

void _mi_prim_mem_init(mi_os_mem_config_t* config) {
  long psize = mi_prim_page_size();
  config->page_size = (psize > 0 ? (size_t)psize : 4096);
  config->alloc_granularity = config->page_size;
  config->large_page_size = 2 * MI_MiB;
#if defined(__linux__)
  config->has_overcommit = true;   // mmap'd memory is committed on first touch
#else
  config->has_overcommit = false;
#endif
  config->has_virtual_reserve = true;
}

int _mi_prim_alloc(size_t size, size_t try_alignment, bool commit, bool* is_zero, void** addr) {
  (void)try_alignment;
  int prot = (commit ? PROT_READ | PROT_WRITE : PROT_NONE);
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#if defined(MAP_NORESERVE)
  flags |= MAP_NORESERVE;   // we commit by touching; do not count the reservation against overcommit
#endif
  void* p = mmap(NULL, size, prot, flags, -1, 0);
  if (p == MAP_FAILED) { *addr = NULL; return errno; }
  *is_zero = true;
  *addr = p;
  return 0;
}

int _mi_prim_free(void* addr, size_t size) {
  return (munmap(addr, size) == 0 ? 0 : errno);
}

int _mi_prim_commit(void* addr, size_t size, bool* is_zero) {
  *is_zero = false;
  if (mprotect(addr, size, PROT_READ | PROT_WRITE) != 0) return errno;
  return 0;
}

int _mi_prim_decommit(void* addr, size_t size, bool* needs_recommit) {
  // MADV_DONTNEED keeps the mapping usable (pages read back as zero): no recommit needed.
  *needs_recommit = false;
  if (madvise(addr, size, MADV_DONTNEED) != 0) return errno;
  return 0;
}

int _mi_prim_reset(void* addr, size_t size) {
#if defined(MADV_FREE)
  static mi_atomic(int) advice = MADV_FREE;
  int a = mi_atomic_load_relaxed(&advice);
  if (madvise(addr, size, a) == 0) return 0;
  if (errno == EINVAL && a == MADV_FREE) {   // old kernel: fall back once and for all
    mi_atomic_store_relaxed(&advice, MADV_DONTNEED);
    return (madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno);
  }
  return errno;
#else
  return (madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno);
#endif
}

int _mi_prim_protect(void* addr, size_t size, bool protect) {
  return (mprotect(addr, size, protect ? PROT_NONE : PROT_READ | PROT_WRITE) == 0 ? 0 : errno);
}

int _mi_prim_remap(void* addr, size_t size, size_t newsize, void** newaddr) {
#if defined(__linux__) && defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED)
  void* p;
  if (newaddr == NULL || *newaddr == NULL) p = mremap(addr, size, newsize, 0);   // in place only
  else p = mremap(addr, size, newsize, MREMAP_MAYMOVE | MREMAP_FIXED, *newaddr);
  if (p == MAP_FAILED) return errno;
  if (newaddr != NULL) *newaddr = p;
  return 0;
#else
  (void)addr; (void)size; (void)newsize; (void)newaddr;
  return ENOTSUP;
#endif
}

/* ---- time, process info, output, environment, randomness ---- */

int64_t _mi_prim_clock_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ((int64_t)t.tv_sec * 1000) + ((int64_t)t.tv_nsec / 1000000);
}

void _mi_prim_thread_yield(void) { sched_yield(); }

static int64_t mi_timeval_msecs(const struct timeval* tv) {
  return ((int64_t)tv->tv_sec * 1000) + ((int64_t)tv->tv_usec / 1000);
}

// Resident set size from /proc/self/statm, read with raw syscalls (no stdio: it may allocate).
static size_t mi_prim_current_rss(void) {
#if defined(__linux__)
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* s = buf;
  while (*s && *s != ' ') s++;        // skip total program size
  while (*s == ' ') s++;
  size_t pages = 0;
  while (*s >= '0' && *s <= '9') { pages = pages * 10 + (size_t)(*s - '0'); s++; }
  return pages * (size_t)mi_prim_page_size();
#else
  return 0;
#endif
}

void _mi_prim_process_info(mi_process_info_t* pinfo) {
  struct rusage ru;
  memset(&ru, 0, sizeof(ru));
  getrusage(RUSAGE_SELF, &ru);
  pinfo->utime = mi_timeval_msecs(&ru.ru_utime);
  pinfo->stime = mi_timeval_msecs(&ru.ru_stime);
  pinfo->page_faults = (size_t)ru.ru_majflt + (size_t)ru.ru_minflt;   // all faults: most are minor
#if defined(__APPLE__)
  pinfo->peak_rss = (size_t)ru.ru_maxrss;           // bytes on macOS
#else
  pinfo->peak_rss = (size_t)ru.ru_maxrss * 1024;    // KiB on Linux/BSD
#endif
  pinfo->current_rss = mi_prim_current_rss();
  if (pinfo->current_rss == 0) pinfo->current_rss = pinfo->peak_rss;
  if (pinfo->peak_rss < pinfo->current_rss) pinfo->peak_rss = pinfo->current_rss;   // maxrss lags statm
}

void _mi_prim_out_stderr(const char* msg) {
  size_t len = strlen(msg);
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, msg, len);
    if (n < 0) { if (errno == EINTR) continue; return; }
    msg += n; len -= (size_t)n;
  }
}

extern char** environ;

static int mi_tolower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// Scans `environ` case-insensitively: getenv may not be usable yet while the C runtime starts up,
// and MIMALLOC_verbose / mimalloc_VERBOSE must both work.
static bool mi_env_has_prefix(const char* s, const char* prefix) {
  for (; *prefix != 0; s++, prefix++) {
    if (mi_tolower((unsigned char)*s) != *prefix) return false;
  }
  return true;
}

mi_decl_cold bool _mi_prim_getenv(const char* name, char* result, size_t result_size) {
  if (name == NULL || result == NULL || result_size == 0) return false;
  char** env = environ;
  if (env == NULL) return false;
  // Most processes set none of our variables: find that out once, then answer at once (every
  // option is looked up under two or three names at start-up, in every process).
  static mi_atomic(int) has_ours;   // 0: not scanned yet, 1: none, 2: some
  int state = mi_atomic_load_relaxed(&has_ours);
  if (state == 0) {
    state = 1;
    for (size_t i = 0; env[i] != NULL; i++) {
      if (mi_env_has_prefix(env[i], "mimic_") || mi_env_has_prefix(env[i], "mimalloc_")) { state = 2; break; }
    }
    mi_atomic_store_relaxed(&has_ours, state);
  }
  if (state == 1 && (mi_env_has_prefix(name, "mimic_") || mi_env_has_prefix(name, "mimalloc_"))) return false;
  size_t len = strlen(name);
  for (size_t i = 0; env[i] != NULL; i++) {
    const char* s = env[i];
    size_t j = 0;
    while (j < len && s[j] != 0 && mi_tolower((unsigned char)s[j]) == mi_tolower((unsigned char)name[j])) j++;
    if (j == len && s[j] == '=') {
      const char* v = s + len + 1;
      size_t k = 0;
      while (v[k] != 0 && k + 1 < result_size) { result[k] = v[k]; k++; }
      result[k] = 0;
      return true;
    }
  }
  return false;
}

bool _mi_prim_random_buf(void* buf, size_t buf_len) {
#if defined(__linux__) && defined(SYS_getrandom)
  long n = syscall(SYS_getrandom, buf, buf_len, 1 /* GRND_NONBLOCK */);
  if (n == (long)buf_len) return true;
#endif
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t count = 0;
  while (count < buf_len) {
    ssize_t n = read(fd, (char*)buf + count, buf_len - count);
    if (n <= 0) { if (n < 0 && errno == EINTR) continue; break; }
    count += (size_t)n;
  }
  close(fd);
  return (count == buf_len);
}

/* ---- thread exit ---- */

static pthread_key_t mi_pthread_key;
static mi_atomic(int) mi_pthread_key_state;   // 0 none, 1 created
static void (*mi_thread_done_fun)(void* heap);

static void mi_pthread_done(void* value) {
  if (value != NULL && mi_thread_done_fun != NULL) mi_thread_done_fun(value);
}

void _mi_prim_thread_init_auto_done(void (*done)(void* heap)) {
  mi_thread_done_fun = done;
  if (mi_atomic_load_acquire(&mi_pthread_key_state) == 0) {
    if (pthread_key_create(&mi_pthread_key, &mi_pthread_done) == 0) {
      mi_atomic_store_release(&mi_pthread_key_state, 1);
    }
  }
}

void _mi_prim_thread_done_auto_done(void) {
  // Delete the key at process exit so a dlclose'd library leaves no destructor behind (mimalloc #809).
  if (mi_atomic_load_acquire(&mi_pthread_key_state) == 1) {
    mi_atomic_store_release(&mi_pthread_key_state, 0);
    pthread_key_delete(mi_pthread_key);
  }
}

void _mi_prim_thread_associate_default_heap(void* heap) {
  if (mi_atomic_load_acquire(&mi_pthread_key_state) == 1) pthread_setspecific(mi_pthread_key, heap);
}

void _mi_prim_register_fork_handlers(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  pthread_atfork(prepare, parent, child);
}

/* ---- locks ---- */

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(mi_lock_t), "mi_lock_t too small for pthread_mutex_t");

void _mi_prim_lock_init(mi_lock_t* lock) { pthread_mutex_init((pthread_mutex_t*)lock->opaque, NULL); }
void _mi_prim_lock_acquire(mi_lock_t* lock) { pthread_mutex_lock((pthread_mutex_t*)lock->opaque); }
void _mi_prim_lock_release(mi_lock_t* lock) { pthread_mutex_unlock((pthread_mutex_t*)lock->opaque); }
