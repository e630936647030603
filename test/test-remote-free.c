/* test-remote-free.c -- blocks freed by other threads come back exactly once.
 *
 * A page keeps three free lists: `free`, the owner's `local_free` and the atomic thread-free
 * list, whose word also counts its blocks (the owner takes the list without walking it, and
 * adjusts its live count by that number). These checks pin what that must preserve:
 *   - every block freed remotely is handed out again before fresh memory, and only once;
 *   - with local and remote frees both pending, the next allocations return exactly their
 *     union, with no duplicates and no block that is still live;
 *   - live counts stay exact: mi_heap_visit_blocks sees precisely the live blocks after
 *     remote frees (collected or not), and a page whose blocks were all freed remotely is
 *     given back by mi_heap_collect;
 *   - many producer/consumer rounds keep contents intact.
 * Prints "N passed, M failed".
 */
#include "testutil.h"
#include <pthread.h>
#include "mimalloc.h"

#define N 512          /* blocks per round: several pages' worth of lists at 64 B */
#define BSIZE 64

typedef struct { void** blocks; size_t from, to, step; } free_job_t;

static void* free_range(void* arg) {
  free_job_t* j = (free_job_t*)arg;
  for (size_t i = j->from; i < j->to; i += j->step) { mi_free(j->blocks[i]); j->blocks[i] = NULL; }
  return NULL;
}

static void remote_free(void** blocks, size_t from, size_t to, size_t step) {
  free_job_t j = { blocks, from, to, step };
  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_range, &j) == 0);
  CHECK(pthread_join(t, NULL) == 0);
}

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x > y) - (x < y);
}

/* all non-NULL pointers of a[0..n) distinct? */
static bool all_distinct(void** a, size_t n) {
  void** c = (void**)malloc(n * sizeof(void*));
  size_t m = 0;
  for (size_t i = 0; i < n; i++) if (a[i] != NULL) c[m++] = a[i];
  qsort(c, m, sizeof(void*), cmp_ptr);
  bool ok = true;
  for (size_t i = 1; i < m; i++) if (c[i] == c[i - 1]) ok = false;
  free(c);
  return ok;
}

static bool contains(void** a, size_t n, const void* p) {
  for (size_t i = 0; i < n; i++) if (a[i] == p) return true;
  return false;
}

typedef struct { size_t blocks; size_t bytes; } count_t;
static bool count_blocks(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)area;
  count_t* c = (count_t*)arg;
  if (block != NULL) { c->blocks++; c->bytes += size; }
  return true;
}
static size_t live_blocks(mi_heap_t* h) {
  count_t c = { 0, 0 };
  CHECK(mi_heap_visit_blocks(h, true, count_blocks, &c));
  return c.blocks;
}

/* Remote frees are reused before fresh memory, each exactly once. */
static void check_reuse_once(void) {
  mi_heap_t* h = mi_heap_new();
  void* a[N];
  for (size_t i = 0; i < N; i++) { a[i] = mi_heap_malloc(h, BSIZE); memset(a[i], 0x5a, BSIZE); }
  void* freed[N];
  size_t nfreed = 0;
  for (size_t i = 0; i < N; i += 2) freed[nfreed++] = a[i];
  remote_free(a, 0, N, 2);                       /* every other block, from another thread */
  CHECK_EQ(live_blocks(h), (size_t)N / 2);       /* counted as free at once (visit collects) */

  void* b[N];
  size_t reused = 0;
  for (size_t i = 0; i < nfreed; i++) {
    b[i] = mi_heap_malloc(h, BSIZE);
    if (contains(freed, nfreed, b[i])) reused++;
    CHECK(!contains(a, N, b[i]));                /* never a block that is still live */
    memset(b[i], 0xa5, BSIZE);
  }
  CHECKF(reused == nfreed, "%zu of %zu remotely freed blocks reused", reused, nfreed);
  CHECK(all_distinct(b, nfreed));
  for (size_t i = 1; i < N; i += 2) {            /* the survivors were not disturbed */
    bool intact = true;
    for (size_t k = 0; k < BSIZE; k++) if (((unsigned char*)a[i])[k] != 0x5a) intact = false;
    CHECK(intact);
  }
  CHECK_EQ(live_blocks(h), (size_t)N);
  mi_heap_destroy(h);
}

/* Local and remote frees both pending when `free` runs out: the next allocations hand out
   exactly their union (whichever list comes first), then fresh blocks. */
static void check_mixed_lists(void) {
  mi_heap_t* h = mi_heap_new();
  void* a[N];
  for (size_t i = 0; i < N; i++) a[i] = mi_heap_malloc(h, BSIZE);
  void* freed[N];
  size_t nfreed = 0;
  for (size_t i = 0; i < N; i += 4) { freed[nfreed++] = a[i]; }
  for (size_t i = 1; i < N; i += 4) { freed[nfreed++] = a[i]; }
  remote_free(a, 0, N, 4);                       /* a quarter remotely ... */
  for (size_t i = 1; i < N; i += 4) { mi_free(a[i]); a[i] = NULL; }   /* ... a quarter locally */
  void* b[N];
  size_t from_freed = 0;
  for (size_t i = 0; i < nfreed; i++) {
    b[i] = mi_heap_malloc(h, BSIZE);
    CHECK(!contains(a, N, b[i]));
    if (contains(freed, nfreed, b[i])) from_freed++;
  }
  CHECKF(from_freed == nfreed, "%zu of %zu freed blocks handed out again", from_freed, nfreed);
  CHECK(all_distinct(b, nfreed));
  CHECK_EQ(live_blocks(h), (size_t)N);
  mi_heap_destroy(h);
}

/* Blocks freed remotely: the live count is exact whether or not the owner has taken the
   lists, and pages emptied remotely are given back by a plain (non-forced) collect, also when
   the page's own `free` list is not empty. */
static bool count_area(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  (void)heap; (void)area; (void)size;
  if (block == NULL) (*(size_t*)arg)++;
  return true;
}
static size_t heap_pages(mi_heap_t* h) {
  size_t n = 0;
  CHECK(mi_heap_visit_blocks(h, false, count_area, &n));
  return n;
}
static void check_counts_and_collect(void) {
  enum { M = 4000 };                             /* about four 64 KiB pages of 64 B blocks */
  mi_heap_t* h = mi_heap_new();
  void** a = (void**)malloc(M * sizeof(void*));
  for (size_t i = 0; i < M; i++) a[i] = mi_heap_malloc(h, BSIZE);
  void* keep = a[M - 1];
  mi_free(a[M - 2]); a[M - 2] = NULL;            /* keep's page has a local free block too */
  CHECK(heap_pages(h) >= 3);
  remote_free(a, 0, M - 2, 1);                   /* everything else, remotely */
  CHECK_EQ(live_blocks(h), (size_t)1);
  mi_heap_collect(h, false);
  CHECK_EQ(heap_pages(h), (size_t)1);            /* only keep's page is left */
  CHECK_EQ(live_blocks(h), (size_t)1);
  CHECK(mi_heap_check_owned(h, keep));
  mi_free(keep);
  CHECK_EQ(live_blocks(h), (size_t)0);
  free(a);
  mi_heap_delete(h);
}

/* Producer/consumer rounds: contents survive, nothing is handed out twice. */
typedef struct { void** slots; size_t n; atomic_int* turn; int rounds; } pc_t;
static void* consumer(void* arg) {
  pc_t* pc = (pc_t*)arg;
  long bad = 0;
  for (int r = 0; r < pc->rounds; r++) {
    while (atomic_load(pc->turn) != 2 * r + 1) { }
    for (size_t i = 0; i < pc->n; i++) {
      unsigned char* p = (unsigned char*)pc->slots[i];
      size_t sz = 16 + (i * 24) % 1000;
      for (size_t k = 0; k < sz; k += 97) if (p[k] != (unsigned char)(i + (size_t)r)) bad++;
      mi_free(p);
    }
    atomic_store(pc->turn, 2 * r + 2);
  }
  return (void*)(intptr_t)bad;
}
static void check_producer_consumer(void) {
  enum { SLOTS = 2000, ROUNDS = 200 };
  void** slots = (void**)malloc(SLOTS * sizeof(void*));
  atomic_int turn = 0;
  pc_t pc = { slots, SLOTS, &turn, ROUNDS };
  pthread_t t;
  CHECK(pthread_create(&t, NULL, consumer, &pc) == 0);
  long dup = 0;
  for (int r = 0; r < ROUNDS; r++) {
    while (atomic_load(&turn) != 2 * r) { }
    for (size_t i = 0; i < SLOTS; i++) {
      size_t sz = 16 + (i * 24) % 1000;
      slots[i] = mi_malloc(sz);
      memset(slots[i], (unsigned char)(i + (size_t)r), sz);
    }
    if (r % 50 == 0 && !all_distinct(slots, SLOTS)) dup++;
    atomic_store(&turn, 2 * r + 1);
  }
  void* bad = NULL;
  CHECK(pthread_join(t, &bad) == 0);
  CHECKF(bad == NULL, "%ld corrupted bytes seen by the consumer", (long)(intptr_t)bad);
  CHECK(dup == 0);
  free(slots);
}

/* Blocks of huge segments aligned far beyond the segment size (the block lies gigabytes past
   the segment start) freed by another thread: while the owner lives (the free is announced on
   the owner heap's delayed list, which the owner's collect takes: crashed before, looking the
   block's segment up by masking) and after the owner exited (pushed on the abandoned page's
   thread-free list, whose head offset does not fit the word's 32 bits beyond 16 GiB). */
#if UINTPTR_MAX > 0xFFFFFFFFu   /* (alignments beyond 4 GiB need 64-bit addresses) */
static void* free_one(void* p) { mi_free(p); return NULL; }
static void* alloc_far_and_exit(void* arg) {
  size_t align = *(size_t*)arg;
  void* p = mi_malloc_aligned(200, align);
  if (p != NULL) memset(p, 0x3c, 200);
  return p;
}
static void check_far_aligned(void) {
  for (int shift = 33; shift <= 35; shift++) {
    size_t align = (size_t)1 << shift;
    /* owner alive: remote free, then the owner collects */
    void* p = mi_malloc_aligned(200, align);
    if (p == NULL) { printf("note: alignment 2^%d not available here (%s)\n", shift, strerror(errno)); continue; }
    CHECK(((uintptr_t)p & (align - 1)) == 0);
    *(volatile char*)p = 0;   /* (left zero: the old code read the block as a segment header) */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_one, p) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    mi_collect(true);
    void* q = mi_malloc(200);
    CHECK(q != NULL);
    mi_free(q);
    /* owner gone: its page is abandoned when the block is freed remotely */
    void* r = NULL;
    CHECK(pthread_create(&t, NULL, alloc_far_and_exit, &align) == 0);
    CHECK(pthread_join(t, &r) == 0);
    if (r == NULL) continue;
    CHECK(((uintptr_t)r & (align - 1)) == 0);
    CHECK(((unsigned char*)r)[199] == 0x3c);
    CHECK(pthread_create(&t, NULL, free_one, r) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    mi_collect(true);   /* adopts what exited threads left and frees it */
    q = mi_malloc_aligned(200, align);
    CHECK(q != NULL);
    mi_free(q);
    mi_collect(true);
  }
}
#else
static void check_far_aligned(void) { }
#endif

int main(void) {
  check_far_aligned();
  check_reuse_once();
  check_mixed_lists();
  check_counts_and_collect();
  check_producer_consumer();
  return tu_report();
}
