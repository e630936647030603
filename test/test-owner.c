/* test-owner.c -- the page owner word (thread id | flags) across owner changes.
 *
 * free() decides "this thread's page, nothing special" by comparing one word per page with the
 * thread id; the flags in its low bits (in the full queue, holds aligned blocks) must survive
 * every change of owner, or a free would push an interior pointer (aligned block) on a free list
 * or bypass the full-queue bookkeeping. Cases:
 *   1. a thread allocates over-aligned blocks (interior pointers) and exits with them live; the
 *      main thread adopts the segments and frees them: later allocations of that size must come
 *      back whole, distinct and non-overlapping;
 *   2. a thread fills pages until they go to its full queue, exits; the main thread adopts them,
 *      frees everything, and the pages must be reusable (allocations succeed, no overlap);
 *   3. a producer fills pages that a consumer thread empties remotely while the producer keeps
 *      allocating (full queue + delayed frees); every block is stamped and checked.
 */
#include "testutil.h"
#include <mimalloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N_ALIGNED 3000
#define ALIGNED_SIZE 100
#define ALIGNMENT 256

static void* aligned_blocks[N_ALIGNED];

static void* make_aligned(void* arg) {
  (void)arg;
  for (size_t i = 0; i < N_ALIGNED; i++) {
    aligned_blocks[i] = mi_malloc_aligned(ALIGNED_SIZE, ALIGNMENT);
    if (aligned_blocks[i] != NULL) memset(aligned_blocks[i], 0xA5, ALIGNED_SIZE);
  }
  return NULL;   // exits with every block live: its segments are abandoned
}

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x > y) - (x < y);
}

// `n` blocks of `size` from this thread: distinct, non-overlapping, writable.
static void check_fresh_blocks(size_t n, size_t size, const char* what) {
  void** p = (void**)calloc(n, sizeof(void*));
  CHECK(p != NULL);
  if (p == NULL) return;
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    p[i] = mi_malloc(size);
    if (p[i] == NULL || !tu_is_aligned(p[i], 16)) { bad++; continue; }
    memset(p[i], (int)(i & 0xFF), size);
  }
  CHECKF(bad == 0, "%s: %zu bad allocations", what, bad);
  for (size_t i = 0; i < n; i++) {   // nothing overwrote anything
    const unsigned char* q = (const unsigned char*)p[i];
    if (q == NULL) continue;
    for (size_t j = 0; j < size; j++) if (q[j] != (unsigned char)(i & 0xFF)) { bad++; break; }
  }
  CHECKF(bad == 0, "%s: %zu blocks overwritten", what, bad);
  qsort(p, n, sizeof(void*), cmp_ptr);
  size_t overlaps = 0;
  for (size_t i = 1; i < n; i++) {
    if (p[i - 1] != NULL && (uintptr_t)p[i - 1] + size > (uintptr_t)p[i]) overlaps++;
  }
  CHECKF(overlaps == 0, "%s: %zu overlapping blocks", what, overlaps);
  for (size_t i = 0; i < n; i++) mi_free(p[i]);
  free(p);
}

static void test_aligned_after_owner_change(void) {
  // adopt on the first free, so the rest of the frees are this thread's own (fast path)
  mi_option_set(mi_option_abandoned_reclaim_on_free, 1);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, make_aligned, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  size_t aligned = 0, bad = 0;
  for (size_t i = 0; i < N_ALIGNED; i++) {
    unsigned char* q = (unsigned char*)aligned_blocks[i];
    if (q == NULL || !tu_is_aligned(q, ALIGNMENT)) { bad++; continue; }
    for (size_t j = 0; j < ALIGNED_SIZE; j++) if (q[j] != 0xA5) { bad++; break; }
    // mostly interior pointers (not at a block boundary of their page): what HAS_ALIGNED is for
    if (mi_usable_size(q) < ALIGNED_SIZE) bad++;
    if (((uintptr_t)q & (ALIGNMENT - 1)) == 0) aligned++;
  }
  CHECKF(bad == 0, "%zu aligned blocks lost their contents", bad);
  CHECK(aligned == N_ALIGNED);
  // the main thread frees them: it adopts the dead thread's segments (reclaim on free or on
  // allocation), and from then on its fast path sees these pages as its own
  // (every 8th stays live, so the pages stay in use with whatever their free lists hold)
  for (size_t i = 0; i < N_ALIGNED; i++) if (i % 8 != 0) mi_free(aligned_blocks[i]);
  // the block size that ALIGNED_SIZE+ALIGNMENT over-allocation used, and its neighbours
  check_fresh_blocks(2 * N_ALIGNED, ALIGNED_SIZE + ALIGNMENT - 1, "after aligned frees (over-allocated size)");
  check_fresh_blocks(2 * N_ALIGNED, 352, "after aligned frees (352 B)");
  check_fresh_blocks(2 * N_ALIGNED, 384, "after aligned frees (384 B)");
  for (size_t i = 0; i < N_ALIGNED; i += 8) {   // the live ones were not handed out meanwhile
    const unsigned char* q = (const unsigned char*)aligned_blocks[i];
    for (size_t j = 0; j < ALIGNED_SIZE; j++) if (q[j] != 0xA5) { bad++; break; }
    mi_free(aligned_blocks[i]);
  }
  CHECKF(bad == 0, "%zu live aligned blocks were overwritten by new allocations", bad);
}

#define N_FULL 20000
static void* full_blocks[N_FULL];

static void* fill_pages(void* arg) {
  size_t size = (size_t)(uintptr_t)arg;
  for (size_t i = 0; i < N_FULL; i++) {
    full_blocks[i] = mi_malloc(size);
    if (full_blocks[i] != NULL) memset(full_blocks[i], 0x5A, size);
  }
  // force the generic path to look at the pages again: exhausted pages go to the full queue
  for (int k = 0; k < 4; k++) { void* p = mi_malloc(size); mi_free(p); mi_collect(false); }
  return NULL;
}

static void test_full_pages_after_owner_change(void) {
  const size_t size = 48;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fill_pages, (void*)(uintptr_t)size) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  size_t bad = 0;
  for (size_t i = 0; i < N_FULL; i++) {
    const unsigned char* q = (const unsigned char*)full_blocks[i];
    if (q == NULL) { bad++; continue; }
    for (size_t j = 0; j < size; j++) if (q[j] != 0x5A) { bad++; break; }
  }
  CHECKF(bad == 0, "%zu blocks of the exited thread lost their contents", bad);
  // free in an order that empties pages one by one and leaves others partly used for a while
  for (size_t i = 0; i < N_FULL; i += 2) mi_free(full_blocks[i]);
  check_fresh_blocks(N_FULL / 2, size, "half of the adopted full pages freed");
  for (size_t i = 1; i < N_FULL; i += 2) mi_free(full_blocks[i]);
  check_fresh_blocks(N_FULL, size, "all of the adopted full pages freed");
}

/* ---- producer/consumer over full pages ---- */

#define PC_ROUNDS 200
#define PC_BATCH 512
typedef struct { void** slots; atomic_int ready; atomic_int done; atomic_size_t bad; } pc_t;

static void* consumer(void* arg) {
  pc_t* pc = (pc_t*)arg;
  for (int r = 0; r < PC_ROUNDS; r++) {
    while (atomic_load(&pc->ready) <= r) { }
    for (size_t i = 0; i < PC_BATCH; i++) {
      uint64_t* p = (uint64_t*)pc->slots[(size_t)r % 2 * PC_BATCH + i];
      if (p == NULL || p[0] != (uint64_t)(uintptr_t)p + (uint64_t)r) atomic_fetch_add(&pc->bad, 1);
      mi_free(p);   // remote free into the producer's (often full) page
    }
    atomic_store(&pc->done, r + 1);
  }
  return NULL;
}

static void test_producer_consumer(void) {
  pc_t pc;
  void* slots[2 * PC_BATCH];   // halves handed over through ready/done (seq_cst atomics)
  pc.slots = slots;
  atomic_init(&pc.ready, 0);
  atomic_init(&pc.done, 0);
  atomic_init(&pc.bad, 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, consumer, &pc) == 0);
  void* keep[PC_BATCH];   // the producer's own live blocks keep its pages full
  for (size_t i = 0; i < PC_BATCH; i++) keep[i] = mi_malloc(64);
  for (int r = 0; r < PC_ROUNDS; r++) {
    while (atomic_load(&pc.done) < r - 1) { }   // the consumer works on the other half
    for (size_t i = 0; i < PC_BATCH; i++) {
      uint64_t* p = (uint64_t*)mi_malloc(64);
      if (p != NULL) p[0] = (uint64_t)(uintptr_t)p + (uint64_t)r;
      slots[(size_t)r % 2 * PC_BATCH + i] = p;
    }
    // the producer also frees some of its own blocks while remote frees arrive
    size_t k = (size_t)r % PC_BATCH;
    mi_free(keep[k]);
    keep[k] = mi_malloc(64);
    atomic_store(&pc.ready, r + 1);
  }
  CHECK(pthread_join(t, NULL) == 0);
  CHECKF(atomic_load(&pc.bad) == 0, "%zu stamped blocks were wrong", (size_t)atomic_load(&pc.bad));
  for (size_t i = 0; i < PC_BATCH; i++) mi_free(keep[i]);
  check_fresh_blocks(4 * PC_BATCH, 64, "after producer/consumer");
}

int main(void) {
  test_aligned_after_owner_change();
  test_full_pages_after_owner_change();
  test_producer_consumer();
  return tu_report();
}
