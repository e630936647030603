/* test-api.c -- the basic mi_* allocation API: contents, sizes, alignment, errno, ownership. */
#include "testutil.h"

#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mimalloc.h"

/* volatile so the compiler cannot fold (and warn about) the huge request sizes */
static volatile size_t huge_size;
static volatile size_t half_max;

static char global_array[4096];

static void test_malloc_basic(void) {
  /* mi_malloc(0) returns unique non-NULL pointers */
  void* z1 = mi_malloc(0);
  void* z2 = mi_malloc(0);
  CHECK(z1 != NULL);
  CHECK(z2 != NULL);
  CHECK(z1 != z2);
  CHECK(tu_is_aligned(z1, 16));
  CHECK(mi_is_in_heap_region(z1));
  mi_free(z1);
  mi_free(z2);

  /* mi_calloc(0,1000): the documented contract is a usable size of at most 16 */
  void* c0 = mi_calloc(0, 1000);
  CHECK(c0 != NULL);
  CHECKF(mi_usable_size(c0) <= 16, "usable_size(calloc(0,1000)) = %zu", mi_usable_size(c0));
  mi_free(c0);

  /* mi_free(NULL) is a no-op (and so are the other frees of NULL) */
  mi_free(NULL);
  CHECK(mi_usable_size(NULL) == 0);

  /* a simple round trip */
  char* s = (char*)mi_malloc(100);
  CHECK(s != NULL);
  memset(s, 'x', 100);
  CHECK(tu_all_byte(s, 'x', 100));
  mi_free(s);
}

/* Allocate many blocks of many sizes; fill each to its full usable size with a distinct
   byte; verify nothing overlapped. Also checks usable >= request and 16-byte alignment. */
static void test_usable_size_writable(void) {
  enum { N = 2300 };
  static void* blocks[N];
  static size_t req[N];
  int n = 0;
  for (size_t sz = 0; sz <= 2048; sz++) req[n++] = sz;
  for (size_t sz = 2049; sz < 300 * TU_KiB; sz = sz * 9 / 8 + 1) req[n++] = sz;
  for (size_t sz = 300 * TU_KiB; sz <= 48 * TU_MiB && n < N; sz = sz * 3 / 2 + 7) req[n++] = sz;
  CHECK(n <= N);
  int bad_usable = 0, bad_align = 0, bad_null = 0, bad_owned = 0;
  for (int i = 0; i < n; i++) {
    blocks[i] = mi_malloc(req[i]);
    if (blocks[i] == NULL) { bad_null++; continue; }
    size_t u = mi_usable_size(blocks[i]);
    if (u < req[i]) bad_usable++;
    if (!tu_is_aligned(blocks[i], 16)) bad_align++;
    if (!mi_check_owned(blocks[i]) || !mi_is_in_heap_region(blocks[i])) bad_owned++;
    memset(blocks[i], (uint8_t)(i * 7 + 1), u);
  }
  CHECK_EQ(bad_null, 0);
  CHECK_EQ(bad_usable, 0);
  CHECK_EQ(bad_align, 0);
  CHECK_EQ(bad_owned, 0);
  int bad_content = 0;
  for (int i = 0; i < n; i++) {
    if (blocks[i] == NULL) continue;
    if (!tu_all_byte(blocks[i], (uint8_t)(i * 7 + 1), mi_usable_size(blocks[i]))) {
      if (bad_content++ < 5) fprintf(stderr, "  block %d (size %zu) overwritten\n", i, req[i]);
    }
  }
  CHECK_EQ(bad_content, 0);
  for (int i = 0; i < n; i++) mi_free(blocks[i]);
}

static void test_errno_and_overflow(void) {
  void* p;
  huge_size = (size_t)PTRDIFF_MAX + 1;
  half_max = SIZE_MAX / 2 + 1;

  errno = 0;
  p = mi_malloc(huge_size);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);

  errno = 0;
  huge_size = SIZE_MAX;
  p = mi_malloc(huge_size);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);
  huge_size = (size_t)PTRDIFF_MAX + 1;

  errno = 0;
  p = mi_zalloc(huge_size);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);

  errno = 0;
  p = mi_calloc(half_max, 2); /* overflows size_t */
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);

  errno = 0;
  p = mi_calloc(3, half_max);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);

  errno = 0;
  p = mi_mallocn(half_max, 4);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);

  /* no overflow but more than PTRDIFF_MAX */
  errno = 0;
  p = mi_calloc(huge_size / 4, 4);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);

  /* realloc to a huge size fails and leaves the block intact */
  char* q = (char*)mi_malloc(64);
  CHECK(q != NULL);
  memset(q, 0x5a, 64);
  errno = 0;
  void* r = mi_realloc(q, huge_size);
  CHECK(r == NULL);
  CHECK_EQ(errno, ENOMEM);
  CHECK(tu_all_byte(q, 0x5a, 64));
  errno = 0;
  r = mi_reallocn(q, half_max, 4);
  CHECK(r == NULL);
  CHECK_EQ(errno, ENOMEM);
  CHECK(tu_all_byte(q, 0x5a, 64));
  /* mi_expand to a huge size fails, block intact */
  r = mi_expand(q, huge_size);
  CHECK(r == NULL);
  CHECK(tu_all_byte(q, 0x5a, 64));
  /* reallocf frees the block on failure: we can only check the result and not crash */
  errno = 0;
  r = mi_reallocf(q, huge_size);
  CHECK(r == NULL);
  CHECK_EQ(errno, ENOMEM);

  /* the heap still works after the failures */
  p = mi_malloc(32);
  CHECK(p != NULL);
  mi_free(p);
}

static void test_calloc_zalloc(void) {
  /* reuse memory that was dirtied: the zeroing allocators must still give zeros */
  static const size_t sizes[] = {1, 8, 16, 24, 100, 512, 1000, 1024, 4000, 8192, 20000,
                                 65536, 100000, 300000, 1u << 20, 5u << 20};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t sz = sizes[i];
    int bad = 0;
    for (int round = 0; round < 3; round++) {
      void* d[8];
      for (int k = 0; k < 8; k++) {
        d[k] = mi_malloc(sz);
        if (d[k]) memset(d[k], 0xEE, mi_usable_size(d[k]));
      }
      for (int k = 0; k < 8; k++) mi_free(d[k]);
      void* a = mi_calloc(1, sz);
      void* b = mi_zalloc(sz);
      void* c = mi_calloc(sz, 1);
      if (!a || !b || !c) bad++;
      else {
        if (!tu_all_zero(a, sz)) bad++;
        if (!tu_all_zero(b, sz)) bad++;
        if (!tu_all_zero(c, sz)) bad++;
      }
      if (sz <= MI_SMALL_SIZE_MAX) {
        void* s = mi_zalloc_small(sz);
        if (!s || !tu_all_zero(s, sz)) bad++;
        mi_free(s);
      }
      mi_free(a);
      mi_free(b);
      mi_free(c);
    }
    CHECKF(bad == 0, "zeroed allocation of %zu bytes not zero (%d)", sz, bad);
  }
  /* calloc of count*size */
  int* arr = (int*)mi_calloc(1000, sizeof(int));
  CHECK(arr != NULL);
  CHECK(tu_all_zero(arr, 1000 * sizeof(int)));
  CHECK(mi_usable_size(arr) >= 1000 * sizeof(int));
  mi_free(arr);
}

static void fill_pos(uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ 0xA5);
}
static bool check_pos(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ 0xA5)) return false;
  return true;
}

static void test_realloc_kinds(void) {
  /* small -> medium -> large -> huge -> and back down */
  static const size_t steps[] = {16, 10 * 1024, 200 * 1024, 3 * 1024 * 1024, 40 * 1024 * 1024,
                                 3 * 1024 * 1024, 200 * 1024, 10 * 1024, 16, 1, 40 * 1024 * 1024,
                                 16};
  size_t cur = steps[0];
  uint8_t* p = (uint8_t*)mi_malloc(cur);
  CHECK(p != NULL);
  if (!p) return;
  fill_pos(p, cur);
  for (size_t i = 1; i < sizeof(steps) / sizeof(steps[0]); i++) {
    size_t ns = steps[i];
    uint8_t* q = (uint8_t*)mi_realloc(p, ns);
    CHECKF(q != NULL, "realloc %zu -> %zu failed", cur, ns);
    if (!q) return;
    size_t keep = cur < ns ? cur : ns;
    CHECKF(check_pos(q, keep), "realloc %zu -> %zu lost contents", cur, ns);
    CHECK(mi_usable_size(q) >= ns);
    CHECK(tu_is_aligned(q, 16));
    fill_pos(q, ns);
    p = q;
    cur = ns;
  }
  mi_free(p);

  /* realloc(NULL, n) behaves like malloc; realloc(p, 0) returns a valid block */
  void* a = mi_realloc(NULL, 40);
  CHECK(a != NULL);
  CHECK(mi_usable_size(a) >= 40);
  void* b = mi_realloc(a, 0);
  CHECK(b != NULL);
  mi_free(b);
  void* c = mi_realloc(NULL, 0);
  CHECK(c != NULL);
  mi_free(c);

  /* shrinking in place keeps the pointer for a small decrease (not required, but contents are) */
  char* s = (char*)mi_malloc(1000);
  CHECK(s != NULL);
  memset(s, 'q', 1000);
  char* t = (char*)mi_realloc(s, 990);
  CHECK(t != NULL);
  CHECK(tu_all_byte(t, 'q', 990));
  mi_free(t);

  /* many small reallocs growing by 1 */
  uint8_t* g = NULL;
  int bad = 0;
  for (size_t n = 1; n <= 5000; n++) {
    g = (uint8_t*)mi_realloc(g, n);
    if (!g) { bad++; break; }
    if (n > 1 && !check_pos(g, n - 1)) bad++;
    g[n - 1] = (uint8_t)((n - 1) ^ ((n - 1) >> 8) ^ ((n - 1) >> 16) ^ 0xA5);
  }
  CHECK_EQ(bad, 0);
  mi_free(g);

  /* reallocn / reallocf success paths */
  int* arr = (int*)mi_mallocn(10, sizeof(int));
  CHECK(arr != NULL);
  for (int i = 0; i < 10; i++) arr[i] = i * 3;
  arr = (int*)mi_reallocn(arr, 100000, sizeof(int));
  CHECK(arr != NULL);
  if (arr) {
    bool ok = true;
    for (int i = 0; i < 10; i++) ok = ok && arr[i] == i * 3;
    CHECK(ok);
    CHECK(mi_usable_size(arr) >= 100000 * sizeof(int));
    arr[99999] = 7;
  }
  arr = (int*)mi_reallocf(arr, 20 * sizeof(int));
  CHECK(arr != NULL);
  if (arr) {
    bool ok = true;
    for (int i = 0; i < 10; i++) ok = ok && arr[i] == i * 3;
    CHECK(ok);
  }
  mi_free(arr);
}

static void test_expand(void) {
  char* p = (char*)mi_malloc(100);
  CHECK(p != NULL);
  memset(p, 'e', 100);
  size_t u = mi_usable_size(p);
  CHECK(mi_expand(p, 50) == p);
  CHECK(mi_expand(p, u) == p);
  CHECK(mi_expand(p, 100) == p);
  CHECK(tu_all_byte(p, 'e', 100));
  /* a small block can never grow in place to 1 MiB */
  CHECK(mi_expand(p, 1024 * 1024) == NULL);
  CHECK(tu_all_byte(p, 'e', 100));
  CHECK(mi_usable_size(p) == u);
  mi_free(p);
}

static void test_strings(void) {
  const char* src = "hello, mimic allocator";
  char* d = mi_strdup(src);
  CHECK(d != NULL && strcmp(d, src) == 0);
  CHECK(d != src);
  CHECK(mi_check_owned(d));
  mi_free(d);

  d = mi_strdup("");
  CHECK(d != NULL && d[0] == 0);
  mi_free(d);

  d = mi_strndup(src, 5);
  CHECK(d != NULL && strcmp(d, "hello") == 0);
  mi_free(d);
  d = mi_strndup(src, 1000);
  CHECK(d != NULL && strcmp(d, src) == 0);
  mi_free(d);
  d = mi_strndup(src, 0);
  CHECK(d != NULL && d[0] == 0);
  mi_free(d);
  /* strndup must not read past n: a non-terminated buffer */
  char raw[4] = {'a', 'b', 'c', 'd'};
  d = mi_strndup(raw, 4);
  CHECK(d != NULL && strcmp(d, "abcd") == 0);
  mi_free(d);

  /* a long string */
  size_t big = 100000;
  char* longs = (char*)mi_malloc(big + 1);
  CHECK(longs != NULL);
  for (size_t i = 0; i < big; i++) longs[i] = (char)('a' + i % 26);
  longs[big] = 0;
  d = mi_strdup(longs);
  CHECK(d != NULL && strcmp(d, longs) == 0);
  mi_free(d);
  mi_free(longs);
}

static void test_realpath(void) {
  char tmpl[] = "/tmp/mimic-test-api-XXXXXX";
  char* dir = mkdtemp(tmpl);
  CHECK(dir != NULL);
  if (!dir) return;
  char sub[PATH_MAX];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  CHECK(mkdir(sub, 0700) == 0);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/./sub/../sub//.", dir);
  char expect[PATH_MAX];
  CHECK(realpath(path, expect) != NULL); /* libc, into our buffer: no allocation */

  char* r = mi_realpath(path, NULL);
  CHECK(r != NULL);
  if (r) {
    CHECKF(strcmp(r, expect) == 0, "mi_realpath gave '%s', expected '%s'", r, expect);
    CHECK(mi_check_owned(r));
    mi_free(r);
  }
  char buf[PATH_MAX];
  r = mi_realpath(path, buf);
  CHECK(r == buf);
  CHECK(strcmp(buf, expect) == 0);

  errno = 0;
  snprintf(path, sizeof path, "%s/does-not-exist/x", dir);
  r = mi_realpath(path, NULL);
  CHECK(r == NULL);
  CHECK_EQ(errno, ENOENT);

  rmdir(sub);
  rmdir(dir);
}

static void test_small_and_good_size(void) {
  int bad = 0;
  void* blocks[MI_SMALL_SIZE_MAX + 1];
  for (size_t sz = 0; sz <= MI_SMALL_SIZE_MAX; sz++) {
    void* p = mi_malloc_small(sz);
    blocks[sz] = p;
    if (!p || mi_usable_size(p) < sz || !tu_is_aligned(p, 16)) bad++;
    else memset(p, (int)(sz & 0xff), sz);
  }
  for (size_t sz = 0; sz <= MI_SMALL_SIZE_MAX; sz++) {
    if (blocks[sz] && !tu_all_byte(blocks[sz], (int)(sz & 0xff), sz)) bad++;
    if (sz % 2) mi_free_small(blocks[sz]);
    else mi_free(blocks[sz]);
  }
  CHECK_EQ(bad, 0);

  /* good_size: >= n, monotone, and an allocation of good_size(n) really has that much room */
  size_t prev = 0;
  int bad_ge = 0, bad_mono = 0, bad_fit = 0;
  for (size_t n = 1; n < 64 * TU_MiB; n = (n < 4096 ? n + 1 : n * 17 / 16)) {
    size_t g = mi_good_size(n);
    if (g < n) bad_ge++;
    if (g < prev) bad_mono++;
    prev = g;
    if (n < 4096 || n % 7 == 0) {
      void* p = mi_malloc(g);
      if (!p || mi_usable_size(p) < g) bad_fit++;
      mi_free(p);
    }
  }
  CHECK_EQ(bad_ge, 0);
  CHECK_EQ(bad_mono, 0);
  CHECK_EQ(bad_fit, 0);
  /* sizes round up to at most 25% (4 classes per doubling, as mimalloc) plus the 16-byte step */
  int bad_spacing = 0;
  for (size_t n = 65; n <= 64 * 1024; n++) {
    if (mi_good_size(n) > n + n / 4 + 16) bad_spacing++;
  }
  CHECK_EQ(bad_spacing, 0);
  /* malloc finds the class of 1-128 KiB sizes in a table: it must agree with mi_good_size */
  int bad_class = 0;
  for (size_t n = 1000; n <= 140 * 1024; n++) {
    void* p = mi_malloc(n);
    if (p == NULL || mi_usable_size(p) != mi_good_size(n) || mi_usable_size(p) < n) bad_class++;
    if (p != NULL) memset(p, 0xA5, n);
    mi_free(p);
  }
  CHECK_EQ(bad_class, 0);
}

static void test_uapi(void) {
  size_t bs = 0, pre = 0, post = 0;
  void* p = mi_umalloc(100, &bs);
  CHECK(p != NULL);
  CHECK(bs >= 100);
  CHECK_EQ(bs, mi_usable_size(p));
  memset(p, 1, bs);
  void* q = mi_urealloc(p, 5000, &pre, &post);
  CHECK(q != NULL);
  CHECK_EQ(pre, bs);
  CHECK(post >= 5000);
  CHECK_EQ(post, mi_usable_size(q));
  CHECK(tu_all_byte(q, 1, 100));
  size_t fs = 0;
  mi_ufree(q, &fs);
  CHECK_EQ(fs, post);

  p = mi_ucalloc(10, 30, &bs);
  CHECK(p != NULL);
  CHECK(bs >= 300);
  CHECK(tu_all_zero(p, 300));
  CHECK_EQ(bs, mi_usable_size(p));
  mi_ufree(p, NULL);

  /* NULL block_size pointers are allowed */
  p = mi_umalloc(10, NULL);
  CHECK(p != NULL);
  q = mi_urealloc(p, 20, NULL, NULL);
  CHECK(q != NULL);
  mi_ufree(q, NULL);

  p = mi_umalloc_aligned(1000, 256, &bs);
  CHECK(p != NULL && tu_is_aligned(p, 256));
  CHECK(bs >= 1000);
  mi_ufree(p, &fs);
  CHECK_EQ(fs, bs);

  p = mi_umalloc_aligned(70000, 4096, &bs);
  CHECK(p != NULL && tu_is_aligned(p, 4096));
  CHECK(bs >= 70000);
  mi_free(p);

  p = mi_uzalloc_aligned(3000, 64, &bs);
  CHECK(p != NULL && tu_is_aligned(p, 64));
  CHECK(bs >= 3000);
  CHECK(tu_all_zero(p, 3000));
  mi_free(p);

  p = mi_umalloc_small(48, &bs);
  CHECK(p != NULL);
  CHECK(bs >= 48);
  CHECK_EQ(bs, mi_usable_size(p));
  mi_free(p);

  /* dirty a small block, then uzalloc_small must still be zero */
  p = mi_malloc_small(200);
  memset(p, 0xcc, 200);
  mi_free(p);
  p = mi_uzalloc_small(200, &bs);
  CHECK(p != NULL);
  CHECK(bs >= 200);
  CHECK(tu_all_zero(p, 200));
  mi_free(p);

  /* urealloc from NULL is a malloc */
  pre = 12345;
  p = mi_urealloc(NULL, 64, &pre, &post);
  CHECK(p != NULL);
  CHECK_EQ(pre, 0);
  CHECK(post >= 64);
  mi_free(p);

  /* failure leaves the block */
  huge_size = (size_t)PTRDIFF_MAX + 1;
  p = mi_umalloc(32, NULL);
  errno = 0;
  q = mi_urealloc(p, huge_size, NULL, NULL);
  CHECK(q == NULL);
  CHECK_EQ(errno, ENOMEM);
  mi_free(p);
  errno = 0;
  p = mi_umalloc(huge_size, &bs);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);
}

static void test_ownership(void) {
  int on_stack[16];
  on_stack[0] = 1;
  void* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(page != MAP_FAILED);

  void* mine = mi_malloc(100);
  void* mine_big = mi_malloc(8 * TU_MiB);
  void* mine_huge = mi_malloc(64 * TU_MiB);
  CHECK(mine && mine_big && mine_huge);
  CHECK(mi_is_in_heap_region(mine));
  CHECK(mi_is_in_heap_region(mine_big));
  CHECK(mi_is_in_heap_region(mine_huge));
  CHECK(mi_check_owned(mine));
  CHECK(mi_check_owned(mine_big));
  CHECK(mi_check_owned(mine_huge));

  CHECK(!mi_is_in_heap_region(global_array));
  CHECK(!mi_is_in_heap_region(global_array + 2048));
  CHECK(!mi_is_in_heap_region(on_stack));
  CHECK(!mi_is_in_heap_region(page));
  CHECK(!mi_is_in_heap_region(NULL));
  CHECK(!mi_is_in_heap_region((void*)(uintptr_t)16));
  CHECK(!mi_is_in_heap_region((void*)(uintptr_t)0x7ffffffff000ull));  /* top of user space */
  CHECK(!mi_is_in_heap_region((void*)(uintptr_t)0xffff800000001000ull)); /* kernel half */
  CHECK(!mi_is_in_heap_region((void*)(uintptr_t)&test_ownership));    /* code */

  CHECK(!mi_check_owned(global_array));
  CHECK(!mi_check_owned(on_stack));
  CHECK(!mi_check_owned(page));
  CHECK(!mi_check_owned(NULL));
  CHECK(!mi_check_owned((void*)(uintptr_t)0xffff800000001000ull));

  mi_free(mine);
  mi_free(mine_big);
  mi_free(mine_huge);
  if (page != MAP_FAILED) munmap(page, 4096);
  TU_UNUSED(on_stack[0]);
}

static void test_version_and_collect(void) {
  CHECK(mi_version() >= 1);
#if defined(MI_MALLOC_VERSION) && defined(MIMIC_VERSION)
  /* the compatible API level (what mimalloc's mi_version returns) or mimic's own version */
  CHECKF(mi_version() == MI_MALLOC_VERSION || mi_version() == MIMIC_VERSION, "mi_version() = %d",
         mi_version());
#endif
  /* collect with live blocks must not disturb them */
  void* blocks[100];
  for (int i = 0; i < 100; i++) {
    blocks[i] = mi_malloc((size_t)(i + 1) * 100);
    tu_stamp(blocks[i], (size_t)(i + 1) * 100, (uint64_t)i);
  }
  for (int i = 0; i < 100; i += 2) mi_free(blocks[i]);
  mi_collect(false);
  mi_collect(true);
  int bad = 0;
  for (int i = 1; i < 100; i += 2) {
    if (!tu_stamp_ok(blocks[i], (size_t)(i + 1) * 100, (uint64_t)i)) bad++;
    mi_free(blocks[i]);
  }
  CHECK_EQ(bad, 0);
}

static void test_many_sizes_16_aligned(void) {
  uint64_t rng = 42;
  int bad = 0;
  void* live[512] = {0};
  for (int i = 0; i < 20000; i++) {
    int k = (int)tu_rand_below(&rng, 512);
    mi_free(live[k]);
    size_t sz = tu_rand_below(&rng, 4) == 0 ? tu_rand_below(&rng, 100000) : tu_rand_below(&rng, 600);
    live[k] = mi_malloc(sz);
    if (!live[k] || !tu_is_aligned(live[k], 16)) bad++;
  }
  for (int k = 0; k < 512; k++) mi_free(live[k]);
  CHECK_EQ(bad, 0);
}

/* A double free is the program's bug, but it must not hang the allocator: it made the local free
   list a cycle, and a forced collect walked it forever. The collect now reports EFAULT and returns.
   (The double free also miscounts the page's live blocks; telling it apart at free time is the
   secure mode's job, so the heap is destroyed here rather than its blocks freed one by one.) */
static int efault_count;
static void count_efault(int err, void* arg) { (void)arg; if (err == EFAULT) efault_count++; }

static void test_double_free_collect(void) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return;
  void* blocks[4];
  for (int i = 0; i < 4; i++) blocks[i] = mi_heap_malloc(heap, 100);   /* the page keeps free blocks */
  CHECK(blocks[0] != NULL && blocks[3] != NULL);
  mi_register_error(&count_efault, NULL);
  mi_free(blocks[3]);
  mi_free(blocks[3]);
  mi_heap_collect(heap, true);   /* hung here before */
  mi_register_error(NULL, NULL);
  CHECK(efault_count == 1);
  void* q = mi_heap_malloc(heap, 100);
  CHECK(q != NULL && q != blocks[0] && q != blocks[1] && q != blocks[2]);
  mi_heap_destroy(heap);
}

int main(void) {
  test_malloc_basic();
  test_usable_size_writable();
  test_errno_and_overflow();
  test_calloc_zalloc();
  test_realloc_kinds();
  test_expand();
  test_strings();
  test_realpath();
  test_small_and_good_size();
  test_uapi();
  test_ownership();
  test_version_and_collect();
  test_many_sizes_16_aligned();
  test_double_free_collect();
  return tu_report();
}
