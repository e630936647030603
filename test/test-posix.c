/* test-posix.c -- the POSIX / BSD / Windows-named mi_ functions. */
#include "testutil.h"

#include <wchar.h>

#include "mimalloc.h"

static volatile size_t vol; /* defeats constant folding of bad arguments */

static void test_posix_memalign(void) {
  void* sentinel = (void*)(uintptr_t)0x1234;
  void* p = sentinel;
  /* success cases */
  const size_t aligns[] = {sizeof(void*), 16, 32, 64, 256, 4096, 65536, TU_MiB, 8 * TU_MiB};
  int bad = 0;
  for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
    p = sentinel;
    int rc = mi_posix_memalign(&p, aligns[i], 1000);
    if (rc != 0 || p == NULL || p == sentinel || !tu_is_aligned(p, aligns[i])) bad++;
    else {
      memset(p, 1, 1000);
      if (mi_usable_size(p) < 1000) bad++;
      mi_free(p);
    }
  }
  CHECK_EQ(bad, 0);

  /* EINVAL: NULL out pointer, alignment 0, not a multiple of sizeof(void*), not a power of 2 */
  CHECK_EQ(mi_posix_memalign(NULL, 16, 100), EINVAL);
  const size_t bad_aligns[] = {0, 1, 2, sizeof(void*) / 2, sizeof(void*) + 1, 24, 48, 96, 4097, 3 * 4096};   // 4 is valid on 32-bit
  for (size_t i = 0; i < sizeof(bad_aligns) / sizeof(bad_aligns[0]); i++) {
    p = sentinel;
    vol = bad_aligns[i];
    int rc = mi_posix_memalign(&p, vol, 100);
    CHECKF(rc == EINVAL, "posix_memalign(alignment %zu) returned %d", bad_aligns[i], rc);
    CHECKF(p == sentinel, "posix_memalign(alignment %zu) changed *p on error", bad_aligns[i]);
  }
  /* ENOMEM on a size that cannot be satisfied, *p untouched */
  p = sentinel;
  vol = (size_t)PTRDIFF_MAX + 1;
  int rc = mi_posix_memalign(&p, 64, vol);
  CHECK_EQ(rc, ENOMEM);
  CHECK(p == sentinel);
  /* size 0 succeeds */
  p = sentinel;
  rc = mi_posix_memalign(&p, 64, 0);
  CHECK_EQ(rc, 0);
  CHECK(p != sentinel);
  if (p != sentinel) mi_free(p);
}

static void test_memalign_valloc(void) {
  size_t ps = tu_page_size();
  int bad = 0;
  for (size_t align = 1; align <= 2 * TU_MiB; align *= 2) {
    void* p = mi_memalign(align, 3000);
    if (!p || !tu_is_aligned(p, align) || mi_usable_size(p) < 3000) bad++;
    else memset(p, 0x3c, 3000);
    mi_free(p);
  }
  CHECK_EQ(bad, 0);
  vol = 24;
  CHECK(mi_memalign(vol, 100) == NULL);

  void* v = mi_valloc(100);
  CHECK(v != NULL && tu_is_aligned(v, ps));
  CHECK(mi_usable_size(v) >= 100);
  mi_free(v);
  v = mi_valloc(3 * ps + 1);
  CHECK(v != NULL && tu_is_aligned(v, ps));
  if (v) memset(v, 1, 3 * ps + 1);
  mi_free(v);

  /* pvalloc rounds the size up to whole pages */
  void* pv = mi_pvalloc(1);
  CHECK(pv != NULL && tu_is_aligned(pv, ps));
  CHECKF(pv && mi_usable_size(pv) >= ps, "usable_size(pvalloc(1)) = %zu", pv ? mi_usable_size(pv) : 0);
  if (pv) memset(pv, 2, ps);
  mi_free(pv);
  pv = mi_pvalloc(ps + 1);
  CHECK(pv != NULL && tu_is_aligned(pv, ps));
  CHECK(pv && mi_usable_size(pv) >= 2 * ps);
  if (pv) memset(pv, 2, 2 * ps);
  mi_free(pv);
  vol = SIZE_MAX - 10;
  errno = 0;
  pv = mi_pvalloc(vol); /* rounding must not overflow into a small request */
  CHECK(pv == NULL);
  CHECK_EQ(errno, ENOMEM);
}

static void test_aligned_alloc(void) {
  /* size need not be a multiple of the alignment */
  void* p = mi_aligned_alloc(64, 100);
  CHECK(p != NULL && tu_is_aligned(p, 64));
  mi_free(p);
  p = mi_aligned_alloc(4096, 4096 * 3);
  CHECK(p != NULL && tu_is_aligned(p, 4096));
  if (p) memset(p, 0, 4096 * 3);
  mi_free(p);
  p = mi_aligned_alloc(16 * TU_MiB, 100);
  CHECK(p != NULL && tu_is_aligned(p, 16 * TU_MiB));
  mi_free(p);
  vol = 3;
  CHECK(mi_aligned_alloc(vol, 100) == NULL);
}

static void test_reallocarray(void) {
  errno = 0;
  void* p = mi_reallocarray(NULL, 0, 16);
  CHECK(p != NULL);
  CHECK_EQ(errno, 0);
  mi_free(p);

  int* a = (int*)mi_reallocarray(NULL, 10, sizeof(int));
  CHECK(a != NULL);
  for (int i = 0; i < 10; i++) a[i] = i + 100;
  a = (int*)mi_reallocarray(a, 10000, sizeof(int));
  CHECK(a != NULL);
  bool ok = true;
  for (int i = 0; i < 10; i++) ok = ok && a[i] == i + 100;
  CHECK(ok);
  /* overflow: EOVERFLOW, NULL, block untouched */
  vol = SIZE_MAX / 2 + 1;
  errno = 0;
  void* q = mi_reallocarray(a, vol, 4);
  CHECK(q == NULL);
  CHECK_EQ(errno, EOVERFLOW);
  ok = true;
  for (int i = 0; i < 10; i++) ok = ok && a[i] == i + 100;
  CHECK(ok);
  /* no overflow but too large: ENOMEM */
  vol = (size_t)PTRDIFF_MAX / 2 + 1; /* * 2 = PTRDIFF_MAX + 1: no overflow */
  errno = 0;
  q = mi_reallocarray(a, vol, 2);
  CHECK(q == NULL);
  CHECK_EQ(errno, ENOMEM);
  mi_free(a);
}

static void test_reallocarr(void) {
  /* NULL pointer-to-pointer: EINVAL */
  errno = 0;
  CHECK_EQ(mi_reallocarr(NULL, 10, 10), EINVAL);

  int* a = NULL;
  CHECK_EQ(mi_reallocarr(&a, 10, sizeof(int)), 0);
  CHECK(a != NULL);
  if (!a) return;
  for (int i = 0; i < 10; i++) a[i] = -i;
  CHECK_EQ(mi_reallocarr(&a, 5000, sizeof(int)), 0);
  CHECK(a != NULL);
  bool ok = true;
  for (int i = 0; i < 10; i++) ok = ok && a[i] == -i;
  CHECK(ok);
  /* overflow: error code returned, pointer untouched */
  int* before = a;
  vol = SIZE_MAX / 2 + 1;
  int rc = mi_reallocarr(&a, vol, 4);
  CHECK(rc == EOVERFLOW || rc == ENOMEM);
  CHECK(a == before);
  ok = true;
  for (int i = 0; i < 10; i++) ok = ok && a[i] == -i;
  CHECK(ok);
  /* size 0: either rejected (EINVAL, untouched) or freed (0, *ptr = NULL) */
  rc = mi_reallocarr(&a, 4, 0);
  CHECKF((rc == EINVAL && a == before) || (rc == 0 && a == NULL), "reallocarr(&p,4,0): rc %d, p %p",
         rc, (void*)a);
  if (a == NULL) {
    a = (int*)mi_malloc(40);
    before = a;
  }
  /* total 0: frees and sets *ptr = NULL */
  rc = mi_reallocarr(&a, 0, sizeof(int));
  CHECK_EQ(rc, 0);
  CHECKF(a == NULL, "reallocarr(&p, 0, 4) left p = %p", (void*)a);
  if (a != NULL && a != before) mi_free(a);
}

static void test_sizes(void) {
  int bad = 0;
  for (size_t n = 0; n < 300000; n = n * 5 / 4 + 1) {
    void* p = mi_malloc(n);
    size_t u = mi_usable_size(p);
    if (mi_malloc_size(p) != u || mi_malloc_usable_size(p) != u || u < n) bad++;
    if (mi_malloc_good_size(n) != mi_good_size(n) || mi_malloc_good_size(n) < n) bad++;
    mi_free(p);
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(mi_malloc_size(NULL), 0);
  CHECK_EQ(mi_malloc_usable_size(NULL), 0);
}

/* count the live blocks of a heap */
static bool count_visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                          size_t block_size, void* arg) {
  TU_UNUSED(heap); TU_UNUSED(area); TU_UNUSED(block_size);
  if (block != NULL) (*(size_t*)arg)++;
  return true;
}
static size_t live_blocks(mi_heap_t* h) {
  size_t n = 0;
  mi_heap_visit_blocks(h, true, count_visitor, &n);
  return n;
}

/* the sized / aligned frees really free (the heap's live block count drops to 0) */
static void test_frees(void) {
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL);
  if (!h) return;
  enum { N = 40 };
  void* ps[N * 5];
  for (int i = 0; i < N; i++) {
    ps[i] = mi_heap_malloc(h, 48);                                  /* cfree */
    ps[N + i] = mi_heap_malloc(h, 100 + (size_t)i);                 /* free_size */
    ps[2 * N + i] = mi_heap_malloc_aligned(h, 200, 256);            /* free_aligned */
    ps[3 * N + i] = mi_heap_malloc_aligned(h, 5000 + (size_t)i, 64); /* free_size_aligned */
    ps[4 * N + i] = mi_heap_malloc(h, 70000);                       /* free_size (large) */
  }
  CHECK_EQ(live_blocks(h), 5 * N);
  for (int i = 0; i < N; i++) mi_cfree(ps[i]);
  CHECK_EQ(live_blocks(h), 4 * N);
  for (int i = 0; i < N; i++) mi_free_size(ps[N + i], 100 + (size_t)i);
  CHECK_EQ(live_blocks(h), 3 * N);
  for (int i = 0; i < N; i++) mi_free_aligned(ps[2 * N + i], 256);
  CHECK_EQ(live_blocks(h), 2 * N);
  for (int i = 0; i < N; i++) mi_free_size_aligned(ps[3 * N + i], 5000 + (size_t)i, 64);
  CHECK_EQ(live_blocks(h), N);
  for (int i = 0; i < N; i++) mi_free_size(ps[4 * N + i], 70000);
  CHECK_EQ(live_blocks(h), 0);
  mi_cfree(NULL);
  mi_heap_delete(h);
}

static void test_expand(void) {
  char* p = (char*)mi_malloc(50);
  CHECK(p != NULL);
  memset(p, 'z', 50);
  CHECK(mi__expand(p, 40) == p);
  CHECK(mi__expand(p, mi_usable_size(p)) == p);
  errno = 0;
  CHECK(mi__expand(p, TU_MiB) == NULL);
  CHECK_EQ(errno, ENOMEM);
  CHECK(tu_all_byte(p, 'z', 40));
  mi_free(p);
}

static void test_strings(void) {
  const wchar_t* ws = L"wide string \x263A!";
  wchar_t* wd = mi_wcsdup(ws);
  CHECK(wd != NULL && wcscmp(wd, ws) == 0 && wd != ws);
  CHECK(wd && mi_usable_size(wd) >= (wcslen(ws) + 1) * sizeof(wchar_t));
  mi_free(wd);
  wd = mi_wcsdup(L"");
  CHECK(wd != NULL && wd[0] == 0);
  mi_free(wd);

  const unsigned char* ms = (const unsigned char*)"multi\xc3\xa9 byte";
  unsigned char* md = mi_mbsdup(ms);
  CHECK(md != NULL && strcmp((const char*)md, (const char*)ms) == 0);
  mi_free(md);

  /* dupenv_s */
  CHECK(setenv("MIMIC_TEST_DUPENV", "some value=1", 1) == 0);
  char* buf = NULL;
  size_t size = 12345;
  CHECK_EQ(mi_dupenv_s(&buf, &size, "MIMIC_TEST_DUPENV"), 0);
  CHECK(buf != NULL && strcmp(buf, "some value=1") == 0);
  /* the MS CRT counts the terminating NUL in *size; mimalloc v2 reports strlen */
  CHECKF(size == strlen("some value=1") + 1 || size == strlen("some value=1"), "size = %zu", size);
  CHECK(buf && mi_check_owned(buf));
  mi_free(buf);
  buf = (char*)(uintptr_t)1;
  size = 12345;
  CHECK_EQ(mi_dupenv_s(&buf, &size, "MIMIC_TEST_DUPENV_NOT_SET_ANYWHERE"), 0);
  CHECK(buf == NULL);
  CHECK_EQ(size, 0);
  buf = NULL;
  CHECK_EQ(mi_dupenv_s(&buf, NULL, "MIMIC_TEST_DUPENV"), 0); /* size may be NULL */
  CHECK(buf != NULL && strcmp(buf, "some value=1") == 0);
  mi_free(buf);
  CHECK_EQ(mi_dupenv_s(NULL, &size, "MIMIC_TEST_DUPENV"), EINVAL);
  CHECK_EQ(mi_dupenv_s(&buf, &size, NULL), EINVAL);

  /* wdupenv_s: argument errors are EINVAL; a valid call either works or reports EINVAL
     (not supported on POSIX) with *buf = NULL */
  wchar_t* wbuf = NULL;
  CHECK_EQ(mi_wdupenv_s(NULL, &size, L"MIMIC_TEST_DUPENV"), EINVAL);
  CHECK_EQ(mi_wdupenv_s(&wbuf, &size, NULL), EINVAL);
  wbuf = (wchar_t*)(uintptr_t)1;
  int rc = mi_wdupenv_s(&wbuf, &size, L"MIMIC_TEST_DUPENV");
  if (rc == 0) {
    CHECK(wbuf != NULL && wcscmp(wbuf, L"some value=1") == 0);
    CHECK(size == wcslen(L"some value=1") + 1 || size == wcslen(L"some value=1"));
    mi_free(wbuf);
  } else {
    CHECK_EQ(rc, EINVAL);
    CHECK(wbuf == NULL);
  }
}

static void test_aligned_recalloc(void) {
  uint8_t* p = (uint8_t*)mi_aligned_recalloc(NULL, 10, 10, 128);
  CHECK(p != NULL && tu_is_aligned(p, 128) && tu_all_zero(p, 100));
  if (!p) return;
  memset(p, 0x44, 100);
  uint8_t* q = (uint8_t*)mi_aligned_recalloc(p, 1000, 10, 128);
  CHECK(q != NULL && tu_is_aligned(q, 128));
  if (!q) return;
  CHECK(tu_all_byte(q, 0x44, 100));
  CHECK(tu_all_zero(q + 100, 9900));
  p = (uint8_t*)mi_aligned_offset_recalloc(NULL, 3, 100, 256, 16);
  CHECK(p != NULL && ((uintptr_t)p + 16) % 256 == 0 && tu_all_zero(p, 300));
  if (p) {
    memset(p, 0x45, 300);
    uint8_t* r = (uint8_t*)mi_aligned_offset_recalloc(p, 300, 100, 256, 16);
    CHECK(r != NULL && ((uintptr_t)r + 16) % 256 == 0);
    if (r) {
      CHECK(tu_all_byte(r, 0x45, 300));
      CHECK(tu_all_zero(r + 300, 30000 - 300));
      mi_free(r);
    } else {
      mi_free(p);
    }
  }
  vol = SIZE_MAX / 2 + 1;
  errno = 0;
  CHECK(mi_aligned_recalloc(q, vol, 4, 128) == NULL);
  CHECK(tu_all_byte(q, 0x44, 100));
  mi_free(q);
}

static void test_realloc_zero(void) {
  void* p = mi_realloc(NULL, 0);
  CHECK(p != NULL);
  void* q = mi_malloc(100);
  void* r = mi_realloc(q, 0);
  CHECK(r != NULL);
  CHECK(r != p);
  mi_free(p);
  mi_free(r);
}

int main(void) {
  test_posix_memalign();
  test_memalign_valloc();
  test_aligned_alloc();
  test_reallocarray();
  test_reallocarr();
  test_sizes();
  test_frees();
  test_expand();
  test_strings();
  test_aligned_recalloc();
  test_realloc_zero();
  return tu_report();
}
