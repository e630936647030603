/* test-stress.c -- multi-threaded stress test (issue 3).
 *
 *   test-stress [threads] [iterations] [scale]      (default 8 10 50)
 *
 * `threads` workers run at once. Each worker does 2500*scale operations on a private set of
 * 4*scale live blocks: random sizes 8 B..256 KiB (mostly small) plus an occasional 4 MiB block,
 * every block stamped with a pattern derived from its id and checked before it is freed.
 * About a quarter of the blocks go through a shared transfer array, so they are freed (or
 * re-allocated) by another thread -- often after the thread that allocated them has exited.
 * A worker exits after its rounds and is replaced at once while the others keep running and
 * holding blocks; in total threads*iterations workers run. Prints `stamp mismatches: N` and
 * ops/s. Under ThreadSanitizer the default configuration shrinks.
 */
#include "testutil.h"

#include <pthread.h>

#include "mimalloc.h"

typedef struct hdr_s {
  uint64_t id;
  size_t size;
} hdr_t;

#define TRANSFER 1024
static _Atomic(hdr_t*) transfer[TRANSFER];
static atomic_long mismatches;
static atomic_long null_results;
static atomic_long total_ops;
static atomic_ulong next_id;
static long scale;

static size_t pick_size(uint64_t* rng) {
  size_t r = tu_rand_below(rng, 10000);
  if (r == 0) return 4 * TU_MiB;                                  /* occasional huge block */
  if (r < 7000) return 8 + tu_rand_below(rng, 249);               /* 8..256 B */
  if (r < 9500) return 257 + tu_rand_below(rng, 8 * 1024);        /* ..8 KiB */
  if (r < 9950) return 8 * 1024 + tu_rand_below(rng, 56 * 1024);  /* ..64 KiB */
  return 64 * 1024 + tu_rand_below(rng, 192 * 1024);              /* ..256 KiB */
}

static hdr_t* alloc_block(uint64_t* rng) {
  size_t sz = pick_size(rng);
  if (sz < sizeof(hdr_t)) sz = sizeof(hdr_t);
  hdr_t* h;
  size_t k = tu_rand_below(rng, 16);
  if (k == 0) h = (hdr_t*)mi_zalloc(sz);
  else if (k == 1) h = (hdr_t*)mi_malloc_aligned(sz, (size_t)64 << tu_rand_below(rng, 8));
  else h = (hdr_t*)mi_malloc(sz);
  if (!h) { atomic_fetch_add(&null_results, 1); return NULL; }
  h->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
  h->size = sz;
  tu_stamp(h + 1, sz - sizeof(hdr_t), h->id);
  return h;
}
static void check_block(const hdr_t* h) {
  if (mi_usable_size(h) < h->size || !tu_stamp_ok(h + 1, h->size - sizeof(hdr_t), h->id)) {
    long n = atomic_fetch_add(&mismatches, 1);
    if (n < 5) fprintf(stderr, "  stamp mismatch: block %p id %llu size %zu\n", (const void*)h,
                       (unsigned long long)h->id, h->size);
  }
}
static void free_block(hdr_t* h) {
  if (!h) return;
  check_block(h);
  mi_free(h);
}

static void* worker(void* arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 17;
  size_t nlocal = (size_t)scale * 4 < 8 ? 8 : (size_t)scale * 4;
  hdr_t** local = (hdr_t**)mi_calloc(nlocal, sizeof(hdr_t*));
  if (!local) { atomic_fetch_add(&null_results, 1); return NULL; }
  long ops = 0;
  long rounds = 2500 * scale;
  for (long r = 0; r < rounds; r++) {
    size_t i = tu_rand_below(&rng, nlocal);
    size_t k = tu_rand_below(&rng, 100);
    if (k < 50) { /* replace a local block */
      free_block(local[i]);
      local[i] = alloc_block(&rng);
    } else if (k < 65) { /* grow or shrink a local block */
      hdr_t* h = local[i];
      if (h) {
        check_block(h);
        size_t ns = pick_size(&rng);
        if (ns < sizeof(hdr_t)) ns = sizeof(hdr_t);
        hdr_t* q = (hdr_t*)mi_realloc(h, ns);
        if (!q) { atomic_fetch_add(&null_results, 1); }
        else {
          /* the common prefix survives: the first 64 payload bytes of a stamp depend only
             on (id, position) when the payload is at least 64 bytes */
          size_t old_payload = q->size - sizeof(hdr_t), new_payload = ns - sizeof(hdr_t);
          if (old_payload >= 64 && new_payload >= 64 && !tu_stamp_ok(q + 1, 64, q->id)) {
            atomic_fetch_add(&mismatches, 1);
          }
          q->size = ns;
          q->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
          tu_stamp(q + 1, ns - sizeof(hdr_t), q->id);
          local[i] = q;
        }
      } else {
        local[i] = alloc_block(&rng);
      }
    } else if (k < 90) { /* hand a block to other threads, take one from them */
      hdr_t* mine = local[i];
      if (mine) check_block(mine);
      hdr_t* theirs = atomic_exchange(&transfer[tu_rand_below(&rng, TRANSFER)], mine);
      local[i] = theirs; /* freed later by this thread: a cross-thread free */
      if (theirs) check_block(theirs);
    } else { /* free a bunch of local blocks at once */
      for (size_t j = 0; j < nlocal; j += 3) {
        free_block(local[j]);
        local[j] = NULL;
      }
    }
    ops++;
  }
  /* exit while blocks of ours still live in the transfer array and in other threads' sets;
     hand some of the local set on, free the rest */
  for (size_t j = 0; j < nlocal; j++) {
    if (local[j] && (j & 3) == 0) {
      hdr_t* old = atomic_exchange(&transfer[tu_rand_below(&rng, TRANSFER)], local[j]);
      free_block(old);
    } else {
      free_block(local[j]);
    }
    ops++;
  }
  mi_free(local);
  atomic_fetch_add(&total_ops, ops);
  return NULL;
}

int main(int argc, char** argv) {
  int nthreads = (int)tu_arg(argc, argv, 1, TU_TSAN ? 4 : 8);
  long iterations = tu_arg(argc, argv, 2, TU_TSAN ? 3 : 10);
  scale = tu_arg(argc, argv, 3, TU_TSAN ? 20 : 50);
  if (nthreads > 256) nthreads = 256;
  printf("test-stress: %d threads, %ld iterations, scale %ld\n", nthreads, iterations, scale);
  fflush(stdout);
  pthread_t th[256];
  double t0 = tu_now();
  uintptr_t seq = 1;
  for (int i = 0; i < nthreads; i++) CHECK(pthread_create(&th[i], NULL, worker, (void*)seq++) == 0);
  /* replace each worker as it finishes, while the others keep running */
  long started = nthreads;
  long total = (long)nthreads * iterations;
  size_t peak_rss = 0;
  while (started < total) {
    for (int i = 0; i < nthreads && started < total; i++) {
      pthread_join(th[i], NULL);
      CHECK(pthread_create(&th[i], NULL, worker, (void*)seq++) == 0);
      started++;
      if (started % nthreads == 0) {
        size_t rss = tu_rss();
        if (rss > peak_rss) peak_rss = rss;
      }
    }
  }
  for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
  /* free what is left in the transfer array (its allocating threads are all gone) */
  long left = 0;
  for (int s = 0; s < TRANSFER; s++) {
    hdr_t* h = atomic_exchange(&transfer[s], NULL);
    if (h) { left++; free_block(h); }
  }
  mi_collect(true);
  double t = tu_now() - t0;
  long ops = atomic_load(&total_ops);
  printf("stamp mismatches: %ld\n", atomic_load(&mismatches));
  printf("%ld workers, %ld ops in %.2f s: %.0f ops/s; %ld blocks outlived their threads; peak "
         "rss %zu MiB, final rss %zu MiB\n",
         total, ops, t, (double)ops / t, left, peak_rss / TU_MiB, tu_rss() / TU_MiB);
  CHECK_EQ(atomic_load(&mismatches), 0);
  CHECK_EQ(atomic_load(&null_results), 0);
  CHECK(ops > 0);
  return tu_report();
}
