/* testutil.h -- tiny shared assertion/helper header for the mimic test suite.
 *
 * Every test program includes this first (it defines _GNU_SOURCE), counts its checks with
 * CHECK()/CHECKF(), and ends with `return tu_report();`, which prints exactly
 *     N passed, M failed
 * alone on a line and returns non-zero when anything failed.
 *
 * Counters are C11 atomics so checks may be made from any thread. In hot loops, count
 * failures locally and make one CHECK at the end (keeps counts meaningful and fast).
 */
#ifndef MIMIC_TESTUTIL_H
#define MIMIC_TESTUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- sanitizer detection ------------------------------------------------------------ */
#if defined(__SANITIZE_THREAD__)
#define TU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif
#ifndef TU_TSAN
#define TU_TSAN 0
#endif
#ifndef TU_ASAN
#define TU_ASAN 0
#endif
#define TU_SANITIZED (TU_TSAN || TU_ASAN)

#define TU_UNUSED(x) ((void)(x))
#define TU_KiB ((size_t)1024)
#define TU_MiB ((size_t)1024 * 1024)
#define TU_GiB ((size_t)1024 * 1024 * 1024)

/* ---- check counting ----------------------------------------------------------------- */
static atomic_ulong tu_passed_;
static atomic_ulong tu_failed_;
static const unsigned long tu_max_reports_ = 40; /* failures printed in detail */

static inline bool tu_check_(bool ok, const char* file, int line, const char* expr) {
  if (ok) {
    atomic_fetch_add_explicit(&tu_passed_, 1, memory_order_relaxed);
  } else {
    unsigned long n = atomic_fetch_add_explicit(&tu_failed_, 1, memory_order_relaxed);
    if (n < tu_max_reports_) {
      fprintf(stderr, "%s:%d: CHECK FAILED: %s\n", file, line, expr);
      fflush(stderr);
    }
  }
  return ok;
}

/* CHECK(cond): count one check; evaluates to cond. */
#define CHECK(cond) tu_check_((cond) ? true : false, __FILE__, __LINE__, #cond)
/* CHECKF(cond, fmt, ...): like CHECK, with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                                  \
  (tu_check_((cond) ? true : false, __FILE__, __LINE__, #cond) ? true                      \
               : (fprintf(stderr, "    "), fprintf(stderr, __VA_ARGS__),                   \
                  fputc('\n', stderr), fflush(stderr), false))
/* CHECK_EQ for integers: prints both values on failure. */
#define CHECK_EQ(a, b)                                                                     \
  CHECKF((unsigned long long)(a) == (unsigned long long)(b), "%s = %llu, %s = %llu", #a,   \
         (unsigned long long)(a), #b, (unsigned long long)(b))

static inline unsigned long tu_passed(void) { return atomic_load(&tu_passed_); }
static inline unsigned long tu_failed(void) { return atomic_load(&tu_failed_); }

/* Print the closing line and give the exit code for main. */
static inline int tu_report(void) {
  fflush(stderr);
  printf("%lu passed, %lu failed\n", tu_passed(), tu_failed());
  fflush(stdout);
  return tu_failed() == 0 ? 0 : 1;
}

/* ---- small helpers ------------------------------------------------------------------ */
static inline bool tu_is_aligned(const void* p, size_t align) {
  return ((uintptr_t)p & (align - 1)) == 0;
}

static inline double tu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size in bytes from /proc/self/statm (0 if unavailable). */
static inline size_t tu_rss(void) {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  if (n != 2) return 0;
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static inline size_t tu_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* splitmix64: seedable, good enough, one word of state. */
static inline uint64_t tu_rand(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* uniform in [0, n) (n > 0) */
static inline size_t tu_rand_below(uint64_t* state, size_t n) {
  return (size_t)(tu_rand(state) % (uint64_t)n);
}

/* ---- block stamping ------------------------------------------------------------------
 * tu_stamp(p, n, id) writes a pattern derived from (id, position) over a block of n bytes;
 * tu_stamp_ok(p, n, id) verifies it. Blocks up to 8 KiB are covered completely; larger
 * blocks get their first and last 64 bytes, one word every `stride` bytes (≈1024 words per
 * block, at least one per 4 KiB) and the trailing odd bytes. Blocks are only assumed to be
 * byte-aligned (memcpy is used for the words).
 */
static inline uint64_t tu_word(uint64_t id, size_t pos) {
  uint64_t x = (id + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)pos * 0xD6E8FEB86659FD93ull);
  x ^= x >> 32;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return x;
}
static inline size_t tu_stride(size_t n) {
  if (n <= 8 * TU_KiB) return 8;
  size_t s = (n / 1024) & ~(size_t)7;
  if (s > 4096) s = 4096;
  return s < 8 ? 8 : s;
}
/* visit every stamped position; op 0 = write, 1 = check. Returns false on first mismatch. */
static inline bool tu_stamp_walk_(void* p, size_t n, uint64_t id, int op) {
  uint8_t* b = (uint8_t*)p;
  size_t nw = n & ~(size_t)7; /* bytes covered by whole words */
  size_t stride = tu_stride(n);
  size_t head = nw < 64 ? nw : 64;
  size_t tail = nw > 64 ? nw - 64 : 0;
  size_t pos = 0;
  for (;;) {
    if (pos >= nw) break;
    uint64_t w = tu_word(id, pos);
    if (op == 0) {
      memcpy(b + pos, &w, 8);
    } else {
      uint64_t v;
      memcpy(&v, b + pos, 8);
      if (v != w) return false;
    }
    if (pos < head || pos >= tail) pos += 8;
    else {
      pos += stride;
      if (pos > tail) pos = tail;
    }
  }
  for (size_t i = nw; i < n; i++) {
    uint8_t v = (uint8_t)(id * 31 + i);
    if (op == 0) b[i] = v;
    else if (b[i] != v) return false;
  }
  return true;
}
static inline void tu_stamp(void* p, size_t n, uint64_t id) { (void)tu_stamp_walk_(p, n, id, 0); }
static inline bool tu_stamp_ok(const void* p, size_t n, uint64_t id) {
  return tu_stamp_walk_((void*)p, n, id, 1);
}

/* true if all n bytes are zero */
static inline bool tu_all_zero(const void* p, size_t n) {
  const uint8_t* b = (const uint8_t*)p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0) return false;
  return true;
}
/* true if all n bytes equal c */
static inline bool tu_all_byte(const void* p, int c, size_t n) {
  const uint8_t* b = (const uint8_t*)p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != (uint8_t)c) return false;
  return true;
}

/* parse argv[i] as a positive number, else default */
static inline long tu_arg(int argc, char** argv, int i, long dflt) {
  if (i < argc) {
    char* end = NULL;
    long v = strtol(argv[i], &end, 10);
    if (end != argv[i] && v > 0) return v;
  }
  return dflt;
}

#endif /* MIMIC_TESTUTIL_H */
