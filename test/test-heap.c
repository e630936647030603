/* test-heap.c -- first-class heaps: every mi_heap_* function (issue 4).
 *
 * Prints `heap checks passed: N/N`. mi_abandoned_visit_blocks is checked when the
 * visit_abandoned option is on (CTest sets MIMALLOC_VISIT_ABANDONED=1).
 */
#include "testutil.h"

#include <limits.h>
#include <pthread.h>

#include "mimalloc.h"
#include "mimalloc-stats.h"

static volatile size_t vol;
static char static_block[128];

/* ---- error capture ----------------------------------------------------------------- */
static atomic_int err_count;
static atomic_int err_last;
static void on_error(int err, void* arg) {
  TU_UNUSED(arg);
  atomic_fetch_add(&err_count, 1);
  atomic_store(&err_last, err);
}

static int64_t pages_now(void) {
  mi_stats_t st;
  memset(&st, 0, sizeof st);
  MI_STATS_INIT(&st);
  if (!mi_stats_get(&st)) return -1;
  return st.pages.current;
}

/* ---- visiting ---------------------------------------------------------------------- */
typedef struct walk_s {
  size_t blocks, bytes, areas, area_used, bad_area, calls_with_block;
  size_t stop_after; /* 0: never stop */
  int expect_tag;
  void** want; /* blocks that must be seen (NULL-terminated list), marked when found */
  size_t nwant, found;
} walk_t;

static bool walker(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                   size_t block_size, void* arg) {
  TU_UNUSED(heap);
  walk_t* w = (walk_t*)arg;
  if (block == NULL) {
    w->areas++;
    w->area_used += area->used;
    if (area->block_size == 0 || area->full_block_size < area->block_size ||
        area->committed > area->reserved || area->blocks == NULL ||
        (w->expect_tag >= 0 && area->heap_tag != w->expect_tag)) {
      if (w->bad_area++ < 3)
        fprintf(stderr, "  bad area: blocks %p used %zu block_size %zu full %zu reserved %zu "
                "committed %zu tag %d (expected %d)\n", area->blocks, area->used, area->block_size,
                area->full_block_size, area->reserved, area->committed, area->heap_tag, w->expect_tag);
    }
    return true;
  }
  w->calls_with_block++;
  w->blocks++;
  w->bytes += block_size;
  uintptr_t b = (uintptr_t)block, start = (uintptr_t)area->blocks;
  if (block_size != area->block_size || b < start || b + block_size > start + area->reserved) {
    if (w->bad_area++ < 3)
      fprintf(stderr, "  bad block %p size %zu in area %p (block_size %zu, reserved %zu)\n", block,
              block_size, area->blocks, area->block_size, area->reserved);
  }
  for (size_t i = 0; i < w->nwant; i++) {
    /* a wanted pointer may be interior to its block (aligned allocations) */
    uintptr_t p = (uintptr_t)w->want[i];
    if (p >= b && p < b + block_size) {
      w->want[i] = NULL; /* found: take it off the list */
      w->found++;
      break;
    }
  }
  if (w->stop_after && w->calls_with_block >= w->stop_after) return false;
  return true;
}
static walk_t walk(const mi_heap_t* h, bool blocks, int tag) {
  walk_t w;
  memset(&w, 0, sizeof w);
  w.expect_tag = tag;
  mi_heap_visit_blocks(h, blocks, walker, &w);
  return w;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_new_delete(void) {
  mi_heap_t* backing = mi_heap_get_backing();
  CHECK(backing != NULL);
  CHECK(mi_heap_get_default() == backing);
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL && h != backing);
  enum { N = 500 };
  void* ps[N];
  void* want[N];
  size_t usable = 0;
  for (int i = 0; i < N; i++) {
    size_t sz = (size_t)(i % 50) * 37 + 1 + (i % 97 == 0 ? 100000 : 0);
    ps[i] = mi_heap_malloc(h, sz);
    CHECK(ps[i] != NULL);
    tu_stamp(ps[i], sz, (uint64_t)i);
    usable += mi_usable_size(ps[i]);
  }
  int bad = 0;
  for (int i = 0; i < N; i++) {
    if (!mi_heap_contains_block(h, ps[i])) bad++;
    if (mi_heap_contains_block(backing, ps[i])) bad++;
    if (!mi_heap_check_owned(h, ps[i])) bad++;
    if (mi_heap_check_owned(backing, ps[i])) bad++;
  }
  CHECK_EQ(bad, 0);
  /* visiting: counts and byte totals equal what is live */
  walk_t w = walk(h, true, 0);
  CHECK_EQ(w.blocks, N);
  CHECK_EQ(w.bytes, usable);
  CHECK_EQ(w.area_used, N);
  CHECK_EQ(w.bad_area, 0);
  CHECK(w.areas >= 2);
  walk_t a = walk(h, false, 0); /* areas only */
  CHECK_EQ(a.calls_with_block, 0);
  CHECK_EQ(a.area_used, N);
  CHECK_EQ(a.areas, w.areas);

  /* free some, walk again */
  for (int i = 0; i < N; i += 2) {
    usable -= mi_usable_size(ps[i]);
    mi_free(ps[i]);
    ps[i] = NULL;
  }
  w = walk(h, true, 0);
  CHECK_EQ(w.blocks, N / 2);
  CHECK_EQ(w.bytes, usable);

  /* delete: the remaining blocks stay valid and now belong to the backing heap */
  int64_t pages_before = pages_now();
  mi_heap_delete(h);
  /* pages moved, not freed (freeing the heap's own record may retire one page) */
  CHECKF(pages_now() >= pages_before - 1, "pages %lld -> %lld after delete",
         (long long)pages_before, (long long)pages_now());
  size_t nwant = 0;
  bad = 0;
  for (int i = 1; i < N; i += 2) {
    size_t sz = (size_t)(i % 50) * 37 + 1 + (i % 97 == 0 ? 100000 : 0);
    if (!tu_stamp_ok(ps[i], sz, (uint64_t)i)) bad++;
    if (!mi_heap_contains_block(backing, ps[i])) bad++;
    want[nwant++] = ps[i];
  }
  CHECK_EQ(bad, 0);
  walk_t bw;
  memset(&bw, 0, sizeof bw);
  bw.expect_tag = -1;
  bw.want = want;
  bw.nwant = nwant;
  mi_heap_visit_blocks(backing, true, walker, &bw);
  CHECKF(bw.found == nwant, "backing heap walk found %zu of %zu moved blocks", bw.found, nwant);
  for (int i = 1; i < N; i += 2) mi_free(ps[i]);

  /* the visitor can stop the walk */
  h = mi_heap_new();
  for (int i = 0; i < 100; i++) ps[i] = mi_heap_malloc(h, 64);
  walk_t s;
  memset(&s, 0, sizeof s);
  s.expect_tag = -1;
  s.stop_after = 10;
  bool completed = mi_heap_visit_blocks(h, true, walker, &s);
  CHECK(!completed);
  CHECK_EQ(s.calls_with_block, 10);
  memset(&s, 0, sizeof s);
  s.expect_tag = -1;
  CHECK(mi_heap_visit_blocks(h, true, walker, &s));
  CHECK_EQ(s.calls_with_block, 100);
  mi_heap_delete(h);
  for (int i = 0; i < 100; i++) mi_free(ps[i]);

  /* an empty heap visits nothing */
  h = mi_heap_new();
  w = walk(h, true, 0);
  CHECK_EQ(w.blocks, 0);
  CHECK_EQ(w.areas, 0);
  mi_heap_delete(h);
}

static void test_destroy(void) {
  for (int round = 0; round < 100; round++) {
    mi_heap_t* h = mi_heap_new();
    CHECK(h != NULL);
    if (!h) return;
    int64_t base = pages_now();
    for (int i = 0; i < 2000; i++) {
      void* p = mi_heap_malloc(h, (size_t)(16 + (i % 64) * 16));
      if (!p) { CHECK(p != NULL); break; }
      memset(p, 0xEE, 16);
    }
    void* big = mi_heap_malloc(h, 3 * TU_MiB);
    CHECK(big != NULL);
    CHECK(pages_now() > base);
    mi_heap_destroy(h); /* all blocks freed at once */
    CHECKF(pages_now() <= base, "round %d: %lld pages after destroy, %lld before", round,
           (long long)pages_now(), (long long)base);
  }
  /* destroy then reuse: a new heap works normally */
  mi_heap_t* h = mi_heap_new();
  char* s = mi_heap_strdup(h, "after destroy");
  CHECK(s != NULL && strcmp(s, "after destroy") == 0);
  CHECK(mi_heap_contains_block(h, s));
  mi_heap_destroy(h);

  /* destroying a heap that does not allow it is reported, the blocks stay valid */
  mi_heap_t* nd = mi_heap_new_ex(0, false, 0);
  CHECK(nd != NULL);
  char* keep = (char*)mi_heap_malloc(nd, 100);
  memset(keep, 'k', 100);
  int e0 = atomic_load(&err_count);
  mi_heap_destroy(nd);
  CHECKF(atomic_load(&err_count) == e0 + 1, "destroy of a non-destroyable heap reported %d errors",
         atomic_load(&err_count) - e0);
  CHECK_EQ(atomic_load(&err_last), EINVAL);
  CHECK(tu_all_byte(keep, 'k', 100)); /* not destroyed: the block stays valid */
  mi_free(keep);
}

typedef struct point_s {
  double x, y, z;
  int tag;
} point_t;

static void test_family(void) {
  mi_heap_t* h = mi_heap_new_ex(5, true, 0);
  mi_heap_t* other = mi_heap_new();
  CHECK(h != NULL && other != NULL);
  if (!h || !other) return;
  int bad = 0;
#define OWN(p) do { if ((p) == NULL || !mi_heap_contains_block(h, (p)) || mi_heap_contains_block(other, (p))) { bad++; fprintf(stderr, "  not in heap: %s (line %d)\n", #p, __LINE__); } } while (0)
  /* dirty memory first so zeroing is real */
  for (int i = 0; i < 20; i++) {
    void* d = mi_heap_malloc(h, (size_t)i * 100 + 10);
    memset(d, 0xAA, (size_t)i * 100 + 10);
    mi_free(d);
  }
  char* p = (char*)mi_heap_malloc(h, 100);
  OWN(p);
  char* z = (char*)mi_heap_zalloc(h, 300);
  OWN(z);
  CHECK(z && tu_all_zero(z, 300));
  char* c = (char*)mi_heap_calloc(h, 30, 10);
  OWN(c);
  CHECK(c && tu_all_zero(c, 300));
  char* n = (char*)mi_heap_mallocn(h, 30, 10);
  OWN(n);
  CHECK(n && mi_usable_size(n) >= 300);
  char* ms = (char*)mi_heap_malloc_small(h, 200);
  OWN(ms);
  char* zs = (char*)mi_heap_zalloc_small(h, 200);
  OWN(zs);
  CHECK(zs && tu_all_zero(zs, 200));
  /* overflow */
  vol = SIZE_MAX / 2 + 1;
  errno = 0;
  CHECK(mi_heap_calloc(h, vol, 2) == NULL);
  CHECK_EQ(errno, ENOMEM);
  errno = 0;
  CHECK(mi_heap_mallocn(h, vol, 2) == NULL);
  CHECK_EQ(errno, ENOMEM);

  /* realloc family keeps contents and stays in the heap */
  memset(p, 'p', 100);
  p = (char*)mi_heap_realloc(h, p, 100000);
  OWN(p);
  CHECK(p && tu_all_byte(p, 'p', 100));
  p = (char*)mi_heap_reallocn(h, p, 10, 20000);
  OWN(p);
  CHECK(p && tu_all_byte(p, 'p', 100));
  p = (char*)mi_heap_reallocf(h, p, 50);
  OWN(p);
  CHECK(p && tu_all_byte(p, 'p', 50));

  char* s = mi_heap_strdup(h, "heap string");
  OWN(s);
  CHECK(s && strcmp(s, "heap string") == 0);
  char* sn = mi_heap_strndup(h, "heap string", 4);
  OWN(sn);
  CHECK(sn && strcmp(sn, "heap") == 0);
  char* rp = mi_heap_realpath(h, "/tmp/../tmp/.", NULL);
  OWN(rp);
  char expect[PATH_MAX];
  CHECK(realpath("/tmp", expect) != NULL);
  CHECK(rp && strcmp(rp, expect) == 0);

  /* aligned variants */
  for (size_t al = 16; al <= 4 * TU_MiB; al *= 8) {
    void* a = mi_heap_malloc_aligned(h, 1000, al);
    OWN(a);
    CHECK(tu_is_aligned(a, al));
    void* aa = mi_heap_malloc_aligned_at(h, 1000, al, 24);
    OWN(aa);
    CHECK(((uintptr_t)aa + 24) % al == 0);
    char* za = (char*)mi_heap_zalloc_aligned(h, 5000, al);
    OWN(za);
    CHECK(za && tu_is_aligned(za, al) && tu_all_zero(za, 5000));
    char* zaa = (char*)mi_heap_zalloc_aligned_at(h, 5000, al, 8);
    OWN(zaa);
    CHECK(zaa && ((uintptr_t)zaa + 8) % al == 0 && tu_all_zero(zaa, 5000));
    char* ca = (char*)mi_heap_calloc_aligned(h, 50, 100, al);
    OWN(ca);
    CHECK(ca && tu_is_aligned(ca, al) && tu_all_zero(ca, 5000));
    char* caa = (char*)mi_heap_calloc_aligned_at(h, 50, 100, al, 40);
    OWN(caa);
    CHECK(caa && ((uintptr_t)caa + 40) % al == 0 && tu_all_zero(caa, 5000));
    memset(za, 'a', 5000);
    za = (char*)mi_heap_realloc_aligned(h, za, 20000, al);
    OWN(za);
    CHECK(za && tu_is_aligned(za, al) && tu_all_byte(za, 'a', 5000));
    memset(zaa, 'b', 5000);
    zaa = (char*)mi_heap_realloc_aligned_at(h, zaa, 20000, al, 8);
    OWN(zaa);
    CHECK(zaa && ((uintptr_t)zaa + 8) % al == 0 && tu_all_byte(zaa, 'b', 5000));
    mi_free(a); mi_free(aa); mi_free(za); mi_free(zaa); mi_free(ca); mi_free(caa);
  }

  /* zero-initialising re-allocation: the grown part is zero */
  char* r1 = (char*)mi_heap_zalloc(h, 100);
  memset(r1, 'r', 100);
  r1 = (char*)mi_heap_rezalloc(h, r1, 50000);
  OWN(r1);
  CHECK(r1 && tu_all_byte(r1, 'r', 100) && tu_all_zero(r1 + 100, 50000 - 100));
  char* r2 = (char*)mi_heap_calloc(h, 10, 10);
  memset(r2, 's', 100);
  r2 = (char*)mi_heap_recalloc(h, r2, 500, 100);
  OWN(r2);
  CHECK(r2 && tu_all_byte(r2, 's', 100) && tu_all_zero(r2 + 100, 50000 - 100));
  char* r3 = (char*)mi_heap_zalloc_aligned(h, 100, 256);
  memset(r3, 't', 100);
  r3 = (char*)mi_heap_rezalloc_aligned(h, r3, 50000, 256);
  OWN(r3);
  CHECK(r3 && tu_is_aligned(r3, 256) && tu_all_byte(r3, 't', 100) && tu_all_zero(r3 + 100, 49900));
  char* r4 = (char*)mi_heap_zalloc_aligned_at(h, 100, 256, 16);
  memset(r4, 'u', 100);
  r4 = (char*)mi_heap_rezalloc_aligned_at(h, r4, 50000, 256, 16);
  OWN(r4);
  CHECK(r4 && ((uintptr_t)r4 + 16) % 256 == 0 && tu_all_byte(r4, 'u', 100) && tu_all_zero(r4 + 100, 49900));
  char* r5 = (char*)mi_heap_calloc_aligned(h, 10, 10, 512);
  memset(r5, 'v', 100);
  r5 = (char*)mi_heap_recalloc_aligned(h, r5, 500, 100, 512);
  OWN(r5);
  CHECK(r5 && tu_is_aligned(r5, 512) && tu_all_byte(r5, 'v', 100) && tu_all_zero(r5 + 100, 49900));
  char* r6 = (char*)mi_heap_calloc_aligned_at(h, 10, 10, 512, 32);
  memset(r6, 'w', 100);
  r6 = (char*)mi_heap_recalloc_aligned_at(h, r6, 500, 100, 512, 32);
  OWN(r6);
  CHECK(r6 && ((uintptr_t)r6 + 32) % 512 == 0 && tu_all_byte(r6, 'w', 100) && tu_all_zero(r6 + 100, 49900));

  /* typed macros (v2 argument order) */
  point_t* pt = mi_heap_malloc_tp(h, point_t);
  OWN(pt);
  point_t* ptz = mi_heap_zalloc_tp(h, point_t);
  OWN(ptz);
  CHECK(ptz && ptz->x == 0 && ptz->tag == 0);
  point_t* pts = mi_heap_calloc_tp(h, point_t, 10);
  OWN(pts);
  CHECK(pts && tu_all_zero(pts, 10 * sizeof(point_t)));
  point_t* ptn = mi_heap_mallocn_tp(h, point_t, 10);
  OWN(ptn);
  ptn[9].tag = 9;
  ptn = mi_heap_reallocn_tp(h, ptn, point_t, 20);
  OWN(ptn);
  CHECK(ptn && ptn[9].tag == 9);
  pts[3].tag = 3;
  pts = mi_heap_recalloc_tp(h, pts, point_t, 30);
  OWN(pts);
  CHECK(pts && pts[3].tag == 3 && tu_all_zero(&pts[10], 20 * sizeof(point_t)));
  point_t* g1 = mi_malloc_tp(point_t);
  point_t* g2 = mi_zalloc_tp(point_t);
  point_t* g3 = mi_calloc_tp(point_t, 4);
  point_t* g4 = mi_mallocn_tp(point_t, 4);
  CHECK(g1 && g2 && g3 && g4 && g2->tag == 0 && g3[3].tag == 0);
  g4[0].tag = 44;
  g4 = mi_reallocn_tp(g4, point_t, 8);
  CHECK(g4 && g4[0].tag == 44);
  g3[1].tag = 33;
  g3 = mi_recalloc_tp(g3, point_t, 8);
  CHECK(g3 && g3[1].tag == 33 && tu_all_zero(&g3[4], 4 * sizeof(point_t)));
  mi_free(g1); mi_free(g2); mi_free(g3); mi_free(g4);

  /* ownership of foreign pointers */
  CHECK(!mi_heap_contains_block(h, static_block));
  CHECK(!mi_heap_check_owned(h, static_block));
  CHECK(!mi_heap_contains_block(h, NULL));
  CHECK(!mi_heap_check_owned(h, NULL));
  void* ob = mi_heap_malloc(other, 64);
  CHECK(mi_heap_contains_block(other, ob) && !mi_heap_contains_block(h, ob));
  CHECK(mi_heap_check_owned(other, ob) && !mi_heap_check_owned(h, ob));

  /* the heap tag shows up in the visited areas */
  walk_t w = walk(h, true, 5);
  CHECK_EQ(w.blocks, 19); /* p z c n ms zs s sn rp r1..r6 pt ptz pts ptn */
  CHECK_EQ(w.bad_area, 0);

  CHECK_EQ(bad, 0);
  mi_heap_collect(h, false);
  mi_heap_collect(h, true);
  CHECK(tu_all_byte(r1, 'r', 100)); /* collect keeps live blocks */
  int64_t pages_before = pages_now();
  mi_heap_destroy(h);
  CHECK(pages_now() < pages_before);
  mi_free(ob);
  mi_heap_delete(other);
#undef OWN
}

static void test_default(void) {
  mi_heap_t* backing = mi_heap_get_backing();
  mi_heap_t* h = mi_heap_new();
  mi_heap_t* prev = mi_heap_set_default(h);
  CHECK(prev == backing);
  CHECK(mi_heap_get_default() == h);
  CHECK(mi_heap_get_backing() == backing);
  void* p = mi_malloc(100); /* now from h */
  void* q = mi_zalloc_aligned(1000, 64);
  CHECK(p && mi_heap_contains_block(h, p) && !mi_heap_contains_block(backing, p));
  CHECK(q && mi_heap_contains_block(h, q));
  CHECK(mi_check_owned(p));
  mi_heap_t* back = mi_heap_set_default(backing);
  CHECK(back == h);
  CHECK(mi_heap_get_default() == backing);
  void* r = mi_malloc(100);
  CHECK(r && mi_heap_contains_block(backing, r) && !mi_heap_contains_block(h, r));
  mi_free(p);
  mi_free(q);
  mi_free(r);
  mi_heap_delete(h);
  /* collect on the default and backing heaps */
  mi_heap_collect(mi_heap_get_default(), true);
  mi_heap_collect(backing, false);
}

static void test_many_heaps(void) {
  enum { H = 1000, B = 8 };
  static mi_heap_t* heaps[H];
  static void* blocks[H][B];
  int bad = 0;
  for (int i = 0; i < H; i++) {
    heaps[i] = mi_heap_new();
    if (!heaps[i]) { bad++; continue; }
    for (int k = 0; k < B; k++) {
      size_t sz = (size_t)(8 + (i * B + k) % 300);
      blocks[i][k] = mi_heap_malloc(heaps[i], sz);
      if (!blocks[i][k]) bad++;
      else tu_stamp(blocks[i][k], sz, (uint64_t)(i * B + k));
    }
  }
  CHECK_EQ(bad, 0);
  /* every block is in its own heap and not in a neighbour */
  int wrong = 0;
  for (int i = 0; i < H; i++) {
    for (int k = 0; k < B; k++) {
      if (!mi_heap_contains_block(heaps[i], blocks[i][k])) wrong++;
      if (mi_heap_contains_block(heaps[(i + 1) % H], blocks[i][k])) wrong++;
    }
  }
  CHECK_EQ(wrong, 0);
  int counted_bad = 0;
  for (int i = 0; i < H; i += 50) {
    walk_t w = walk(heaps[i], true, 0);
    if (w.blocks != B) counted_bad++;
  }
  CHECK_EQ(counted_bad, 0);
  /* delete the even ones (blocks survive), destroy the odd ones */
  for (int i = 0; i < H; i++) {
    if (i % 2 == 0) mi_heap_delete(heaps[i]);
    else mi_heap_destroy(heaps[i]);
  }
  int lost = 0;
  for (int i = 0; i < H; i += 2) {
    for (int k = 0; k < B; k++) {
      size_t sz = (size_t)(8 + (i * B + k) % 300);
      if (!tu_stamp_ok(blocks[i][k], sz, (uint64_t)(i * B + k))) lost++;
      mi_free(blocks[i][k]);
    }
  }
  CHECK_EQ(lost, 0);
}

/* ---- threads ----------------------------------------------------------------------- */
typedef struct xfer_s {
  void* blocks[300];
  size_t sizes[300];
  int n;
} xfer_t;

static void* alloc_in_heap_then_delete(void* arg) {
  xfer_t* x = (xfer_t*)arg;
  mi_heap_t* h = mi_heap_new();
  for (int i = 0; i < 300; i++) {
    x->sizes[i] = (size_t)(16 + i * 13 + (i == 77 ? 2 * TU_MiB : 0));
    x->blocks[i] = mi_heap_malloc(h, x->sizes[i]);
    tu_stamp(x->blocks[i], x->sizes[i], (uint64_t)i + 5000);
  }
  x->n = 300;
  mi_heap_delete(h);
  return NULL;
}
static void* free_xfer(void* arg) {
  xfer_t* x = (xfer_t*)arg;
  int bad = 0;
  for (int i = 0; i < x->n; i++) {
    if (!tu_stamp_ok(x->blocks[i], x->sizes[i], (uint64_t)i + 5000)) bad++;
    mi_free(x->blocks[i]);
  }
  CHECK_EQ(bad, 0);
  return NULL;
}

static mi_heap_t* main_heap;
static void* misuse(void* arg) {
  TU_UNUSED(arg);
  int e0 = atomic_load(&err_count);
  void* p = mi_heap_malloc(main_heap, 100); /* not our heap */
  CHECKF(atomic_load(&err_count) == e0 + 1, "allocating from another thread's heap: %d reports",
         atomic_load(&err_count) - e0);
  CHECK_EQ(atomic_load(&err_last), EINVAL);
  mi_free(p); /* NULL, or a block from a fallback: both fine to free */
  return NULL;
}

static void test_threads(void) {
  /* delete in one thread, free from another (allocating thread exited) */
  static xfer_t x;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, alloc_in_heap_then_delete, &x) == 0);
  pthread_join(t, NULL);
  CHECK(pthread_create(&t, NULL, free_xfer, &x) == 0);
  pthread_join(t, NULL);

  /* delete then free from another thread while the allocating thread is alive: main allocates */
  static xfer_t y;
  alloc_in_heap_then_delete(&y);
  CHECK(pthread_create(&t, NULL, free_xfer, &y) == 0);
  pthread_join(t, NULL);

  /* blocks of a live heap freed by another thread */
  mi_heap_t* h = mi_heap_new();
  static xfer_t z;
  for (int i = 0; i < 300; i++) {
    z.sizes[i] = (size_t)(i * 7 + 1);
    z.blocks[i] = mi_heap_malloc(h, z.sizes[i]);
    tu_stamp(z.blocks[i], z.sizes[i], (uint64_t)i + 5000);
  }
  z.n = 300;
  CHECK(pthread_create(&t, NULL, free_xfer, &z) == 0);
  pthread_join(t, NULL);
  mi_heap_collect(h, true);
  walk_t w = walk(h, true, 0);
  CHECK_EQ(w.blocks, 0); /* remote frees are visible to the owner after a collect */
  mi_heap_delete(h);

  /* misuse: another thread allocating from our heap is reported, not a crash */
  main_heap = mi_heap_new();
  CHECK(pthread_create(&t, NULL, misuse, NULL) == 0);
  pthread_join(t, NULL);
  void* p = mi_heap_malloc(main_heap, 100); /* the owner still can */
  CHECK(p != NULL && mi_heap_contains_block(main_heap, p));
  mi_free(p);
  mi_heap_delete(main_heap);
}

/* ---- abandoned blocks -------------------------------------------------------------- */
#define ABANDON_MAGIC 0xABA2D0ED5EEDull
#define ABANDON_N 200
static void* abandon_blocks[ABANDON_N];
static void* leave_blocks(void* arg) {
  TU_UNUSED(arg);
  for (int i = 0; i < ABANDON_N; i++) {
    uint64_t* p = (uint64_t*)mi_malloc(1000);
    p[0] = ABANDON_MAGIC;
    p[1] = (uint64_t)i;
    abandon_blocks[i] = p;
  }
  return NULL; /* exit with the blocks live: they are abandoned */
}
static bool count_magic(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                        size_t block_size, void* arg) {
  TU_UNUSED(heap); TU_UNUSED(area);
  if (block != NULL && block_size >= 16 && ((uint64_t*)block)[0] == ABANDON_MAGIC) (*(size_t*)arg)++;
  return true;
}
static void test_abandoned(void) {
  if (!mi_option_is_enabled(mi_option_visit_abandoned)) {
    printf("note: visit_abandoned is off: mi_abandoned_visit_blocks not checked "
           "(set MIMALLOC_VISIT_ABANDONED=1)\n");
    CHECK(getenv("MIMALLOC_VISIT_ABANDONED") == NULL); /* set but not honoured: a failure */
    return;
  }
  pthread_t t;
  CHECK(pthread_create(&t, NULL, leave_blocks, NULL) == 0);
  pthread_join(t, NULL);
  size_t n = 0;
  bool ok = mi_abandoned_visit_blocks(mi_subproc_main(), 0, true, count_magic, &n);
  CHECK(ok);
  CHECKF(n == ABANDON_N, "abandoned walk found %zu of %d blocks", n, ABANDON_N);
  for (int i = 0; i < ABANDON_N; i++) mi_free(abandon_blocks[i]);
}

static void test_under_utilized(void) {
  mi_heap_t* h = mi_heap_new();
  enum { N = 3000 };
  static void* ps[N];
  for (int i = 0; i < N; i++) ps[i] = mi_heap_malloc(h, 64);
  /* the first page is full */
  CHECK(!mi_unsafe_heap_page_is_under_utilized(h, ps[0], 50));
  CHECK(!mi_unsafe_heap_page_is_under_utilized(h, NULL, 50));
  /* free all but the first block: its page is now nearly empty */
  for (int i = 1; i < N; i++) { mi_free(ps[i]); ps[i] = NULL; }
  CHECK(mi_unsafe_heap_page_is_under_utilized(h, ps[0], 50));
  /* a block of another heap is not "under utilized in h" */
  mi_heap_t* g = mi_heap_new();
  void* q = mi_heap_malloc(g, 64);
  CHECK(!mi_unsafe_heap_page_is_under_utilized(h, q, 100));
  mi_free(q);
  mi_heap_delete(g);
  mi_heap_destroy(h);
}

static void test_misc(void) {
  /* guarded sampling knobs are accepted (no-ops without a guarded build) */
  mi_heap_t* h = mi_heap_new();
  mi_heap_guarded_set_sample_rate(h, 0, 0);
  mi_heap_guarded_set_size_bound(h, 0, 1024);
  void* p = mi_heap_malloc(h, 100);
  CHECK(p != NULL && mi_heap_contains_block(h, p));
  mi_free(p);
  mi_heap_delete(h);
  /* a heap in "no specific arena" */
  h = mi_heap_new_in_arena(0);
  CHECK(h != NULL);
  p = mi_heap_malloc(h, 100);
  CHECK(p != NULL && mi_heap_contains_block(h, p));
  mi_free(p);
  mi_heap_delete(h);
  /* deleting/destroying NULL or the backing heap must not take the backing heap away */
  mi_heap_t* backing = mi_heap_get_backing();
  mi_heap_delete(NULL);
  mi_heap_destroy(NULL);
  void* b = mi_malloc(64);
  CHECK(b != NULL && mi_heap_contains_block(backing, b));
  mi_free(b);
}

int main(void) {
  mi_register_error(on_error, NULL);
  test_new_delete();
  test_destroy();
  test_family();
  test_default();
  test_many_heaps();
  test_threads();
  test_abandoned();
  test_under_utilized();
  test_misc();
  mi_register_error(NULL, NULL);
  printf("heap checks passed: %lu/%lu\n", tu_passed(), tu_passed() + tu_failed());
  return tu_report();
}
