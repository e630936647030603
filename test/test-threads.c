/* test-threads.c -- basic multi-threading: several threads allocate, exchange blocks through a
 * shared array and free (or re-allocate) blocks that other threads allocated; contents are
 * verified at every hand-over.
 *
 *   test-threads [threads] [ops per thread]     (default 4 x 300,000; 4 x 50,000 under sanitizers)
 */
#include "testutil.h"

#include <pthread.h>

#include "mimalloc.h"

/* every block starts with this header; the rest is stamped with `id` */
typedef struct hdr_s {
  uint64_t id;
  size_t size;
} hdr_t;

#define NSHARED 1024
static _Atomic(hdr_t*) shared[NSHARED];
static atomic_long mismatches;
static atomic_long null_results;
static atomic_ulong next_id;
static long ops_per_thread;

static hdr_t* new_block(uint64_t* rng) {
  size_t r = tu_rand_below(rng, 100);
  size_t sz = sizeof(hdr_t) + (r < 80 ? tu_rand_below(rng, 256)
                               : r < 98 ? tu_rand_below(rng, 8192) : tu_rand_below(rng, 300000));
  hdr_t* h = (hdr_t*)mi_malloc(sz);
  if (!h) { atomic_fetch_add(&null_results, 1); return NULL; }
  h->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
  h->size = sz;
  tu_stamp(h + 1, sz - sizeof(hdr_t), h->id);
  return h;
}
static bool block_ok(const hdr_t* h) {
  return mi_usable_size(h) >= h->size && tu_stamp_ok(h + 1, h->size - sizeof(hdr_t), h->id);
}

static void* worker(void* arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg * 7919 + 1;
  hdr_t* local[64] = {0};
  for (long i = 0; i < ops_per_thread; i++) {
    size_t k = tu_rand_below(&rng, 10);
    if (k < 5) {
      /* swap a fresh block into the shared array; free what was there (often foreign) */
      hdr_t* h = new_block(&rng);
      hdr_t* old = atomic_exchange(&shared[tu_rand_below(&rng, NSHARED)], h);
      if (old) {
        if (!block_ok(old)) atomic_fetch_add(&mismatches, 1);
        mi_free(old);
      }
    } else if (k < 7) {
      /* take a foreign block, grow it (cross-thread realloc), verify, put it back */
      size_t s = tu_rand_below(&rng, NSHARED);
      hdr_t* old = atomic_exchange(&shared[s], NULL);
      if (old) {
        if (!block_ok(old)) atomic_fetch_add(&mismatches, 1);
        size_t ns = old->size + 1 + tu_rand_below(&rng, 1000);
        hdr_t* nh = (hdr_t*)mi_realloc(old, ns);
        if (!nh) { atomic_fetch_add(&null_results, 1); mi_free(old); continue; }
        if (!tu_stamp_ok(nh + 1, nh->size - sizeof(hdr_t), nh->id)) atomic_fetch_add(&mismatches, 1);
        nh->size = ns;
        tu_stamp(nh + 1, ns - sizeof(hdr_t), nh->id);
        hdr_t* other = atomic_exchange(&shared[s], nh);
        if (other) {
          if (!block_ok(other)) atomic_fetch_add(&mismatches, 1);
          mi_free(other);
        }
      }
    } else {
      /* thread-local churn */
      size_t j = tu_rand_below(&rng, 64);
      if (local[j]) {
        if (!block_ok(local[j])) atomic_fetch_add(&mismatches, 1);
        mi_free(local[j]);
      }
      local[j] = new_block(&rng);
    }
  }
  for (int j = 0; j < 64; j++) {
    if (local[j]) {
      if (!block_ok(local[j])) atomic_fetch_add(&mismatches, 1);
      mi_free(local[j]);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  int nthreads = (int)tu_arg(argc, argv, 1, 4);
  ops_per_thread = tu_arg(argc, argv, 2, TU_SANITIZED ? 50000 : 300000);
  printf("test-threads: %d threads x %ld ops\n", nthreads, ops_per_thread);
  double t0 = tu_now();
  for (int round = 0; round < 3; round++) {
    pthread_t th[64];
    if (nthreads > 64) nthreads = 64;
    for (int i = 0; i < nthreads; i++)
      CHECK(pthread_create(&th[i], NULL, worker, (void*)(uintptr_t)(round * 100 + i + 1)) == 0);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    /* the blocks of exited threads stay valid in the shared array between rounds */
  }
  int left = 0;
  for (int s = 0; s < NSHARED; s++) {
    hdr_t* h = atomic_exchange(&shared[s], NULL);
    if (h) {
      left++;
      if (!block_ok(h)) atomic_fetch_add(&mismatches, 1);
      mi_free(h);
    }
  }
  mi_collect(true);
  double t = tu_now() - t0;
  printf("stamp mismatches: %ld\n", atomic_load(&mismatches));
  printf("%d blocks left in the shared array, %.0f ops/s\n", left,
         3.0 * nthreads * (double)ops_per_thread / t);
  CHECK_EQ(atomic_load(&mismatches), 0);
  CHECK_EQ(atomic_load(&null_results), 0);
  CHECK(left > 0);
  return tu_report();
}
