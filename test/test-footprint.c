/* test-footprint.c -- how much memory a page hands out (and so may make resident) for the
 * blocks a program actually holds.
 *
 * Page-per-size-class allocators lose to coalescing heaps on programs that hold a few blocks of
 * many medium sizes: each class has a page of its own, and whatever the page put on its free
 * list ahead of need was written (a link word per block, one OS page each for blocks of 8 KiB
 * and more). These checks pin the policies that keep that small:
 *   - a medium block (8 KiB < size <= 256 KiB) alone in its page: the page has handed out
 *     exactly one block (capacity 1), for every medium size class;
 *   - small blocks: the first extension stays within 4 KiB of blocks, and a block of 4 KiB or
 *     more (each its own OS page) is handed out alone;
 *   - after freeing and re-allocating one medium block many times the page still holds one;
 *   - bursts of small blocks freed back, and a FIFO ring of small blocks, do not grow their page
 *     beyond what they hold plus an extension or two;
 *   - a medium page that held large blocks and is taken again by a smaller class gives the
 *     rest back to the OS once the purge delay has passed (mincore), and grows into it again.
 * Counted with mi_heap_visit_blocks, so the figures are exact, not RSS samples (but the last).
 */
#include "testutil.h"

#include <sys/mman.h>

#include "mimalloc.h"

typedef struct area_sum_s {
  size_t areas;
  size_t committed;   // bytes of blocks handed out to the free list so far (capacity * size)
  size_t used;
  size_t block_size;
} area_sum_t;

static bool sum_areas(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size, void* arg) {
  TU_UNUSED(heap); TU_UNUSED(block); TU_UNUSED(size);
  area_sum_t* s = (area_sum_t*)arg;
  s->areas++;
  s->committed += area->committed;
  s->used += area->used;
  s->block_size = area->block_size;
  return true;
}

static area_sum_t heap_areas(mi_heap_t* heap) {
  area_sum_t s = {0, 0, 0, 0};
  CHECK(mi_heap_visit_blocks(heap, false, sum_areas, &s));
  return s;
}

/* ---- stale tails: a medium page taken again by a smaller size class gives back the rest of
   what its last use touched once the purge delay has passed (a long-running program would
   otherwise keep it resident for as long as the page lives) ---- */
static size_t resident_bytes(void* p, size_t n) {
  size_t ps = tu_page_size();
  uintptr_t a = ((uintptr_t)p + ps - 1) & ~(uintptr_t)(ps - 1);
  uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(ps - 1);
  if (e <= a) return 0;
  size_t np = (e - a) / ps;
  unsigned char vec[1024];
  if (np > sizeof vec) np = sizeof vec;
  if (mincore((void*)a, np * ps, vec) != 0) return SIZE_MAX;
  size_t r = 0;
  for (size_t i = 0; i < np; i++) r += (vec[i] & 1);
  return r * ps;
}

static void stale_tail_run(void) {
  const size_t big = 100000, small = 10000;
  void* b[12];
  for (int i = 0; i < 12; i++) { b[i] = mi_malloc(big); CHECK(b[i] != NULL); if (b[i] == NULL) return; tu_stamp(b[i], big, (uint64_t)i); }
  // the first page's blocks follow b[0] at one block's stride
  size_t stride = mi_usable_size(b[0]);
  int in_first = 1;
  while (in_first < 12 && (uintptr_t)b[in_first] == (uintptr_t)b[0] + (size_t)in_first * stride) in_first++;
  CHECKF(in_first >= 3 && in_first < 12, "%d blocks of %zu B in the first medium page", in_first, big);
  for (int i = 0; i < in_first; i++) mi_free(b[i]);   // that page is empty now, another one lives
  char* p = (char*)mi_malloc(small);   // a page of another class: the free page that is resident
  CHECK(p == (char*)b[0]);
  if (p != (char*)b[0]) { mi_free(p); for (int i = in_first; i < 12; i++) mi_free(b[i]); return; }
  memset(p, 0x5a, small);
  const size_t tail_off = 64 * TU_KiB, tail_len = (size_t)(in_first - 1) * stride - tail_off;
  size_t before = resident_bytes(p + tail_off, tail_len);
  CHECKF(before >= tail_len / 2, "precondition: the old blocks' memory is resident (%zu of %zu bytes)", before, tail_len);
  usleep(100 * 1000);   // five purge delays
  mi_collect(false);
  size_t after = resident_bytes(p + tail_off, tail_len);
  CHECKF(after == 0, "stale tail still resident after the delay: %zu of %zu bytes", after, tail_len);
  CHECK(tu_all_byte(p, 0x5a, small));
  // the page grows into the trimmed part again: it reads back as written
  char* more[16];
  size_t n_more = 0, bad = 0;
  for (; n_more < 16; n_more++) { more[n_more] = (char*)mi_malloc(small); CHECK(more[n_more] != NULL); if (!more[n_more]) break; memset(more[n_more], (int)n_more + 1, small); }
  for (size_t i = 0; i < n_more; i++) { if (!tu_all_byte(more[i], (int)i + 1, small)) bad++; mi_free(more[i]); }
  CHECK_EQ(bad, 0);
  for (int i = in_first; i < 12; i++) { if (!tu_stamp_ok(b[i], big, (uint64_t)i)) bad++; mi_free(b[i]); }
  CHECK_EQ(bad, 0);
  mi_free(p);
}

// Runs first in the main thread: its medium segment has no other free page yet. (No thread of
// its own: the i686 run under qemu-user takes only single-threaded tests.)
static void check_stale_tail(void) {
  long delay = mi_option_get(mi_option_purge_delay);
  mi_option_set(mi_option_purge_delay, 20);
  stale_tail_run();
  mi_option_set(mi_option_purge_delay, delay);
}

int main(void) {
  check_stale_tail();

  // every medium size class: one live block, one block handed out
  size_t bad_medium = 0, classes = 0;
  size_t prev_good = 0;
  for (size_t size = 8 * TU_KiB + 1; size <= 256 * TU_KiB; size += 512) {
    size_t good = mi_good_size(size);
    if (good == prev_good) continue;   // one check per size class
    prev_good = good;
    classes++;
    mi_heap_t* heap = mi_heap_new();
    CHECK(heap != NULL);
    if (heap == NULL) break;
    char* p = (char*)mi_heap_malloc(heap, size);
    CHECK(p != NULL);
    if (p == NULL) { mi_heap_delete(heap); break; }
    p[0] = 1; p[size - 1] = 2;
    area_sum_t s = heap_areas(heap);
    if (s.areas != 1 || s.used != 1 || s.committed != s.block_size) {
      if (bad_medium++ < 5)
        printf("  medium size %zu (class %zu): %zu areas, %zu used, %zu bytes handed out\n", size,
               s.block_size, s.areas, s.used, s.committed);
    }
    mi_free(p);
    mi_heap_delete(heap);
  }
  printf("test-footprint: %zu medium size classes checked\n", classes);
  CHECK(classes >= 20);
  CHECKF(bad_medium == 0, "%zu medium size classes hand out more than the one block held", bad_medium);

  // small blocks: the first extension covers at most 4 KiB of blocks, or a single block of 4 KiB
  // or more (before: four of them, three OS pages written that a lone stdio buffer never uses)
  size_t bad_small = 0;
  for (size_t size = 16; size <= 8 * TU_KiB; size = size * 5 / 4 + 16) {
    mi_heap_t* heap = mi_heap_new();
    CHECK(heap != NULL);
    if (heap == NULL) break;
    void* p = mi_heap_malloc(heap, size);
    CHECK(p != NULL);
    area_sum_t s = heap_areas(heap);
    size_t limit = (s.block_size >= 4 * TU_KiB ? s.block_size : 4 * TU_KiB);
    if (s.areas != 1 || s.committed > limit) {
      if (bad_small++ < 5) printf("  small size %zu: %zu bytes handed out\n", size, s.committed);
    }
    mi_free(p);
    mi_heap_delete(heap);
  }
  CHECKF(bad_small == 0, "%zu small sizes hand out more than 4 KiB (or one block) at first", bad_small);

  // churn of a single medium block: the page never hands out a second one
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap != NULL) {
    void* keep = mi_heap_malloc(heap, 16);   // keeps the heap's pages from all emptying
    for (int i = 0; i < 10000; i++) {
      char* p = (char*)mi_heap_malloc(heap, 40000);
      if (p == NULL) { CHECK(p != NULL); break; }
      p[0] = (char)i;
      mi_free(p);
    }
    char* p = (char*)mi_heap_malloc(heap, 40000);
    CHECK(p != NULL);
    area_sum_t s = heap_areas(heap);
    // a small page (the 16-byte block: at most 4 KiB handed out) and the medium page (one block)
    size_t small_part = 4 * TU_KiB;
    CHECKF(s.areas == 2, "expected a small and a medium page, found %zu areas", s.areas);
    CHECKF(s.committed <= mi_good_size(40000) + small_part,
           "after churn of one 40000-byte block the heap has %zu bytes handed out", s.committed);
    mi_free(p);
    mi_free(keep);
    mi_heap_delete(heap);
  }
  // bursts: allocate up to 340 blocks, free them all, again and again (a request arena). The
  // bursts are whole 4 KiB extensions (85 blocks of 48 bytes): each uses the list up exactly, and
  // its first free finds it empty; that must not add fresh blocks every time.
  heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap != NULL) {
    enum { BURST_MAX = 340, BSIZE = 48 };
    void* blk[BURST_MAX];
    int n = 0;
    for (int r = 0; r < 1000; r++) {
      n = 85 * (1 + r % 4);
      for (int i = 0; i < n; i++) { blk[i] = mi_heap_malloc(heap, BSIZE); CHECK(blk[i] != NULL); }
      if (r < 999) for (int i = n - 1; i >= 0; i--) mi_free(blk[i]);
    }
    area_sum_t s = heap_areas(heap);
    CHECKF(s.committed <= BURST_MAX * BSIZE,   // (before: one extension more than the largest burst)
           "after 1000 bursts of up to %d blocks of %d bytes the heap has %zu bytes handed out", BURST_MAX, BSIZE, s.committed);
    for (int i = 0; i < n; i++) mi_free(blk[i]);
    mi_heap_delete(heap);
  }

  // FIFO ring: free the oldest, allocate a new one. Frees waiting on local_free refill the list;
  // the page needs no fresh blocks for that.
  heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap != NULL) {
    enum { RING = 200, RSIZE = 48 };
    void* ring[RING];
    for (int i = 0; i < RING; i++) { ring[i] = mi_heap_malloc(heap, RSIZE); CHECK(ring[i] != NULL); }
    for (int i = 0; i < 100000; i++) {
      mi_free(ring[i % RING]);
      ring[i % RING] = mi_heap_malloc(heap, RSIZE);
      CHECK(ring[i % RING] != NULL);
    }
    area_sum_t s = heap_areas(heap);
    CHECKF(s.committed <= RING * RSIZE + 8 * TU_KiB,
           "a ring of %d blocks of %d bytes has %zu bytes handed out", RING, RSIZE, s.committed);
    for (int i = 0; i < RING; i++) mi_free(ring[i]);
    mi_heap_delete(heap);
  }
  return tu_report();
}
