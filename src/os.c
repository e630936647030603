/* mimic: OS memory on top of the platform layer — aligned reservations, purging and statistics. */
#include "mimic/internal.h"

static mi_os_mem_config_t mi_os_config = { 4096, 2 * 1024 * 1024, 4096, true, true };

void _mi_os_init(void) { _mi_prim_mem_init(&mi_os_config); }
size_t _mi_os_page_size(void) { return mi_os_config.page_size; }

static void* mi_os_prim_alloc(size_t size, size_t try_alignment, bool* is_zero) {
  void* p = NULL;
  int err = _mi_prim_alloc(size, try_alignment, true, is_zero, &p);
  if (err != 0 || p == NULL) {
    _mi_warning_message("unable to allocate OS memory (error %d (0x%x), size 0x%zx bytes)\n", err, err, size);
    return NULL;
  }
  _mi_stat_counter_increase(&_mi_stats_main.mmap_calls, 1);
  _mi_stat_increase(&_mi_stats_main.reserved, size);
  _mi_stat_increase(&_mi_stats_main.committed, size);
  return p;
}

static void mi_os_prim_free(void* p, size_t size) {
  if (p == NULL || size == 0) return;
  int err = _mi_prim_free(p, size);
  if (err != 0) _mi_warning_message("unable to free OS memory (error %d, address %p, size 0x%zx)\n", err, p, size);
  _mi_stat_counter_increase(&_mi_stats_main.munmap_calls, 1);
  _mi_stat_decrease(&_mi_stats_main.reserved, size);
  _mi_stat_decrease(&_mi_stats_main.committed, size);
}

/* Allocate `size` bytes aligned to `alignment` (a power of two >= the page size).
   First try a plain mapping (often aligned already for large sizes); otherwise over-allocate and
   unmap the unaligned head and tail, so no address space is wasted. */
void* _mi_os_alloc_aligned(size_t size, size_t alignment, mi_memid_t* memid) {
  memset(memid, 0, sizeof(*memid));
  if (size == 0) return NULL;
  size = _mi_align_up(size, mi_os_config.page_size);
  if (alignment < mi_os_config.page_size) alignment = mi_os_config.page_size;
  if (size + alignment < size) return NULL;   // overflow
  bool is_zero = false;
  void* p = mi_os_prim_alloc(size, alignment, &is_zero);
  if (p == NULL) return NULL;
  if (((uintptr_t)p % alignment) != 0) {
    mi_os_prim_free(p, size);
    size_t over = size + alignment;
    void* q = mi_os_prim_alloc(over, alignment, &is_zero);
    if (q == NULL) return NULL;
    uintptr_t aligned = _mi_align_up((uintptr_t)q, alignment);
    size_t pre = aligned - (uintptr_t)q;
    size_t post = over - pre - size;
    // trim: these pieces were counted as reserved by mi_os_prim_alloc; undo through mi_os_prim_free
    if (pre > 0) mi_os_prim_free(q, pre);
    if (post > 0) mi_os_prim_free((void*)(aligned + size), post);
    p = (void*)aligned;
  }
  memid->base = p;
  memid->size = size;
  memid->kind = MI_MEM_OS;
  memid->is_zero = is_zero;
  return p;
}

/* Grow the OS mapping `memid` (starting at p) to `newsize` bytes, keeping `alignment`: in place
   if the address space after it is free, else by moving its pages (no copy) to a fresh aligned
   range. Returns the (possibly new) start, or NULL if the OS cannot do it (then nothing changed). */
void* _mi_os_remap(void* p, size_t newsize, size_t alignment, mi_memid_t* memid) {
  if (memid->kind != MI_MEM_OS || memid->base != p) return NULL;
  newsize = _mi_align_up(newsize, mi_os_config.page_size);
  size_t oldsize = memid->size;
  if (newsize <= oldsize) return NULL;
  if (_mi_prim_remap(p, oldsize, newsize, NULL) == 0) {
    _mi_stat_increase(&_mi_stats_main.reserved, newsize - oldsize);
    _mi_stat_increase(&_mi_stats_main.committed, newsize - oldsize);
    memid->size = newsize;
    return p;
  }
  mi_memid_t dst_memid;
  void* dst = _mi_os_alloc_aligned(newsize, alignment, &dst_memid);
  if (dst == NULL) return NULL;
  void* q = dst;
  if (_mi_prim_remap(p, oldsize, newsize, &q) != 0 || q != dst) {
    _mi_os_free(dst, newsize, dst_memid);
    return NULL;
  }
  // the old range is gone (mremap unmapped it); the new one replaced `dst`
  _mi_stat_decrease(&_mi_stats_main.reserved, oldsize);
  _mi_stat_decrease(&_mi_stats_main.committed, oldsize);
  memid->base = dst;
  memid->size = newsize;
  return dst;
}

void _mi_os_free(void* p, size_t size, mi_memid_t memid) {
  if (memid.kind != MI_MEM_OS) return;
  (void)p; (void)size;
  mi_os_prim_free(memid.base, memid.size);
}

// Purge the whole OS pages inside [p, p+size). `stays_committed`: the range remains part of memory
// in use, so the committed statistic does not change.
static bool mi_os_purge_pages(void* p, size_t size, bool stays_committed) {
  uintptr_t start = _mi_align_up((uintptr_t)p, mi_os_config.page_size);
  uintptr_t end = _mi_align_down((uintptr_t)p + size, mi_os_config.page_size);
  if (end <= start) return false;
  bool needs_recommit = false;
  int err = _mi_prim_decommit((void*)start, end - start, &needs_recommit);
  if (err != 0) _mi_warning_message("cannot purge OS memory (error %d, address %p, size 0x%zx)\n", err, (void*)start, (size_t)(end - start));
  _mi_stat_counter_increase(&_mi_stats_main.purge_calls, 1);
  _mi_stat_increase(&_mi_stats_main.purged, end - start);
  // purged memory is no longer backed: it counts as committed again when a page is reused
  // (_mi_os_recommitted), or when the range is unmapped (accounted there)
  if (!stays_committed) _mi_stat_decrease(&_mi_stats_main.committed, end - start);
  return needs_recommit;
}

bool _mi_os_purge(void* p, size_t size) { return mi_os_purge_pages(p, size, false); }

// Drop the contents of a range inside memory that stays in use (it reads back as zero). Only
// where purged memory stays accessible (overcommit): elsewhere a purge decommits, and the owner
// would have to commit the range again before it grows into it. The range counts as committed
// throughout, as the rest of its page.
bool _mi_os_purge_in_use(void* p, size_t size) {
  if (!mi_os_config.has_overcommit) return false;
  (void)mi_os_purge_pages(p, size, true);   // (never needs a recommit with overcommit)
  return true;
}

// Make a purged range usable again. On overcommit systems the pages come back on first touch
// (reading zero): only the statistics change. p == NULL: statistics only.
bool _mi_os_recommit(void* p, size_t size) {
  if (p != NULL && !mi_os_config.has_overcommit) {
    bool is_zero = false;
    if (!_mi_os_commit(p, size, &is_zero)) return false;
  }
  _mi_stat_increase(&_mi_stats_main.committed, size);
  return true;
}

bool _mi_os_commit(void* p, size_t size, bool* is_zero) {
  uintptr_t start = _mi_align_down((uintptr_t)p, mi_os_config.page_size);
  uintptr_t end = _mi_align_up((uintptr_t)p + size, mi_os_config.page_size);
  int err = _mi_prim_commit((void*)start, end - start, is_zero);
  _mi_stat_counter_increase(&_mi_stats_main.commit_calls, 1);
  return (err == 0);
}

void* _mi_os_alloc_meta(size_t size) {
  mi_memid_t memid;
  return _mi_os_alloc_aligned(size, mi_os_config.page_size, &memid);   // mmap'd memory is zero
}

void _mi_os_free_meta(void* p, size_t size) {
  if (p == NULL) return;
  mi_os_prim_free(p, _mi_align_up(size, mi_os_config.page_size));
}

/* A cheap, well-mixing hash for keys and seeds (not cryptographic). */
uintptr_t _mi_random_shuffle(uintptr_t x) {
  if (x == 0) x = 17;
#if UINTPTR_MAX > 0xFFFFFFFFu
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27; x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
#else
  x ^= x >> 16; x *= 0x7feb352dU;
  x ^= x >> 15; x *= 0x846ca68bU;
  x ^= x >> 16;
#endif
  return x;
}

uintptr_t _mi_os_random_weak(uintptr_t extra_seed) {
  uintptr_t x = (uintptr_t)&_mi_os_random_weak ^ extra_seed;
  x ^= (uintptr_t)_mi_prim_clock_now();
  uintptr_t r = 0;
  if (_mi_prim_random_buf(&r, sizeof(r))) x ^= r;
  return _mi_random_shuffle(x);
}
