/* test-aligned.c -- the aligned allocation family, offsets, zeroing re-allocation. */
#include "testutil.h"

#include "mimalloc.h"

static volatile size_t vol_size; /* defeats constant folding of bad arguments */

/* every power of two from 1 B to 32 MiB, several sizes each */
static void test_all_alignments(void) {
  for (size_t align = 1; align <= 32 * TU_MiB; align *= 2) {
    const size_t sizes[] = {1, 8, 100, 1000, align, align + 1, 3 * align / 2 + 40, 70000};
    int bad_null = 0, bad_align = 0, bad_usable = 0, bad_content = 0, bad_owned = 0;
    void* ps[8];
    for (int i = 0; i < 8; i++) {
      size_t sz = sizes[i];
      void* p = mi_malloc_aligned(sz, align);
      ps[i] = p;
      if (p == NULL) { bad_null++; continue; }
      if (!tu_is_aligned(p, align)) bad_align++;
      if (!tu_is_aligned(p, align < 8 ? align : 8)) bad_align++;
      if (mi_usable_size(p) < sz) bad_usable++;
      if (!mi_is_in_heap_region(p) || !mi_check_owned(p)) bad_owned++;
      tu_stamp(p, sz, align * 8 + (size_t)i);
    }
    for (int i = 0; i < 8; i++) {
      if (ps[i] == NULL) continue;
      if (!tu_stamp_ok(ps[i], sizes[i], align * 8 + (size_t)i)) bad_content++;
      mi_free(ps[i]);
    }
    CHECKF(bad_null == 0, "alignment %zu: %d NULL results", align, bad_null);
    CHECKF(bad_align == 0, "alignment %zu: %d misaligned", align, bad_align);
    CHECKF(bad_usable == 0, "alignment %zu: %d usable_size < size", align, bad_usable);
    CHECKF(bad_content == 0, "alignment %zu: %d overwritten blocks", align, bad_content);
    CHECKF(bad_owned == 0, "alignment %zu: %d not owned", align, bad_owned);
  }
}

/* many aligned blocks alive at the same time, interleaved with plain ones */
static void test_many_live(void) {
  enum { N = 3000 };
  static void* ps[N];
  static size_t sz[N], al[N];
  uint64_t rng = 7;
  int bad = 0;
  for (int i = 0; i < N; i++) {
    al[i] = (size_t)1 << tu_rand_below(&rng, 17); /* up to 64 KiB */
    sz[i] = 1 + tu_rand_below(&rng, i % 10 == 0 ? 100000 : 2000);
    ps[i] = (i % 3 == 0) ? mi_malloc(sz[i]) : mi_malloc_aligned(sz[i], al[i]);
    if (ps[i] == NULL) { bad++; continue; }
    if (i % 3 != 0 && !tu_is_aligned(ps[i], al[i])) bad++;
    tu_stamp(ps[i], sz[i], (uint64_t)i);
  }
  CHECK_EQ(bad, 0);
  int bad_content = 0;
  for (int i = 0; i < N; i += 2) {
    if (!tu_stamp_ok(ps[i], sz[i], (uint64_t)i)) bad_content++;
    mi_free(ps[i]);
    ps[i] = mi_malloc_aligned(sz[i], al[i]);
    if (!ps[i] || !tu_is_aligned(ps[i], al[i])) bad++;
    else tu_stamp(ps[i], sz[i], (uint64_t)i + 1000000);
  }
  for (int i = 0; i < N; i++) {
    if (!tu_stamp_ok(ps[i], sz[i], (uint64_t)i + (i % 2 == 0 ? 1000000 : 0))) bad_content++;
    mi_free(ps[i]);
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(bad_content, 0);
}

static void test_aligned_at(void) {
  const size_t offsets[] = {0, 1, 8, 16, 24, 100, 4000};
  int bad = 0, bad_null = 0;
  for (size_t align = 8; align <= 4 * TU_MiB; align *= 2) {
    for (size_t k = 0; k < sizeof(offsets) / sizeof(offsets[0]); k++) {
      size_t off = offsets[k];
      size_t size = off + 200;
      void* p = mi_malloc_aligned_at(size, align, off);
      if (!p) { bad_null++; continue; }
      if (((uintptr_t)p + off) % align != 0) {
        if (bad++ < 5) fprintf(stderr, "  malloc_aligned_at(%zu,%zu,%zu) = %p\n", size, align, off, p);
      }
      if (mi_usable_size(p) < size) bad++;
      tu_stamp(p, size, 5);
      void* z = mi_zalloc_aligned_at(size, align, off);
      if (!z) bad_null++;
      else {
        if (((uintptr_t)z + off) % align != 0 || !tu_all_zero(z, size)) bad++;
      }
      void* c = mi_calloc_aligned_at(2, size / 2 + 1, align, off);
      if (!c) bad_null++;
      else {
        if (((uintptr_t)c + off) % align != 0 || !tu_all_zero(c, 2 * (size / 2 + 1))) bad++;
      }
      /* realloc_aligned_at keeps contents and the offset alignment */
      void* r = mi_realloc_aligned_at(p, size * 3, align, off);
      if (!r) { bad_null++; mi_free(p); }
      else {
        if (((uintptr_t)r + off) % align != 0) bad++;
        if (!tu_stamp_ok(r, size, 5)) bad++;
        mi_free(r);
      }
      mi_free(z);
      mi_free(c);
    }
  }
  CHECK_EQ(bad_null, 0);
  CHECK_EQ(bad, 0);
}

static void test_zeroed_aligned(void) {
  int bad = 0;
  const size_t sizes[] = {5, 64, 1000, 5000, 70000, 300000, 3 * TU_MiB};
  for (size_t align = 16; align <= 2 * TU_MiB; align *= 4) {
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      size_t sz = sizes[i];
      /* dirty some memory of the same size first */
      void* d = mi_malloc_aligned(sz, align);
      if (d) memset(d, 0xAB, sz);
      mi_free(d);
      void* z = mi_zalloc_aligned(sz, align);
      void* c = mi_calloc_aligned(sz, 1, align);
      if (!z || !tu_is_aligned(z, align) || !tu_all_zero(z, sz)) bad++;
      if (!c || !tu_is_aligned(c, align) || !tu_all_zero(c, sz)) bad++;
      mi_free(z);
      mi_free(c);
    }
  }
  CHECK_EQ(bad, 0);
  /* calloc_aligned overflow */
  vol_size = SIZE_MAX / 2 + 1;
  errno = 0;
  void* p = mi_calloc_aligned(vol_size, 4, 64);
  CHECK(p == NULL);
  CHECK_EQ(errno, ENOMEM);
}

static void test_realloc_aligned(void) {
  const size_t aligns[] = {16, 64, 4096, 65536, TU_MiB};
  const size_t steps[] = {10, 500, 9000, 100000, 2 * TU_MiB, 20 * TU_MiB, 3000, 40};
  for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++) {
    size_t align = aligns[a];
    size_t cur = steps[0];
    uint8_t* p = (uint8_t*)mi_malloc_aligned(cur, align);
    CHECK(p != NULL);
    if (!p) continue;
    for (size_t i = 0; i < cur; i++) p[i] = (uint8_t)(i * 13 + align);
    int bad = 0;
    for (size_t s = 1; s < sizeof(steps) / sizeof(steps[0]); s++) {
      size_t ns = steps[s];
      uint8_t* q = (uint8_t*)mi_realloc_aligned(p, ns, align);
      if (!q) { bad++; break; }
      if (!tu_is_aligned(q, align)) bad++;
      size_t keep = cur < ns ? cur : ns;
      for (size_t i = 0; i < keep; i++)
        if (q[i] != (uint8_t)(i * 13 + align)) { bad++; break; }
      for (size_t i = keep; i < ns; i++) q[i] = (uint8_t)(i * 13 + align);
      p = q;
      cur = ns;
    }
    CHECKF(bad == 0, "realloc_aligned with alignment %zu: %d errors", align, bad);
    mi_free(p);
  }
  /* realloc_aligned from NULL */
  void* p = mi_realloc_aligned(NULL, 100, 256);
  CHECK(p != NULL && tu_is_aligned(p, 256));
  mi_free(p);
}

/* grown part must be zero: allocate with zeroing, write the old part, grow */
static void test_rezalloc_recalloc(void) {
  /* only growing steps: a shrink may move the block into memory whose tail (beyond the
     requested size) is not zero, and the contract only covers memory beyond the old block */
  const size_t steps[] = {1, 7, 100, 1000, 8000, 70000, 600000, 5 * TU_MiB, 9 * TU_MiB, 40 * TU_MiB};
  /* dirty memory so that reuse is not accidentally zero */
  for (int i = 0; i < 10; i++) {
    void* d[8];
    for (int k = 0; k < 8; k++) {
      d[k] = mi_malloc(steps[k]);
      if (d[k]) memset(d[k], 0xDD, steps[k]);
    }
    for (int k = 0; k < 8; k++) mi_free(d[k]);
  }
  for (int variant = 0; variant < 6; variant++) {
    size_t align = 64, off = 16;
    size_t cur = steps[0];
    uint8_t* p;
    switch (variant) {
      case 0: case 1: p = (uint8_t*)mi_zalloc(cur); break;
      case 2: case 3: p = (uint8_t*)mi_zalloc_aligned(cur, align); break;
      default: p = (uint8_t*)mi_zalloc_aligned_at(cur, align, off); break;
    }
    CHECK(p != NULL);
    if (!p) continue;
    memset(p, 0x77, cur);
    int bad = 0;
    for (size_t s = 1; s < sizeof(steps) / sizeof(steps[0]); s++) {
      size_t ns = steps[s];
      uint8_t* q = NULL;
      switch (variant) {
        case 0: q = (uint8_t*)mi_rezalloc(p, ns); break;
        case 1: q = (uint8_t*)mi_recalloc(p, ns, 1); break;
        case 2: q = (uint8_t*)mi_rezalloc_aligned(p, ns, align); break;
        case 3: q = (uint8_t*)mi_recalloc_aligned(p, 1, ns, align); break;
        case 4: q = (uint8_t*)mi_rezalloc_aligned_at(p, ns, align, off); break;
        case 5: q = (uint8_t*)mi_recalloc_aligned_at(p, ns, 1, align, off); break;
      }
      if (!q) { bad++; p = NULL; break; }
      if (variant >= 2 && variant <= 3 && !tu_is_aligned(q, align)) bad++;
      if (variant >= 4 && ((uintptr_t)q + off) % align != 0) bad++;
      size_t keep = cur < ns ? cur : ns;
      if (!tu_all_byte(q, 0x77, keep)) bad++;
      if (ns > cur && !tu_all_zero(q + cur, ns - cur)) {
        if (bad++ < 3) fprintf(stderr, "  variant %d: grown part %zu..%zu not zero\n", variant, cur, ns);
      }
      memset(q, 0x77, ns);
      p = q;
      cur = ns;
    }
    /* shrinking keeps the prefix */
    if (p) {
      uint8_t* q = NULL;
      switch (variant) {
        case 0: q = (uint8_t*)mi_rezalloc(p, 100); break;
        case 1: q = (uint8_t*)mi_recalloc(p, 25, 4); break;
        case 2: q = (uint8_t*)mi_rezalloc_aligned(p, 100, align); break;
        case 3: q = (uint8_t*)mi_recalloc_aligned(p, 4, 25, align); break;
        case 4: q = (uint8_t*)mi_rezalloc_aligned_at(p, 100, align, off); break;
        case 5: q = (uint8_t*)mi_recalloc_aligned_at(p, 50, 2, align, off); break;
      }
      if (!q || !tu_all_byte(q, 0x77, 100)) bad++;
      else p = q;
    }
    CHECKF(bad == 0, "rezalloc/recalloc variant %d: %d errors", variant, bad);
    mi_free(p);
  }
  /* recalloc count*size overflow */
  void* p = mi_zalloc(10);
  vol_size = SIZE_MAX / 2 + 1;
  errno = 0;
  void* q = mi_recalloc(p, vol_size, 4);
  CHECK(q == NULL);
  CHECK_EQ(errno, ENOMEM);
  mi_free(p);
  /* recalloc of NULL is calloc */
  q = mi_recalloc(NULL, 10, 10);
  CHECK(q != NULL && tu_all_zero(q, 100));
  mi_free(q);
  q = mi_rezalloc(NULL, 100);
  CHECK(q != NULL && tu_all_zero(q, 100));
  mi_free(q);
}

static void test_invalid_alignment(void) {
  const size_t bad_aligns[] = {3, 5, 6, 12, 24, 48, 100, 1000, 4095, 65537, (size_t)3 << 20};
  int bad = 0;
  for (size_t i = 0; i < sizeof(bad_aligns) / sizeof(bad_aligns[0]); i++) {
    vol_size = bad_aligns[i];
    size_t al = vol_size;
    void* p;
    int bad_before = bad;
    if ((p = mi_malloc_aligned(100, al)) != NULL) { bad++; mi_free(p); }
    if ((p = mi_zalloc_aligned(100, al)) != NULL) { bad++; mi_free(p); }
    if ((p = mi_calloc_aligned(10, 10, al)) != NULL) { bad++; mi_free(p); }
    if ((p = mi_malloc_aligned_at(100, al, 8)) != NULL) { bad++; mi_free(p); }
    if ((p = mi_realloc_aligned(NULL, 100, al)) != NULL) { bad++; mi_free(p); }
    if (bad > bad_before) fprintf(stderr, "  alignment %zu accepted %d times\n", al, bad - bad_before);
  }
  CHECK_EQ(bad, 0);
  /* a failed realloc_aligned leaves the block alone */
  char* q = (char*)mi_malloc_aligned(64, 64);
  memset(q, 'k', 64);
  vol_size = 48;
  void* r = mi_realloc_aligned(q, 1000, vol_size);
  CHECK(r == NULL);
  CHECK(tu_all_byte(q, 'k', 64));
  mi_free(q);
  /* huge size with an alignment */
  vol_size = (size_t)PTRDIFF_MAX + 1;
  errno = 0;
  r = mi_malloc_aligned(vol_size, 64);
  CHECK(r == NULL);
  CHECK_EQ(errno, ENOMEM);
}

int main(void) {
  test_all_alignments();
  test_many_live();
  test_aligned_at();
  test_zeroed_aligned();
  test_realloc_aligned();
  test_rezalloc_recalloc();
  test_invalid_alignment();
  return tu_report();
}
