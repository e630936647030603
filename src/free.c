/* mimic: freeing blocks.

   Fast path (the owner frees an ordinary block): mask the pointer to its segment, check the segment
   map byte (foreign pointers and NULL fall out here), index the page, compare the page's owner word
   (thread id | flags) with the current thread id, push on `local_free`. Everything else is out of
   line. */
#include "mimic/internal.h"


mi_block_t* _mi_page_ptr_unalign(const mi_page_t* page, const void* p) {
  // page_start and block_size are immutable while the block is live: safe from any thread (#865)
  uintptr_t diff = (uintptr_t)p - (uintptr_t)page->page_start;
  uintptr_t adjust = (page->reserved <= 1 ? diff : diff % page->block_size);
  return (mi_block_t*)((uintptr_t)p - adjust);
}

/* ---- the owner's free ---- */

// The owner frees into an exhausted page: the block (with the owner's other frees) becomes the
// free list and the page moves to the front of its queue, so the next malloc of this size pops it
// on the fast path. LIFO over pages keeps rings of live blocks that span pages off the generic path.
// (block first, like every out-of-line continuation of free(): the pointer stays in its register)
static mi_decl_noinline void mi_free_block_local_exhausted(mi_block_t* block, mi_page_t* page) {
  mi_track_free(block);
  const bool dry = (page->local_free == NULL);   // every block of the page was live
  mi_block_set_next(page, block, page->local_free);
  page->free = block;
  page->local_free = NULL;
  page->is_zero_init = false;
  page->full_visits = 0;
  mi_assert_expensive(page->used > 0);
  if (mi_unlikely(--page->used == 0)) {
    if (mi_page_is_in_full(page)) _mi_page_unfull(page);
    _mi_page_retire(page);
    return;
  }
  if (mi_unlikely(mi_page_is_in_full(page))) { _mi_page_unfull(page); return; }
  // the first page of the queue (the empty page if none: never NULL), without computing the queue
  const mi_page_t* const first = mi_page_heap(page)->pages_first[page->bin];
  if (first == page) {
    // Grow (4 KiB of fresh blocks) when pages behind this one hold the rest of a ring of live
    // blocks (gathering it in one page keeps frees on this cheap path), or when every block was
    // live at two exhaustions in a row (a ring that fills the page exactly). Not for a burst
    // freed back, nor when local_free just refilled the list: growing there touched 4 KiB more
    // each time until the whole page was resident (arena-malloc +650 KiB, cfrac +180 KiB).
    if (page->capacity < page->reserved) {
      if (page->next != NULL || (dry && page->free_exhausted)) _mi_page_to_front(page);   // extends the page
      else page->free_exhausted = dry;
    }
  }
  else if (first->free == NULL) {
    // only overtake a first page that has nothing left: one that still has blocks keeps going
    _mi_page_to_front(page);
  }
}

static inline void mi_free_block_local(mi_page_t* page, mi_block_t* block) {
  mi_track_free(block);
  if (page->free == NULL) { mi_free_block_local_exhausted(block, page); return; }
  mi_block_set_next(page, block, page->local_free);
  page->local_free = block;
  page->used--;
  if (mi_unlikely(mi_page_is_in_full(page))) _mi_page_unfull(page);
  mi_assert_expensive(_mi_page_is_valid(page));
  if (mi_unlikely(page->used == 0)) _mi_page_retire(page);
}

/* ---- another thread's free ---- */

// The page is in its owner's full queue: put the block on the owner heap's delayed list so the
// owner notices without polling full pages. The heap stays valid while we are DELAYED_FREEING:
// the owner waits for that state to end before it unlinks or deletes anything.
static mi_decl_noinline void mi_free_block_delayed(mi_page_t* page, mi_block_t* block) {
  uint64_t tf = mi_atomic_load_relaxed(&page->xthread_free);
  uint64_t tfx;
  bool use_delayed;
  do {
    use_delayed = (mi_tf_delayed(tf) == MI_USE_DELAYED_FREE);
    if (mi_unlikely(use_delayed)) {
      tfx = mi_tf_with_delayed(tf, MI_DELAYED_FREEING);   // claim the right to announce
    }
    else {   // the state changed meanwhile: a plain push after all
      mi_block_set_next(page, block, mi_tf_head(page, tf));
      tfx = mi_tf_push(page, tf, block);
    }
  } while (!mi_atomic_cas_weak_release(&page->xthread_free, &tf, tfx));
  if (!use_delayed) return;

  mi_heap_t* heap = (mi_heap_t*)mi_atomic_load_acquire(&page->xheap);
  if (heap != NULL) {
    uintptr_t dfree = mi_atomic_load_relaxed(&heap->thread_delayed_free);
    do { block->next = (mi_block_t*)dfree; }
    while (!mi_atomic_cas_weak_release(&heap->thread_delayed_free, &dfree, (uintptr_t)block));
  }
  tf = mi_atomic_load_relaxed(&page->xthread_free);
  do {
    tfx = mi_tf_with_delayed(tf, MI_NO_DELAYED_FREE);
  } while (!mi_atomic_cas_weak_release(&page->xthread_free, &tf, tfx));
  if (heap == NULL) {
    // cannot happen while the protocol holds; never lose the block
    tf = mi_atomic_load_relaxed(&page->xthread_free);
    do { mi_block_set_next(page, block, mi_tf_head(page, tf)); tfx = mi_tf_push(page, tf, block); }
    while (!mi_atomic_cas_weak_release(&page->xthread_free, &tf, tfx));
  }
}

// One CAS onto the page's thread_free list (the word counts the blocks, so the owner never walks
// the list: a walk is one cache miss per link); the full-page announcement is out of line.
static inline void mi_free_block_mt_push(mi_page_t* page, mi_block_t* block) {
  mi_track_free(block);
  uint64_t tf = mi_atomic_load_relaxed(&page->xthread_free);
  do {
    if (mi_unlikely(mi_tf_delayed(tf) == MI_USE_DELAYED_FREE)) { mi_free_block_delayed(page, block); return; }
    mi_block_set_next(page, block, mi_tf_head(page, tf));
  } while (!mi_atomic_cas_weak_release(&page->xthread_free, &tf, mi_tf_push(page, tf, block)));
}

// Rare remote frees: into a segment whose owner exited (adopt it), or of a huge block.
static mi_decl_noinline void mi_free_block_mt_special(mi_page_t* page, mi_segment_t* segment, mi_block_t* block) {
  if (mi_atomic_load_acquire(&segment->thread_id) == 0 && mi_option_is_enabled(mi_option_abandoned_reclaim_on_free)) {
    // the owner exited: adopt its segment, then this is a local free
    mi_heap_t* heap = mi_prim_get_default_heap();
    if (!mi_heap_is_initialized(heap) && !_mi_thread_is_done()) heap = _mi_heap_init_thread();
    if (heap != NULL && mi_heap_is_initialized(heap) && _mi_segment_reclaim_on_free(segment, heap)) {
      // counted before the free: with other blocks left the free cannot free the segment
      const size_t left = _mi_segment_used_blocks(segment) - 1;
      mi_free_block_local(page, block);
      if (left > 0 && left <= MI_ADOPT_RELEASE_MAX) _mi_segment_release_adopted(segment);
      return;
    }
  }
  if (segment->page_kind == MI_PAGE_HUGE) {
    // The owner may take a while to notice this free: give the memory back now. Must happen
    // before the push below, after which the owner may unmap the segment.
    size_t psize = _mi_os_page_size();
    if (page->block_size > 2 * psize) {
      uint8_t* start = (uint8_t*)block + psize;
      size_t size = page->block_size - psize;
      (void)_mi_os_purge(start, size);
      // the owner frees the whole segment soon and accounts for all of it then
      (void)_mi_os_recommit(NULL, _mi_align_down(size, psize));
    }
  }
  mi_free_block_mt_push(page, block);
}

void _mi_free_block_mt(mi_page_t* page, mi_segment_t* segment, mi_block_t* block) {
  if (mi_unlikely(mi_atomic_load_acquire(&segment->thread_id) == 0 || segment->page_kind == MI_PAGE_HUGE)) {
    mi_free_block_mt_special(page, segment, block);
    return;
  }
  mi_free_block_mt_push(page, block);
}

// Owner side of a delayed free: false if the announcing thread has not finished yet.
bool _mi_free_delayed_block_ok(mi_block_t* block) {
  // (not by masking: a block of a huge segment aligned beyond the segment size lies past its first unit)
  mi_page_t* page = _mi_checked_ptr_page(block);
  if (!_mi_page_try_use_delayed_free(page, MI_NO_DELAYED_FREE, false)) return false;
  _mi_page_free_collect(page, false);
  mi_free_block_local(page, block);
  return true;
}

/* ---- the generic and invalid paths ---- */

static void mi_free_generic_page(mi_segment_t* segment, mi_page_t* page, void* p) {
  mi_block_t* block = (mi_page_has_aligned(page) ? _mi_page_ptr_unalign(page, p) : (mi_block_t*)p);
  if (mi_atomic_load_relaxed(&segment->thread_id) == _mi_prim_thread_id()) mi_free_block_local(page, block);
  else _mi_free_block_mt(page, segment, block);
}

static mi_decl_noinline void mi_free_retire(mi_block_t* block, mi_page_t* page) {
  (void)block;
  _mi_page_retire(page);
}

// (takes the page: the fast path keeps only the page address, the segment is its mask)
static mi_decl_noinline void mi_free_generic(void* p, mi_page_t* page) {
  mi_free_generic_page(_mi_page_segment(page), page, p);
}

// The map says `p` is not at a segment start: NULL, inside a huge segment, or not ours at all.
static mi_decl_noinline void mi_free_slow(void* p) {
  if (p == NULL) return;
  mi_segment_t* segment = _mi_segment_of_interior(p);
  if (segment != NULL) {
    mi_page_t* page = &segment->pages[0];
    if (segment->capacity == 1 && page->segment_in_use && (uint8_t*)p >= page->page_start) {
      mi_free_generic_page(segment, page, p);
      return;
    }
  }
  if (_mi_free_foreign(p)) return;
  _mi_error_message(EINVAL, "mi_free: invalid pointer %p (not allocated by mimic; ignored)\n", p);
}

#if (MI_DEBUG > 0)
static bool mi_free_check_block(mi_segment_t* segment, mi_page_t* page, const void* p) {
  if (segment->cookie != ((uintptr_t)segment ^ _mi_process_key)) {
    _mi_error_message(EFAULT, "mi_free: corrupted segment header for pointer %p\n", p);
    return false;
  }
  if (!page->segment_in_use || (uint8_t*)p < page->page_start ||
      (uint8_t*)p >= page->page_start + (size_t)page->reserved * page->block_size) {
    _mi_error_message(EINVAL, "mi_free: invalid pointer %p (not in an allocated page)\n", p);
    return false;
  }
  if (!mi_page_has_aligned(page) && (((uintptr_t)p - (uintptr_t)page->page_start) % page->block_size) != 0) {
    _mi_error_message(EINVAL, "mi_free: invalid pointer %p (not the start of a block)\n", p);
    return false;
  }
  return true;
}
#endif

// Materialise the page address once: without this gcc keeps both the page and segment+offset
// alive and pays an extra instruction on every free.
static inline mi_page_t* mi_opaque_page(mi_page_t* page) {
#if defined(__GNUC__)
  __asm__("" : "+r"(page));
#endif
  return page;
}

void mi_free(void* p) mi_attr_noexcept {
  mi_segment_t* const segment = _mi_ptr_segment(p);
  const size_t page_shift = _mi_segment_map_page_shift(segment);
  if (mi_unlikely(page_shift == 0)) { mi_free_slow(p); return; }
  mi_page_t* const page = mi_opaque_page(&segment->pages[((uintptr_t)p - (uintptr_t)segment) >> page_shift]);
#if (MI_DEBUG > 0)
  if (!mi_free_check_block(segment, page, p)) return;
#endif
  if (mi_likely(mi_page_is_mine_plain(page, _mi_prim_thread_id()))) {
    mi_block_t* const block = (mi_block_t*)p;
    if (mi_unlikely(page->free == NULL)) { mi_free_block_local_exhausted(block, page); return; }
    mi_track_free(block);
    mi_block_set_next(page, block, page->local_free);
    page->local_free = block;
    if (mi_unlikely(--page->used == 0)) mi_free_retire(block, page);
    return;
  }
  mi_free_generic(p, page);
}

/* Look up the segment of a pointer we may not own: NULL if it is not ours. */
mi_segment_t* _mi_checked_ptr_segment(const void* p, const char* msg) {
  if (p == NULL) return NULL;
  mi_segment_t* segment = _mi_ptr_segment(p);
  if (!_mi_segment_map_is_segment(segment)) segment = _mi_segment_of_interior(p);
  if (segment == NULL && msg != NULL) _mi_error_message(EINVAL, "%s: invalid pointer %p\n", msg, p);
  return segment;
}

/* The page of a pointer we may not own (NULL if it is not ours), interior pointers of huge
   segments included. */
mi_page_t* _mi_checked_ptr_page(const void* p) {
  mi_segment_t* segment = _mi_checked_ptr_segment(p, NULL);
  if (segment == NULL) return NULL;
  return _mi_segment_page_of_any(segment, p);
}
