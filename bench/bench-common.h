/* bench-common.h -- shared helpers for the mimic benchmark programs.
 *
 * Every benchmark is a plain C program that allocates through malloc/free only, so
 * any allocator can be injected with LD_PRELOAD.  This header gives each program:
 *   - one argument convention:  prog [--quick] [-t threads] [-n iterations] [-s size/scale]
 *   - a small, fast, seedable PRNG (splitmix64 seeding a xorshift128+ stream),
 *   - a monotonic clock, a checksum accumulator and a uniform result line.
 *
 * Header-only; all functions are static so each program is one translation unit.
 */
#ifndef MIMIC_BENCH_COMMON_H
#define MIMIC_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#if defined(__GNUC__)
#define BENCH_UNUSED __attribute__((unused))
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_UNUSED
#define BENCH_NOINLINE
#endif

/* ---- arguments --------------------------------------------------------------- */

typedef struct bench_args_s {
  long threads;     /* -t: worker threads                          */
  long iters;       /* -n: iterations / rounds (program specific)  */
  long size;        /* -s: size or scale (program specific)        */
  bool quick;       /* --quick: the small argument set             */
} bench_args_t;

/* Parse argv.  `defaults` holds the full-size settings, `quick` the --quick ones;
 * explicit -t/-n/-s always win over either set. */
static BENCH_UNUSED void bench_parse(int argc, char** argv, const char* usage,
                                     bench_args_t defaults, bench_args_t quick,
                                     bench_args_t* out) {
  long t = -1, n = -1, s = -1;
  bool q = false;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    long* dst = NULL;
    if (strcmp(a, "--quick") == 0 || strcmp(a, "-q") == 0) { q = true; continue; }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      printf("usage: %s [--quick] [-t threads] [-n iterations] [-s size]\n%s\n", argv[0], usage);
      exit(0);
    }
    if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) dst = &t;
    else if (strcmp(a, "-n") == 0 || strcmp(a, "--iters") == 0) dst = &n;
    else if (strcmp(a, "-s") == 0 || strcmp(a, "--size") == 0) dst = &s;
    if (dst == NULL || i + 1 >= argc) {
      fprintf(stderr, "%s: bad argument '%s' (try --help)\n", argv[0], a);
      exit(2);
    }
    char* end = NULL;
    long v = strtol(argv[++i], &end, 0);
    if (end == NULL || *end != 0 || v <= 0) {
      fprintf(stderr, "%s: '%s' needs a positive integer\n", argv[0], a);
      exit(2);
    }
    *dst = v;
  }
  *out = q ? quick : defaults;
  out->quick = q;
  if (t > 0) out->threads = t;
  if (n > 0) out->iters = n;
  if (s > 0) out->size = s;
}

/* ---- PRNG --------------------------------------------------------------------- */

typedef struct bench_rng_s { uint64_t a, b; } bench_rng_t;

static inline uint64_t bench_splitmix(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static inline void bench_rng_seed(bench_rng_t* r, uint64_t seed) {
  uint64_t x = seed;
  r->a = bench_splitmix(&x);
  r->b = bench_splitmix(&x);
  if ((r->a | r->b) == 0) r->b = 1;
}

static inline uint64_t bench_rand(bench_rng_t* r) {   /* xorshift128+ */
  uint64_t s1 = r->a;
  const uint64_t s0 = r->b;
  r->a = s0;
  s1 ^= s1 << 23;
  r->b = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
  return r->b + s0;
}

/* uniform in [0, n) (n > 0), without division: multiply-high */
static inline uint64_t bench_below(bench_rng_t* r, uint64_t n) {
  return (uint64_t)(((unsigned __int128)bench_rand(r) * n) >> 64);
}

/* uniform in [lo, hi] */
static inline size_t bench_range(bench_rng_t* r, size_t lo, size_t hi) {
  return lo + (size_t)bench_below(r, (uint64_t)(hi - lo + 1));
}

/* A size skewed towards small values: pick an exponent uniformly in [lo_bits, hi_bits),
 * then a size uniformly inside that power-of-two band.  Roughly what real programs do. */
static inline size_t bench_size_log(bench_rng_t* r, unsigned lo_bits, unsigned hi_bits) {
  unsigned e = lo_bits + (unsigned)bench_below(r, hi_bits - lo_bits);
  size_t base = (size_t)1 << e;
  return base + (size_t)bench_below(r, base);
}

/* ---- time and output ---------------------------------------------------------- */

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Touch a block so the allocation cannot be elided and its memory is really used. */
static inline void bench_touch(void* p, size_t size, uint64_t tag) {
  unsigned char* c = (unsigned char*)p;
  c[0] = (unsigned char)tag;
  if (size > 1) c[size - 1] = (unsigned char)(tag >> 8);
}

static inline uint64_t bench_mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h;
}

static BENCH_UNUSED void* bench_xmalloc(size_t n) {
  void* p = malloc(n);
  if (p == NULL) { fprintf(stderr, "bench: out of memory (%zu bytes)\n", n); exit(3); }
  return p;
}

/* The uniform last line every benchmark prints: parsed by nobody, read by people. */
static BENCH_UNUSED void bench_report(const char* name, const bench_args_t* a, double secs,
                                      double ops, uint64_t checksum) {
  printf("%s: threads=%ld iters=%ld size=%ld time=%.3fs", name, a->threads, a->iters, a->size, secs);
  if (ops > 0) printf(" ops=%.0f (%.2f Mops/s)", ops, ops / secs / 1e6);
  printf(" checksum=%016llx\n", (unsigned long long)checksum);
}

/* Run fn(i) on `n` threads and join them all. */
typedef void* (*bench_thread_fn)(void*);
static BENCH_UNUSED void bench_run_threads(long n, bench_thread_fn fn, void* args, size_t arg_size) {
  pthread_t* tids = (pthread_t*)bench_xmalloc(sizeof(pthread_t) * (size_t)n);
  for (long i = 0; i < n; i++) {
    if (pthread_create(&tids[i], NULL, fn, (char*)args + (size_t)i * arg_size) != 0) {
      fprintf(stderr, "bench: pthread_create failed\n"); exit(3);
    }
  }
  for (long i = 0; i < n; i++) pthread_join(tids[i], NULL);
  free(tids);
}

#endif
