/* mimic: the allocation API — malloc family, zero-initialising and re-allocating variants, usable
   sizes and string duplication. The small fast path is: thread-local heap, direct page table,
   pop the page's free list, count. */
#include "mimic/internal.h"
#include <limits.h>
#include <stdlib.h>

/* ---- core paths ---- */

void* _mi_page_malloc_zero(mi_heap_t* heap, mi_page_t* page, size_t size, bool zero) {
  mi_block_t* const block = page->free;
  if (mi_unlikely(block == NULL)) return _mi_malloc_generic(heap, size, zero, 0);
  page->free = mi_block_next(page, block);
  page->used++;
  if (mi_unlikely(zero)) {
    if (page->is_zero_init) block->next = NULL;   // fresh OS memory: only the link word is dirty
    else memset(block, 0, page->block_size);      // the whole block: realloc-zero relies on the tail
  }
  mi_track_malloc(block, size, zero);
  return block;
}

// Size first, like malloc's own argument: the fast path never moves it to another register.
// The page's list is empty (or zeroing was asked for). When the owner's own frees wait on
// `local_free` they become the free list here, without the generic path's queue search (random
// size churn lands here on most of its allocations); the generic path still runs when the page has
// nothing left or remote frees into full pages are waiting to be taken back.
static inline bool mi_page_has_free_blocks(const mi_page_t* page) {
  return (page->free != NULL || page->local_free != NULL);
}

static mi_decl_noinline void* mi_page_malloc_slow(size_t size, mi_heap_t* heap, mi_page_t* page, bool zero) {
  if (page->free == NULL && mi_atomic_load_relaxed(&heap->thread_delayed_free) == 0) {
    if (page->local_free == NULL) {
      // the first page is used up: one of the next few, if the owner freed into it, takes over,
      // and the used-up page goes to the back (random size churn: no generic path for most refills)
      mi_page_t* next = page->next;
      for (int i = 0; i < 3 && next != NULL && !mi_page_has_free_blocks(next); i++) next = next->next;
      if (next == NULL || !mi_page_has_free_blocks(next)) return _mi_page_malloc_zero(heap, page, size, zero);
      mi_page_queue_t* const pq = &heap->pages[page->bin];
      _mi_page_queue_move_to_front(heap, pq, next);
      if (page->next != NULL) _mi_page_queue_move_to_back(heap, pq, page);
      page = next;
    }
    if (page->free == NULL) {
      mi_page_refill(page, page->local_free);
      page->local_free = NULL;
    }
  }
  return _mi_page_malloc_zero(heap, page, size, zero);
}

// The pop every fast path shares; anything else (empty list, zeroing) is out of line.
static mi_decl_forceinline void* mi_page_malloc_fast(mi_heap_t* heap, mi_page_t* page, size_t size, bool zero) {
  mi_block_t* const block = page->free;
  if (mi_likely(block != NULL && !zero)) {
    mi_block_t* const next = mi_block_next(page, block);
    page->free = next;
    page->used++;
    // The next pop reads that block's link: start fetching its line now (for writing: the caller
    // writes the block). Blocks other threads freed sit in their caches; without this every pop of
    // one stalls for a cross-core transfer (sh8bench 0.56 -> 0.48 s; one instruction here).
    mi_prefetch_write(next);
    mi_track_malloc(block, size, false);
    return block;
  }
  return mi_page_malloc_slow(size, heap, page, zero);
}

static mi_decl_forceinline void* mi_heap_malloc_small_zero(mi_heap_t* heap, size_t size, bool zero) {
  mi_page_t* const page = heap->pages_free_direct[(size + MI_MAX_ALIGN_SIZE - 1) / MI_MAX_ALIGN_SIZE];
  return mi_page_malloc_fast(heap, page, size, zero);
}

// Sizes above the direct table: the first page of the size class queue (the empty page when there
// is none, whose NULL free list leads to the generic path).
static mi_decl_forceinline void* mi_heap_malloc_medium_zero(mi_heap_t* heap, size_t size, bool zero) {
  size_t bin;
  if (mi_likely(size <= MI_MEDIUM_OBJ_SIZE_MAX)) bin = _mi_bin_medium(size);
  else if (mi_likely(size <= MI_LARGE_OBJ_SIZE_MAX)) bin = _mi_bin(size);
  else return _mi_malloc_generic(heap, size, zero, 0);
  return mi_page_malloc_fast(heap, heap->pages_first[bin], size, zero);
}

void* _mi_heap_malloc_zero_ex(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_unlikely(huge_alignment > 0)) return _mi_malloc_generic(heap, size, zero, huge_alignment);
  if (mi_likely(size <= MI_SMALL_SIZE_MAX_)) return mi_heap_malloc_small_zero(heap, size, zero);
  return mi_heap_malloc_medium_zero(heap, size, zero);
}

void* _mi_heap_malloc_zero(mi_heap_t* heap, size_t size, bool zero) {
  return _mi_heap_malloc_zero_ex(heap, size, zero, 0);
}

// Heap-API entry: the v2 rule is that a heap allocates only on its own thread.
static inline bool mi_heap_ok(mi_heap_t* heap) {
  if (mi_likely(heap != NULL && heap->thread_id == _mi_prim_thread_id())) return true;
  return _mi_heap_check_thread(heap);
}

/* ---- malloc family ---- */

void* mi_malloc(size_t size) mi_attr_noexcept {
  mi_heap_t* const heap = mi_prim_get_default_heap();
  if (mi_likely(size <= MI_SMALL_SIZE_MAX_)) return mi_heap_malloc_small_zero(heap, size, false);
  return mi_heap_malloc_medium_zero(heap, size, false);
}

void* mi_malloc_small(size_t size) mi_attr_noexcept {
  if (mi_unlikely(size > MI_SMALL_SIZE_MAX_)) return mi_malloc(size);
  return mi_heap_malloc_small_zero(mi_prim_get_default_heap(), size, false);
}
void* mi_zalloc_small(size_t size) mi_attr_noexcept {
  return _mi_heap_malloc_zero(mi_prim_get_default_heap(), size, true);
}
void* mi_zalloc(size_t size) mi_attr_noexcept {
  return _mi_heap_malloc_zero(mi_prim_get_default_heap(), size, true);
}

void* mi_heap_malloc(mi_heap_t* heap, size_t size) mi_attr_noexcept {
  if (!mi_heap_ok(heap)) return NULL;
  if (mi_likely(size <= MI_SMALL_SIZE_MAX_)) return mi_heap_malloc_small_zero(heap, size, false);
  return mi_heap_malloc_medium_zero(heap, size, false);
}
void* mi_heap_malloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept { return mi_heap_malloc(heap, size); }
void* mi_heap_zalloc(mi_heap_t* heap, size_t size) mi_attr_noexcept {
  if (!mi_heap_ok(heap)) return NULL;
  return _mi_heap_malloc_zero(heap, size, true);
}
void* mi_heap_zalloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept { return mi_heap_zalloc(heap, size); }

void* mi_heap_calloc(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_zalloc(heap, total);
}
void* mi_calloc(size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return _mi_heap_malloc_zero(mi_prim_get_default_heap(), total, true);
}

void* mi_heap_mallocn(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_malloc(heap, total);
}
void* mi_mallocn(size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_malloc(total);
}

/* ---- usable size ---- */

// Usable bytes from p to the end of its block (p may be an aligned pointer inside the block).
static inline size_t mi_usable_size_in(const mi_segment_t* segment, const void* p) {
  const mi_page_t* page = _mi_segment_page_of_any(segment, p);
  if (mi_likely(!mi_page_has_aligned(page))) return page->block_size;
  const mi_block_t* block = _mi_page_ptr_unalign(page, p);
  return page->block_size - (size_t)((const uint8_t*)p - (const uint8_t*)block);
}

static size_t mi_usable_size_of(const void* p, const char* msg) {
  mi_segment_t* segment = _mi_checked_ptr_segment(p, msg);
  return (segment == NULL ? 0 : mi_usable_size_in(segment, p));
}

size_t mi_usable_size(const void* p) mi_attr_noexcept { return mi_usable_size_of(p, "mi_usable_size"); }

void* mi_umalloc(size_t size, size_t* block_size) mi_attr_noexcept {
  void* p = mi_malloc(size);
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  return p;
}
void* mi_ucalloc(size_t count, size_t size, size_t* block_size) mi_attr_noexcept {
  void* p = mi_calloc(count, size);
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  return p;
}
void* mi_umalloc_small(size_t size, size_t* block_size) mi_attr_noexcept { return mi_umalloc(size, block_size); }
void* mi_uzalloc_small(size_t size, size_t* block_size) mi_attr_noexcept {
  void* p = mi_zalloc_small(size);
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  return p;
}
void mi_ufree(void* p, size_t* block_size) mi_attr_noexcept {
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  mi_free(p);
}

void mi_free_small(void* p) mi_attr_noexcept { mi_free(p); }

size_t mi_good_size(size_t size) mi_attr_noexcept {
  if (size <= MI_LARGE_OBJ_SIZE_MAX) return _mi_bin_size(_mi_bin(size));
  if (size > MI_MAX_ALLOC_SIZE) return size;
  return _mi_align_up(size, _mi_os_page_size());
}

/* ---- realloc ---- */

void* mi_expand(void* p, size_t newsize) mi_attr_noexcept {
  if (p == NULL) return NULL;
  size_t size = mi_usable_size(p);
  if (newsize > size) return NULL;
  return p;
}

void* _mi_heap_realloc_zero(mi_heap_t* heap, void* p, size_t newsize, bool zero) {
  if (p == NULL) return _mi_heap_malloc_zero(heap, newsize, zero);
  // one segment lookup serves everything below (map bit; huge-interior pointers out of line)
  mi_segment_t* segment = _mi_ptr_segment(p);
  if (mi_unlikely(!_mi_segment_map_is_segment(segment))) segment = _mi_segment_of_interior(p);
  if (mi_unlikely(segment == NULL)) {
    // not ours: memory from before the override (glibc) is copied out and handed back
    size_t fsize = _mi_foreign_usable_size(p);
    if (fsize == 0) { _mi_error_message(EINVAL, "mi_realloc: invalid pointer %p\n", p); return NULL; }
    void* newp = _mi_heap_malloc_zero(heap, newsize, zero);
    if (newp != NULL) { memcpy(newp, p, (newsize > fsize ? fsize : newsize)); mi_free(p); }
    return newp;
  }
  const size_t size = mi_usable_size_in(segment, p);
  // stay in place when the block still fits and is not wasting more than half of it
  if (newsize <= size && newsize >= (size / 2) && newsize > 0) {
    if (zero) memset((uint8_t*)p + newsize, 0, size - newsize);   // a later in-place grow must read zeros
    return p;
  }
  if (newsize > size && newsize > MI_LARGE_OBJ_SIZE_MAX && segment->page_kind == MI_PAGE_HUGE && mi_heap_is_initialized(heap)) {
    // a huge block grows by remapping its pages (the new tail is fresh, zeroed memory)
    void* q = _mi_segment_huge_page_grow(heap, &segment->pages[0], p, newsize);
    if (q != NULL) return q;
  }
  // Growing by a little (appending to a buffer): leave 25% headroom so the next few appends stay in
  // place instead of copying at every size class (glibc gets this from extending into the next
  // free chunk).
  size_t allocsize = newsize;
  if (newsize > size && newsize < 2 * size && newsize <= MI_MEDIUM_OBJ_SIZE_MAX) allocsize = newsize + newsize / 4;
  void* newp = _mi_heap_malloc_zero(heap, allocsize, false);
  if (mi_likely(newp != NULL)) {
    size_t copied = (newsize > size ? size : newsize);
    memcpy(newp, p, copied);
    // zero-re-allocation keeps the invariant that a block's bytes past the caller's data are
    // zero up to its usable size, so a later in-place grow needs no clearing
    if (zero) memset((uint8_t*)newp + copied, 0, mi_usable_size(newp) - copied);
    mi_free(p);
  }
  return newp;
}

void* mi_heap_realloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept {
  if (!mi_heap_ok(heap)) return NULL;
  return _mi_heap_realloc_zero(heap, p, newsize, false);
}
void* mi_heap_reallocn(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_realloc(heap, p, total);
}
void* mi_heap_reallocf(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept {
  void* newp = mi_heap_realloc(heap, p, newsize);
  if (newp == NULL && p != NULL) mi_free(p);
  return newp;
}
void* mi_heap_rezalloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept {
  if (!mi_heap_ok(heap)) return NULL;
  return _mi_heap_realloc_zero(heap, p, newsize, true);
}
void* mi_heap_recalloc(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_rezalloc(heap, p, total);
}

void* mi_realloc(void* p, size_t newsize) mi_attr_noexcept {
  return _mi_heap_realloc_zero(mi_prim_get_default_heap(), p, newsize, false);
}
void* mi_reallocn(void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_realloc(p, total);
}
void* mi_reallocf(void* p, size_t newsize) mi_attr_noexcept {
  void* newp = mi_realloc(p, newsize);
  if (newp == NULL && p != NULL) mi_free(p);
  return newp;
}
void* mi_rezalloc(void* p, size_t newsize) mi_attr_noexcept {
  return _mi_heap_realloc_zero(mi_prim_get_default_heap(), p, newsize, true);
}
void* mi_recalloc(void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_rezalloc(p, total);
}
void* mi_urealloc(void* p, size_t newsize, size_t* block_size_pre, size_t* block_size_post) mi_attr_noexcept {
  if (block_size_pre != NULL) *block_size_pre = (p == NULL ? 0 : mi_usable_size(p));
  void* newp = mi_realloc(p, newsize);
  if (block_size_post != NULL) *block_size_post = (newp == NULL ? 0 : mi_usable_size(newp));
  return newp;
}

/* ---- strings ---- */

char* mi_heap_strdup(mi_heap_t* heap, const char* s) mi_attr_noexcept {
  if (s == NULL) return NULL;
  size_t len = strlen(s);
  char* t = (char*)mi_heap_malloc(heap, len + 1);
  if (t == NULL) return NULL;
  memcpy(t, s, len + 1);
  return t;
}
char* mi_strdup(const char* s) mi_attr_noexcept { return mi_heap_strdup(mi_prim_get_default_heap_init(), s); }

char* mi_heap_strndup(mi_heap_t* heap, const char* s, size_t n) mi_attr_noexcept {
  if (s == NULL) return NULL;
  const char* end = (const char*)memchr(s, 0, n);
  size_t len = (end == NULL ? n : (size_t)(end - s));
  char* t = (char*)mi_heap_malloc(heap, len + 1);
  if (t == NULL) return NULL;
  memcpy(t, s, len);
  t[len] = 0;
  return t;
}
char* mi_strndup(const char* s, size_t n) mi_attr_noexcept { return mi_heap_strndup(mi_prim_get_default_heap_init(), s, n); }

char* mi_heap_realpath(mi_heap_t* heap, const char* fname, char* resolved_name) mi_attr_noexcept {
  if (resolved_name != NULL) return realpath(fname, resolved_name);
  char buf[PATH_MAX + 1];
  char* rname = realpath(fname, buf);
  if (rname == NULL) return NULL;
  return mi_heap_strdup(heap, rname);
}
char* mi_realpath(const char* fname, char* resolved_name) mi_attr_noexcept {
  return mi_heap_realpath(mi_prim_get_default_heap_init(), fname, resolved_name);
}
