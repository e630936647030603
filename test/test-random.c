/* test-random.c -- randomized single-thread test against a shadow model.
 *
 *   test-random [ops] [seed]      (default 3,000,000 ops; 500,000 under ASan, 200,000 under TSan)
 *
 * Every live block is recorded in a shadow slot (pointer, size, alignment, id). Each block
 * is stamped with bytes derived from (id, position) and verified before it is freed or
 * re-allocated; re-allocation must keep the common prefix. At checkpoints the heap is walked
 * with mi_heap_visit_blocks and must hold exactly the shadow's blocks.
 */
#include "testutil.h"

#include "mimalloc.h"

typedef struct slot_s {
  uint8_t* p;
  size_t size;
  size_t align; /* 0: plain allocation */
  uint64_t id;
} slot_t;

#define NSLOTS 8192
static slot_t slots[NSLOTS];
static size_t live_count;
static uint64_t next_id = 1;

static inline uint8_t vbyte(uint64_t id, size_t pos) {
  return (uint8_t)(tu_word(id, pos >> 3) >> ((pos & 7) * 8));
}

/* Stamped positions S(n): every byte below 4096, one 8-byte word every 512 bytes above,
   and the last 16 bytes. Values depend only on (id, position), so a prefix of a block
   re-allocated to another size can be checked with the old block's positions. */
#define DENSE 4096
static void stamp(uint8_t* p, size_t n, uint64_t id) {
  size_t d = n < DENSE ? n : DENSE;
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    uint64_t w = tu_word(id, i >> 3);
    memcpy(p + i, &w, 8);
  }
  for (; i < d; i++) p[i] = vbyte(id, i);
  for (i = DENSE; i + 8 <= n; i += 512) {
    uint64_t w = tu_word(id, i >> 3);
    memcpy(p + i, &w, 8);
  }
  for (i = n > 16 ? n - 16 : 0; i < n; i++) p[i] = vbyte(id, i);
}
/* verify S(n) ∩ [0, limit) */
static bool stamp_ok(const uint8_t* p, size_t n, uint64_t id, size_t limit) {
  size_t lim = limit < n ? limit : n;
  size_t d = lim < DENSE ? lim : DENSE;
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    uint64_t w = tu_word(id, i >> 3), v;
    memcpy(&v, p + i, 8);
    if (v != w) return false;
  }
  for (; i < d; i++)
    if (p[i] != vbyte(id, i)) return false;
  for (i = DENSE; i + 8 <= lim; i += 512) {
    uint64_t w = tu_word(id, i >> 3), v;
    memcpy(&v, p + i, 8);
    if (v != w) return false;
  }
  for (i = n > 16 ? n - 16 : 0; i < lim; i++)
    if (p[i] != vbyte(id, i)) return false;
  return true;
}
static bool zero_sampled(const uint8_t* p, size_t n) {
  if (n <= 64 * TU_KiB) return tu_all_zero(p, n);
  if (!tu_all_zero(p, 64 * TU_KiB)) return false;
  for (size_t i = 64 * TU_KiB; i < n; i += 256)
    if (p[i] != 0) return false;
  return p[n - 1] == 0;
}

static size_t random_size(uint64_t* rng) {
  size_t r = tu_rand_below(rng, 1000);
  if (r < 700) return tu_rand_below(rng, 129);                   /* 0..128 */
  if (r < 900) return 129 + tu_rand_below(rng, 4096 - 129);      /* ..4 KiB */
  if (r < 990) return 4096 + tu_rand_below(rng, 60 * 1024);      /* ..64 KiB */
  if (r < 998) return 64 * 1024 + tu_rand_below(rng, 448 * 1024); /* ..512 KiB */
  return 512 * 1024 + tu_rand_below(rng, 3584 * 1024);           /* ..4 MiB */
}

static long fails_stamp, fails_null, fails_usable, fails_align, fails_zero;

static void check_new(slot_t* s) {
  if (s->p == NULL) { fails_null++; return; }
  if (mi_usable_size(s->p) < s->size) fails_usable++;
  if (!tu_is_aligned(s->p, 16) || (s->align && !tu_is_aligned(s->p, s->align))) {
    if (fails_align++ < 5)
      fprintf(stderr, "  misaligned: %p size %zu alignment %zu\n", (void*)s->p, s->size, s->align);
  }
}

static void do_alloc(slot_t* s, uint64_t* rng) {
  size_t sz = random_size(rng);
  s->size = sz;
  s->align = 0;
  s->id = next_id++;
  size_t k = tu_rand_below(rng, 100);
  bool zeroed = false;
  if (k < 50) s->p = (uint8_t*)mi_malloc(sz);
  else if (k < 60) { s->p = (uint8_t*)mi_calloc(1, sz); zeroed = true; }
  else if (k < 65) {
    size_t cnt = 1 + tu_rand_below(rng, 8), each = sz / cnt + 1;
    s->size = cnt * each;
    s->p = (uint8_t*)mi_calloc(cnt, each);
    zeroed = true;
  }
  else if (k < 70) { s->p = (uint8_t*)mi_zalloc(sz); zeroed = true; }
  else if (k < 80) {
    s->align = (size_t)1 << tu_rand_below(rng, 13); /* 1 .. 4 KiB */
    s->p = (uint8_t*)mi_malloc_aligned(sz, s->align);
  }
  else if (k < 83) {
    s->align = (size_t)1 << (13 + tu_rand_below(rng, 8)); /* 8 KiB .. 1 MiB */
    s->p = (uint8_t*)mi_zalloc_aligned(sz, s->align);
    zeroed = true;
  }
  else if (k < 88) s->p = (uint8_t*)mi_realloc(NULL, sz);
  else if (k < 92 && sz <= MI_SMALL_SIZE_MAX) s->p = (uint8_t*)mi_malloc_small(sz);
  else if (k < 95) s->p = (uint8_t*)mi_mallocn(1, sz);
  else { s->p = (uint8_t*)mi_strndup("abcdefghijklmnopqrstuvwxyz", 26); s->size = 27; }
  check_new(s);
  if (s->p == NULL) { s->size = 0; return; }
  if (zeroed && !zero_sampled(s->p, s->size)) fails_zero++;
  if (s->size == 27 && k >= 95 && strcmp((char*)s->p, "abcdefghijklmnopqrstuvwxyz") != 0) fails_zero++;
  stamp(s->p, s->size, s->id);
  live_count++;
}

static void do_free(slot_t* s) {
  if (!stamp_ok(s->p, s->size, s->id, SIZE_MAX)) {
    if (fails_stamp++ < 5) fprintf(stderr, "  stamp mismatch: block id %llu size %zu at %p\n",
                                   (unsigned long long)s->id, s->size, (void*)s->p);
  }
  if ((s->id & 3) == 0 && s->align == 0 && mi_usable_size(s->p) <= MI_SMALL_SIZE_MAX)
    mi_free_small(s->p);
  else mi_free(s->p);
  s->p = NULL;
  s->size = 0;
  live_count--;
}

static void do_realloc(slot_t* s, uint64_t* rng) {
  if (!stamp_ok(s->p, s->size, s->id, SIZE_MAX)) {
    if (fails_stamp++ < 5) fprintf(stderr, "  stamp mismatch before realloc: id %llu size %zu\n",
                                   (unsigned long long)s->id, s->size);
  }
  size_t ns = (tu_rand_below(rng, 2) == 0) ? random_size(rng)
                                           : s->size + tu_rand_below(rng, s->size / 2 + 17);
  uint8_t* q;
  size_t k = tu_rand_below(rng, 10);
  if (s->align) q = (uint8_t*)mi_realloc_aligned(s->p, ns, s->align);
  else if (k < 7) q = (uint8_t*)mi_realloc(s->p, ns);
  else if (k < 8) q = (uint8_t*)mi_reallocn(s->p, 1, ns);
  else if (k < 9) q = (uint8_t*)mi_reallocf(s->p, ns);
  else q = (uint8_t*)mi_urealloc(s->p, ns, NULL, NULL);
  if (q == NULL) { fails_null++; return; } /* block still valid (except reallocf; we'd leak) */
  size_t old = s->size;
  if (!stamp_ok(q, old, s->id, ns)) {
    if (fails_stamp++ < 5) fprintf(stderr, "  realloc %zu -> %zu lost contents (id %llu)\n", old,
                                   ns, (unsigned long long)s->id);
  }
  s->p = q;
  s->size = ns;
  check_new(s);
  s->id = next_id++;
  stamp(s->p, s->size, s->id);
}

/* ---- checkpoint: the heap holds exactly the shadow's blocks ------------------------- */
static uintptr_t sorted[NSLOTS];
static size_t nsorted;
static int cmp_uptr(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return x < y ? -1 : x > y;
}
/* blocks that were live before the test started (e.g. stdio buffers when malloc is ours) */
#define NBASE 4096
static uintptr_t baseline[NBASE];
static size_t nbaseline;
static bool collecting_baseline;
static bool in_baseline(uintptr_t b) {
  for (size_t i = 0; i < nbaseline; i++)
    if (baseline[i] == b) return true;
  return false;
}
typedef struct visit_s {
  size_t blocks, unknown;
} visit_t;
static bool visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                    size_t block_size, void* arg) {
  TU_UNUSED(heap);
  TU_UNUSED(area);
  if (block == NULL) return true;
  visit_t* v = (visit_t*)arg;
  if (collecting_baseline) {
    if (nbaseline < NBASE) baseline[nbaseline++] = (uintptr_t)block;
    return true;
  }
  if (in_baseline((uintptr_t)block)) return true;
  v->blocks++;
  /* find the first shadow pointer >= block; it must lie inside this block */
  uintptr_t b = (uintptr_t)block;
  size_t lo = 0, hi = nsorted;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (sorted[mid] < b) lo = mid + 1;
    else hi = mid;
  }
  size_t span = block_size > 0 ? block_size : 1;
  if (lo == nsorted || sorted[lo] >= b + span) v->unknown++;
  return true;
}
static void checkpoint(void) {
  nsorted = 0;
  for (size_t i = 0; i < NSLOTS; i++)
    if (slots[i].p) sorted[nsorted++] = (uintptr_t)slots[i].p;
  qsort(sorted, nsorted, sizeof(uintptr_t), cmp_uptr);
  visit_t v = {0, 0};
  mi_heap_visit_blocks(mi_heap_get_default(), true, visitor, &v);
  CHECKF(v.blocks == live_count, "heap walk found %zu blocks, shadow has %zu", v.blocks, live_count);
  CHECKF(v.unknown == 0, "heap walk found %zu blocks the shadow does not know", v.unknown);
}

int main(int argc, char** argv) {
  long ops = tu_arg(argc, argv, 1, TU_TSAN ? 200000 : TU_ASAN ? 500000 : 3000000);
  uint64_t rng = (uint64_t)tu_arg(argc, argv, 2, 12345);
  printf("test-random: %ld ops, seed %llu\n", ops, (unsigned long long)rng);
  fflush(stdout);
  {
    visit_t v0 = {0, 0};
    collecting_baseline = true;
    mi_heap_visit_blocks(mi_heap_get_default(), true, visitor, &v0);
    collecting_baseline = false;
    CHECK(nbaseline < NBASE);
  }
  double t0 = tu_now();
  size_t peak_live = 0;
  for (long op = 1; op <= ops; op++) {
    /* the active window of slots breathes, so the live set grows and shrinks */
    size_t window = 64 + (size_t)((op / 50000) % 8 + 1) * (NSLOTS - 64) / 8;
    slot_t* s = &slots[tu_rand_below(&rng, window)];
    if (s->p == NULL) do_alloc(s, &rng);
    else if (tu_rand_below(&rng, 10) < 6) do_free(s);
    else do_realloc(s, &rng);
    if (live_count > peak_live) peak_live = live_count;
    if (op % 250000 == 0) {
      checkpoint();
      if (op % 500000 == 0) mi_collect(false);
    }
    if (op % 1000000 == 0) { /* drain everything once in a while */
      for (size_t i = 0; i < NSLOTS; i++)
        if (slots[i].p) do_free(&slots[i]);
      mi_collect(true);
      checkpoint();
    }
  }
  checkpoint();
  for (size_t i = 0; i < NSLOTS; i++)
    if (slots[i].p) do_free(&slots[i]);
  checkpoint();
  double t = tu_now() - t0;
  CHECKF(fails_stamp == 0, "%ld stamp mismatches", fails_stamp);
  CHECKF(fails_null == 0, "%ld NULL results", fails_null);
  CHECKF(fails_usable == 0, "%ld blocks with usable_size < size", fails_usable);
  CHECKF(fails_align == 0, "%ld misaligned blocks", fails_align);
  CHECKF(fails_zero == 0, "%ld zeroed blocks not zero", fails_zero);
  CHECK_EQ(live_count, 0);
  printf("stamp mismatches: %ld\n", fails_stamp);
  printf("%ld ops in %.2f s (%.0f ops/s), peak live blocks %zu\n", ops, t, (double)ops / t,
         peak_live);
  return tu_report();
}
