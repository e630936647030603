/* test-reuse.c -- memory that comes back (purged pages, cached segments, segments of exited
 * threads) reads as the API promises, and thread churn reuses memory instead of faulting in
 * fresh pages.
 *
 *   test-reuse [rounds]      (default 40)
 *
 * Part 1: blocks of every kind are written with a pattern and freed; after a forced purge and
 *         without one, mi_calloc/mi_zalloc of the same sizes must read as zero everywhere (a page
 *         is purged only over the bytes it touched, and reused memory is marked zero only when
 *         that covered everything).
 * Part 2: a huge block is written and freed (its segment is cached); a fresh thread then needs
 *         ordinary segments and may get the cached one, cut down: its calloc'd blocks must be zero.
 * Part 3: thread churn in rounds (4 short-lived threads allocating 8 B - 1 MiB, handing blocks
 *         to the next round): every calloc'd block is zero, every handed-over block keeps its
 *         stamp, and after a warm-up the rounds fault in few pages (minor faults per round are
 *         bounded: memory of exited threads and emptied segments is reused, not unmapped and
 *         faulted in again). The purge delay is set long so the bound does not depend on speed.
 */
#include "testutil.h"

#include <pthread.h>
#include <sys/resource.h>

#include "mimalloc.h"

static bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) if (p[i] != 0) return false;
  return true;
}

static const size_t sizes[] = {8, 24, 100, 512, 1000, 4096, 8000, 16384, 40000, 100000,
                               200000, 700000, 1500000, 3000000, 6000000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* ---- part 1 ------------------------------------------------------------------------- */
static void part1(void) {
  for (int round = 0; round < 6; round++) {
    enum { PER = 24 };
    void* blocks[NSIZES][PER];
    for (size_t s = 0; s < NSIZES; s++) {
      for (int i = 0; i < PER; i++) {
        blocks[s][i] = mi_malloc(sizes[s]);
        CHECK(blocks[s][i] != NULL);
        if (blocks[s][i] != NULL) memset(blocks[s][i], 0xCD, mi_usable_size(blocks[s][i]));
      }
    }
    for (size_t s = 0; s < NSIZES; s++)
      for (int i = 0; i < PER; i++) mi_free(blocks[s][i]);
    if (round % 2 == 0) mi_collect(true);   /* purge everything that is free */
    long bad = 0;
    for (size_t s = 0; s < NSIZES; s++) {
      for (int i = 0; i < PER; i++) {
        uint8_t* p = (uint8_t*)(i % 2 ? mi_calloc(1, sizes[s]) : mi_zalloc(sizes[s]));
        CHECK(p != NULL);
        if (p == NULL) continue;
        if (!all_zero(p, sizes[s])) bad++;
        memset(p, 0xEF, sizes[s]);
        blocks[s][i] = p;
      }
    }
    CHECKF(bad == 0, "round %d: %ld zero-initialised blocks were not zero", round, bad);
    for (size_t s = 0; s < NSIZES; s++)
      for (int i = 0; i < PER; i++) mi_free(blocks[s][i]);
  }
}

/* ---- part 2 ------------------------------------------------------------------------- */
static void* calloc_many(void* arg) {
  long* bad = (long*)arg;
  enum { N = 3000 };
  static void* keep[N];
  for (int i = 0; i < N; i++) {
    size_t sz = (i % 3 == 0 ? 2000 : i % 3 == 1 ? 24 : 20000);
    uint8_t* p = (uint8_t*)mi_calloc(1, sz);
    if (p == NULL || !all_zero(p, sz)) (*bad)++;
    if (p != NULL) memset(p, 0x5A, sz);
    keep[i] = p;
  }
  for (int i = 0; i < N; i++) mi_free(keep[i]);
  return NULL;
}

static void part2(void) {
  for (int round = 0; round < 4; round++) {
    size_t sz = (size_t)(5 + round) * TU_MiB;
    uint8_t* huge = (uint8_t*)mi_malloc(sz);
    CHECK(huge != NULL);
    if (huge != NULL) memset(huge, 0xEE, sz);
    mi_free(huge);   /* its segment goes to the cache, dirty */
    long bad = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, calloc_many, &bad) == 0);
    pthread_join(t, NULL);
    CHECKF(bad == 0, "round %d: %ld calloc'd blocks in a reused segment were not zero", round, bad);
  }
}

/* ---- part 3 ------------------------------------------------------------------------- */
#define THREADS 4
#define HANDOFF 512
static _Atomic(uintptr_t) handoff[HANDOFF];
static atomic_long bad_zero, bad_stamp;

typedef struct { uint64_t seed; } warg_t;

static size_t pick_size(uint64_t* rng) {
  uint64_t r = tu_rand_below(rng, 1000);
  if (r == 0) return 128 * 1024 + (size_t)tu_rand_below(rng, 900 * 1024);
  if (r < 60) return 1024 + (size_t)tu_rand_below(rng, 63 * 1024);
  return 8 + (size_t)tu_rand_below(rng, 1016);
}

static void stamp(uint64_t* p, size_t size) {
  p[0] = (uint64_t)(uintptr_t)p ^ 0x9e3779b97f4a7c15u;
  p[size / 8 - 1] = (uint64_t)size;
}
static bool stamp_ok(const uint64_t* p, size_t size) {
  return p[0] == ((uint64_t)(uintptr_t)p ^ 0x9e3779b97f4a7c15u) && p[size / 8 - 1] == (uint64_t)size;
}

static void* churn_worker(void* arg) {
  uint64_t rng = ((warg_t*)arg)->seed;
  enum { LOCAL = 300, STEPS = 6000 };
  void* local[LOCAL] = {0};
  size_t lsize[LOCAL] = {0};
  for (int step = 0; step < STEPS; step++) {
    size_t k = (size_t)tu_rand_below(&rng, LOCAL);
    if (local[k] != NULL) {
      if (!stamp_ok((uint64_t*)local[k], lsize[k])) atomic_fetch_add(&bad_stamp, 1);
      mi_free(local[k]);
    }
    size_t sz = pick_size(&rng) & ~(size_t)7;
    if (sz < 16) sz = 16;
    uint8_t* p = (uint8_t*)mi_calloc(1, sz);
    if (p == NULL) { local[k] = NULL; continue; }
    if (p[0] != 0 || p[sz / 2] != 0 || p[sz - 1] != 0) atomic_fetch_add(&bad_zero, 1);
    stamp((uint64_t*)p, sz);
    if (step % 5 == 0) {   /* hand it to a later round (blocks outlive their thread) */
      ((uint64_t*)p)[1] = sz;
      uintptr_t old = atomic_exchange(&handoff[tu_rand_below(&rng, HANDOFF)], (uintptr_t)p);
      if (old != 0) {
        uint64_t* q = (uint64_t*)old;
        if (!stamp_ok(q, (size_t)q[1])) atomic_fetch_add(&bad_stamp, 1);
        mi_free(q);
      }
      local[k] = NULL;
    }
    else { local[k] = p; lsize[k] = sz; }
  }
  for (int k = 0; k < LOCAL; k++) {
    if (local[k] != NULL && !stamp_ok((uint64_t*)local[k], lsize[k])) atomic_fetch_add(&bad_stamp, 1);
    mi_free(local[k]);
  }
  return NULL;
}

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static void part3(long rounds) {
  long warmup = rounds / 4;
  long faults0 = 0;
  for (long r = 0; r < rounds; r++) {
    if (r == warmup) faults0 = minor_faults();
    pthread_t th[THREADS];
    warg_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
      args[i].seed = (uint64_t)(r * THREADS + i + 1) * 7919u;
      CHECK(pthread_create(&th[i], NULL, churn_worker, &args[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  }
  long per_round = (minor_faults() - faults0) / (rounds - warmup);
  for (int i = 0; i < HANDOFF; i++) {
    uint64_t* q = (uint64_t*)atomic_exchange(&handoff[i], 0);
    if (q != NULL) {
      if (!stamp_ok(q, (size_t)q[1])) atomic_fetch_add(&bad_stamp, 1);
      mi_free(q);
    }
  }
  CHECK_EQ(atomic_load(&bad_zero), 0);
  CHECK_EQ(atomic_load(&bad_stamp), 0);
  /* Each round allocates ~24,000 blocks (~10 MiB if it all were new memory: ~2,500 pages).
     Thread stacks and TLS of the 4 new threads fault in a few dozen pages per round. Before
     emptied segments were cached by what they hold resident (and adopted free pages kept),
     a round faulted in ~1,500 pages; now it is ~100-300. */
  printf("part 3: %ld rounds x %d threads; minor page faults per round after warm-up: %ld (limit 1200)\n",
         rounds, THREADS, per_round);
#if !TU_SANITIZED
  CHECKF(per_round <= 1200, "%ld page faults per round", per_round);
#endif
}

int main(int argc, char** argv) {
  long rounds = (argc > 1 ? atol(argv[1]) : 40);
  if (rounds < 4) rounds = 4;
  /* a long purge delay: the fault bound must not depend on how fast this machine runs */
  mi_option_set(mi_option_purge_delay, 1000);
  part1();
  part2();
  part3(rounds);
  return tu_report();
}
