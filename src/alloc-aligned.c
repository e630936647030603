/* mimic: aligned allocation. Alignments up to MI_ALIGNMENT_MAX_IN_PAGE are served from ordinary
   pages (take the next free block if it happens to be aligned, else over-allocate and mark the page
   `has_aligned` so free finds the block start); larger ones get a dedicated segment whose block
   starts on the alignment. Any power of two is accepted, with an offset: (p + offset) % align == 0. */
#include "mimic/internal.h"

static void* mi_heap_malloc_zero_aligned_at_overalloc(mi_heap_t* heap, size_t size, size_t alignment, size_t offset, bool zero) {
  size_t adjust_max = alignment - 1;
  void* p;
  if (alignment > MI_ALIGNMENT_MAX_IN_PAGE) {
    // the huge segment puts its block on `alignment`; shift by what the offset needs
    size_t adjust = (alignment - (offset % alignment)) % alignment;
    if (size > MI_MAX_ALLOC_SIZE - adjust) { errno = ENOMEM; return NULL; }
    p = _mi_heap_malloc_zero_ex(heap, size + adjust, zero, alignment);
    if (p == NULL) return NULL;
    void* aligned_p = (uint8_t*)p + adjust;
    if (adjust > 0) mi_page_set_flag(_mi_checked_ptr_page(p), MI_PAGE_FLAG_HAS_ALIGNED, true);
    return aligned_p;
  }
  if (size > MI_MAX_ALLOC_SIZE - adjust_max) { errno = ENOMEM; return NULL; }
  p = _mi_heap_malloc_zero(heap, size + adjust_max, zero);
  if (p == NULL) return NULL;
  size_t adjust = (alignment - (((uintptr_t)p + offset) % alignment)) % alignment;
  if (adjust > 0) mi_page_set_flag(_mi_checked_ptr_page(p), MI_PAGE_FLAG_HAS_ALIGNED, true);
  return (uint8_t*)p + adjust;
}

static void* mi_heap_malloc_zero_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset, bool zero) {
  if (mi_unlikely(alignment == 0 || !_mi_is_power_of_two(alignment))) {
    _mi_error_message(EINVAL, "aligned allocation requires the alignment to be a power of two (size %zu, alignment %zu)\n", size, alignment);
    errno = EINVAL;
    return NULL;
  }
  if (mi_unlikely(size > MI_MAX_ALLOC_SIZE || alignment > MI_MAX_ALLOC_SIZE)) {
    _mi_error_message(ENOMEM, "aligned allocation request is too large (size %zu, alignment %zu)\n", size, alignment);
    errno = ENOMEM;
    return NULL;
  }
  if (!mi_heap_is_initialized(heap)) {
    heap = _mi_heap_init_thread();
    if (heap == NULL) { errno = ENOMEM; return NULL; }
  }
  if (alignment <= MI_MAX_ALIGN_SIZE && (offset % alignment) == 0) return _mi_heap_malloc_zero(heap, size, zero);
  // fast: the next free block of the direct page may already be aligned
  if (size <= MI_SMALL_SIZE_MAX_ && alignment <= MI_ALIGNMENT_MAX_IN_PAGE) {
    mi_page_t* page = heap->pages_free_direct[(size + MI_MAX_ALIGN_SIZE - 1) / MI_MAX_ALIGN_SIZE];
    if (page->free != NULL && (((uintptr_t)page->free + offset) % alignment) == 0) {
      return _mi_page_malloc_zero(heap, page, size, zero);
    }
  }
  return mi_heap_malloc_zero_aligned_at_overalloc(heap, size, alignment, offset, zero);
}

static inline bool mi_heap_aligned_ok(mi_heap_t* heap) {
  if (mi_likely(heap != NULL && heap->thread_id == _mi_prim_thread_id())) return true;
  return _mi_heap_check_thread(heap);
}

void* mi_heap_malloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  if (!mi_heap_aligned_ok(heap)) return NULL;
  return mi_heap_malloc_zero_aligned_at(heap, size, alignment, offset, false);
}
void* mi_heap_malloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_malloc_aligned_at(heap, size, alignment, 0);
}
void* mi_heap_zalloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  if (!mi_heap_aligned_ok(heap)) return NULL;
  return mi_heap_malloc_zero_aligned_at(heap, size, alignment, offset, true);
}
void* mi_heap_zalloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_zalloc_aligned_at(heap, size, alignment, 0);
}
void* mi_heap_calloc_aligned_at(mi_heap_t* heap, size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_zalloc_aligned_at(heap, total, alignment, offset);
}
void* mi_heap_calloc_aligned(mi_heap_t* heap, size_t count, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_calloc_aligned_at(heap, count, size, alignment, 0);
}

void* mi_malloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(mi_prim_get_default_heap(), size, alignment, offset, false);
}
void* mi_malloc_aligned(size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(mi_prim_get_default_heap(), size, alignment, 0, false);
}
void* mi_zalloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(mi_prim_get_default_heap(), size, alignment, offset, true);
}
void* mi_zalloc_aligned(size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(mi_prim_get_default_heap(), size, alignment, 0, true);
}
void* mi_calloc_aligned_at(size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_zalloc_aligned_at(total, alignment, offset);
}
void* mi_calloc_aligned(size_t count, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_calloc_aligned_at(count, size, alignment, 0);
}
void* mi_umalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept {
  void* p = mi_malloc_aligned(size, alignment);
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  return p;
}
void* mi_uzalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept {
  void* p = mi_zalloc_aligned(size, alignment);
  if (block_size != NULL) *block_size = (p == NULL ? 0 : mi_usable_size(p));
  return p;
}

/* ---- re-allocation keeping the alignment ---- */

static void* mi_heap_realloc_zero_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset, bool zero) {
  if (alignment == 0 || !_mi_is_power_of_two(alignment)) {
    _mi_error_message(EINVAL, "aligned re-allocation requires a power-of-two alignment (alignment %zu)\n", alignment);
    errno = EINVAL;
    return NULL;
  }
  if (alignment <= MI_MAX_ALIGN_SIZE && (offset % alignment) == 0) return _mi_heap_realloc_zero(heap, p, newsize, zero);
  if (p == NULL) return mi_heap_malloc_zero_aligned_at(heap, newsize, alignment, offset, zero);
  size_t size = mi_usable_size(p);
  if (newsize <= size && newsize >= (size - (size / 2)) && (((uintptr_t)p + offset) % alignment) == 0) {
    if (zero) memset((uint8_t*)p + newsize, 0, size - newsize);
    return p;
  }
  void* newp = mi_heap_malloc_zero_aligned_at(heap, newsize, alignment, offset, false);
  if (newp == NULL) return NULL;
  size_t copied = (newsize > size ? size : newsize);
  memcpy(newp, p, copied);
  if (zero) memset((uint8_t*)newp + copied, 0, mi_usable_size(newp) - copied);   // see _mi_heap_realloc_zero
  mi_free(p);
  return newp;
}

void* mi_heap_realloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept {
  if (!mi_heap_aligned_ok(heap)) return NULL;
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, offset, false);
}
void* mi_heap_realloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_heap_realloc_aligned_at(heap, p, newsize, alignment, 0);
}
void* mi_heap_rezalloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept {
  if (!mi_heap_aligned_ok(heap)) return NULL;
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, offset, true);
}
void* mi_heap_rezalloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_heap_rezalloc_aligned_at(heap, p, newsize, alignment, 0);
}
void* mi_heap_recalloc_aligned_at(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(newcount, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_heap_rezalloc_aligned_at(heap, p, total, alignment, offset);
}
void* mi_heap_recalloc_aligned(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_recalloc_aligned_at(heap, p, newcount, size, alignment, 0);
}

void* mi_realloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_realloc_zero_aligned_at(mi_prim_get_default_heap(), p, newsize, alignment, offset, false);
}
void* mi_realloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_realloc_aligned_at(p, newsize, alignment, 0);
}
void* mi_rezalloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_realloc_zero_aligned_at(mi_prim_get_default_heap(), p, newsize, alignment, offset, true);
}
void* mi_rezalloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_rezalloc_aligned_at(p, newsize, alignment, 0);
}
void* mi_recalloc_aligned_at(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(newcount, size, &total)) { errno = ENOMEM; return NULL; }
  return mi_rezalloc_aligned_at(p, total, alignment, offset);
}
void* mi_recalloc_aligned(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_recalloc_aligned_at(p, newcount, size, alignment, 0);
}
