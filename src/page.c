/* mimic: pages — free-list construction, collecting frees, the full/delayed-free protocol and the
   generic (slow) allocation path.

   A page has three free lists: `free` (allocate from), `local_free` (the owner's frees) and the
   atomic `xthread_free` (other threads' frees). Only when `free` runs out does the owner turn one
   of the other two into `free`, so the fast paths touch nothing shared. */
#include "mimic/internal.h"

// The page every direct slot of an uninitialised heap points to: it has no free block, so the fast
// path falls through to the generic path, which sets the thread up.
mi_page_t _mi_page_empty;

/* ---- invariant check (MI_DEBUG >= 3): free + local_free + used == capacity ---- */
#if (MI_DEBUG > 2)
static size_t mi_list_count(const mi_page_t* page, const mi_block_t* b) {
  size_t n = 0;
  while (b != NULL && n <= page->capacity) { n++; b = mi_block_next(page, b); }
  return n;
}
bool _mi_page_is_valid(const mi_page_t* page) {
  size_t nfree = mi_list_count(page, page->free) + mi_list_count(page, page->local_free);
  if (nfree + page->used != page->capacity) {
    // thread-free blocks are still counted in `used`
    _mi_message("page %p: free %zu + used %u != capacity %u (thread-free pending: %d)\n",
                (void*)page, nfree, (unsigned)page->used, (unsigned)page->capacity, mi_page_has_thread_free(page));
    return false;
  }
  return true;
}
#endif

/* ---- delayed-free state (low bits of xthread_free) ---- */

// Set the delayed mode; returns false (without change) if a remote thread is announcing a block
// right now (DELAYED_FREEING): the caller retries or waits.
bool _mi_page_try_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never) {
  uint64_t tf = mi_atomic_load_relaxed(&page->xthread_free);
  for (;;) {
    mi_delayed_t old = mi_tf_delayed(tf);
    if (old == MI_DELAYED_FREEING) return false;
    if (old == delay) return true;
    if (old == MI_NEVER_DELAYED_FREE && !override_never) return true;
    if (mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tf, mi_tf_with_delayed(tf, delay))) return true;
  }
}

void _mi_page_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never) {
  size_t spins = 0;
  while (!_mi_page_try_use_delayed_free(page, delay, override_never)) {
    // the announcing thread is between two atomic steps; it finishes in a few instructions
    if (++spins > 64) { spins = 0; _mi_prim_thread_yield(); } else mi_atomic_yield();
  }
}

/* ---- collecting frees ---- */

// The last block of a list of `count` blocks (NULL if the list is shorter or longer: corrupted).
static mi_block_t* mi_list_tail(const mi_page_t* page, mi_block_t* head, uint32_t count) {
  mi_block_t* tail = head;
  for (uint32_t i = 1; i < count && tail != NULL; i++) tail = mi_block_next(page, tail);
  return (tail != NULL && mi_block_next(page, tail) == NULL ? tail : NULL);
}

// Take the other threads' frees: one CAS, no walk (the word carries the count). Returns the list
// (NULL if there is none, or if its count is impossible: leaked rather than risk handing a block
// out twice), with *count its length.
static mi_block_t* mi_page_thread_free_take(mi_page_t* page, uint32_t* count) {
  uint64_t tf = mi_atomic_load_relaxed(&page->xthread_free);
  do {
    if (mi_tf_is_empty(tf)) return NULL;
  } while (!mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tf, mi_tf_empty(mi_tf_delayed(tf))));
  *count = mi_tf_count(tf);
  if (mi_unlikely(*count == 0 || *count > page->used)) {
    _mi_error_message(EFAULT, "corrupted thread-free list in page %p (%u blocks, %u in use)\n",
                      (void*)page, (unsigned)*count, (unsigned)page->used);
    return NULL;
  }
  return mi_tf_head(page, tf);
}

// Make the page's free blocks allocatable. Cheap form (force == false): when `free` is empty it
// becomes local_free or else the thread-free list, without walking either (the other stays for the
// next time); lists are only concatenated (walked) when `free` still has blocks. Forced: every free
// block ends up on `free` (heap visits, abandonment), walking and checking the lists.
void _mi_page_free_collect(mi_page_t* page, bool force) {
  mi_assert_expensive(_mi_page_is_valid(page));
  uint32_t count = 0;
  if (!force && page->free == NULL) {
    // the owner's own (cache-warm) frees first; the other threads' wait for the next time
    if (page->local_free != NULL) { mi_page_refill(page, page->local_free); page->local_free = NULL; return; }
    mi_block_t* tfree = mi_page_thread_free_take(page, &count);
    if (tfree != NULL) { page->used -= count; mi_page_refill(page, tfree); }
    return;
  }
  mi_block_t* tfree = mi_page_thread_free_take(page, &count);
  if (tfree != NULL) {
    // concatenate in front of local_free (walk the remote list: rare, see above)
    mi_block_t* tail = mi_list_tail(page, tfree, count);
    if (tail == NULL) {
      _mi_error_message(EFAULT, "corrupted thread-free list in page %p (not %u blocks long)\n", (void*)page, (unsigned)count);
    }
    else {
      page->used -= count;
      mi_block_set_next(page, tail, page->local_free);
      page->local_free = tfree;
    }
  }
  if (page->local_free != NULL) {
    if (page->free == NULL) {
      mi_page_refill(page, page->local_free);
      page->local_free = NULL;
    }
    else if (force) {
      // bounded walk: a double free makes the list a cycle, which must not hang a collect
      mi_block_t* tail = page->local_free;
      mi_block_t* next;
      uint32_t n = 1;
      while ((next = mi_block_next(page, tail)) != NULL && n <= page->capacity) { tail = next; n++; }
      if (next != NULL) {
        _mi_error_message(EFAULT, "corrupted local free list in page %p (a double free?): its blocks are dropped\n", (void*)page);
      }
      else {
        mi_block_set_next(page, tail, page->free);
        page->free = page->local_free;
        page->is_zero_init = false;
      }
      page->local_free = NULL;
    }
  }
}

// The queue walks call this on page after page, most of which have nothing to collect. A page that
// still has `free` blocks is left alone: taking its other lists would mean a concatenation.
static inline void mi_page_collect_if_any(mi_page_t* page) {
  if (page->free == NULL && (page->local_free != NULL || mi_page_has_thread_free(page))) _mi_page_free_collect(page, false);
}

/* ---- page set-up and free-list extension ---- */

// Put up to MI_MAX_EXTEND_SIZE bytes of fresh blocks on the free list: a page with few live blocks
// touches little memory, and the list is built in address order for locality.
static void mi_page_extend_free(mi_page_t* page) {
  if (page->capacity >= page->reserved) return;
  size_t bsize = page->block_size;
  size_t extend = page->reserved - page->capacity;
  // (blocks of an OS page or more one at a time: each link word written faults in an OS page of
  // its own, which a page with one live block -- stdio's buffer, say -- would never use, and a
  // page reused by class after class would end up resident all over)
  size_t max_extend = (bsize >= MI_MAX_EXTEND_SIZE ? 1 : MI_MAX_EXTEND_SIZE / bsize);
  if (extend > max_extend) extend = max_extend;
  uint8_t* start = page->page_start + (size_t)page->capacity * bsize;
  mi_block_t* first = (mi_block_t*)start;
  mi_block_t* block = first;
  for (size_t i = 1; i < extend; i++) {
    mi_block_t* next = (mi_block_t*)((uint8_t*)block + bsize);
    mi_block_set_next(page, block, next);
    block = next;
  }
  mi_block_set_next(page, block, page->free);   // free is NULL here
  page->free = first;
  page->capacity = (uint16_t)(page->capacity + extend);
  page->free_exhausted = 0;
  mi_tld_t* tld = mi_page_heap(page)->tld;
  _mi_stat_batch_add(&tld->stats, &tld->stats.pages_extended, 1);
}

// Like mi_page_extend_free, but keeps the blocks already on `free` (appended after the fresh ones).
static void mi_page_extend_free_front(mi_page_t* page) {
  mi_block_t* rest = page->free;
  page->free = NULL;
  mi_page_extend_free(page);
  if (rest == NULL) return;
  mi_block_t* last = page->free;
  if (last == NULL) { page->free = rest; return; }
  mi_block_t* next;
  while ((next = mi_block_next(page, last)) != NULL) last = next;
  mi_block_set_next(page, last, rest);
}

void _mi_page_init(mi_heap_t* heap, mi_page_t* page, size_t block_size) {
  mi_segment_t* segment = _mi_page_segment(page);
  size_t page_size;
  uint8_t* start = _mi_segment_page_area(segment, page, &page_size);
  page->block_size = block_size;
  page->page_start = start;
  size_t reserved = page_size / block_size;
  page->reserved = (uint16_t)(reserved > UINT16_MAX ? UINT16_MAX : reserved);
  page->capacity = 0;
  page->free = NULL;
  page->local_free = NULL;
  page->used = 0;
  page->retire_expire = 0;
  page->heap_tag = heap->tag;
  page->full_visits = 0;
  page->free_exhausted = 0;
  page->bin = (uint8_t)(segment->page_kind == MI_PAGE_HUGE ? MI_BIN_HUGE : _mi_bin(block_size));
  mi_page_clear_flags(page);
  mi_atomic_store_relaxed(&page->xthread_free, mi_tf_empty(MI_NO_DELAYED_FREE));
  mi_page_set_heap(page, heap);
  mi_page_extend_free(page);
  _mi_segment_page_trim_schedule(page, heap->tld);
}

/* ---- full pages ---- */

// Move a page that has no free block to the full queue, switching remote frees to announce
// themselves. Fails (and leaves the page) if remote frees arrived or are arriving meanwhile: the
// same CAS that sets USE_DELAYED observes the thread-free list, so no free can slip by unannounced.
static bool mi_page_to_full(mi_page_t* page, mi_page_queue_t* pq) {
  mi_heap_t* heap = mi_page_heap(page);
  uint64_t tf = mi_atomic_load_relaxed(&page->xthread_free);
  for (;;) {
    mi_delayed_t d = mi_tf_delayed(tf);
    if (!mi_tf_is_empty(tf)) return false;
    // a remote free is announcing a block of this page right now: it is not full, and waiting
    // here would spin for as long as that thread is descheduled
    if (d == MI_DELAYED_FREEING) return false;
    if (d == MI_USE_DELAYED_FREE || d == MI_NEVER_DELAYED_FREE) break;
    if (mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tf, mi_tf_empty(MI_USE_DELAYED_FREE))) break;
  }
  _mi_page_queue_remove(heap, pq, page);
  _mi_page_queue_push(heap, &heap->pages[MI_BIN_FULL], page);
  return true;
}

// A block came back to a page in the full queue: make it allocatable again.
void _mi_page_unfull(mi_page_t* page) {
  if (!mi_page_is_in_full(page)) return;
  mi_heap_t* heap = mi_page_heap(page);
  _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, false);
  _mi_page_queue_remove(heap, &heap->pages[MI_BIN_FULL], page);
  mi_page_set_flag(page, MI_PAGE_FLAG_IN_FULL, false);
  mi_page_queue_t* pq = _mi_page_queue_of(heap, page);
  _mi_page_queue_push_front(heap, pq, page);
}

// The owner freed into an exhausted page that sits in its normal queue: allocate from it next.
// Called for the first page when it should grow (free.c decides): it gets fresh blocks, so a ring
// of live blocks that exactly fills the extended part does not return here on every free.
void _mi_page_to_front(mi_page_t* page) {
  mi_heap_t* heap = mi_page_heap(page);
  mi_page_queue_t* pq = &heap->pages[page->bin];
  if (pq->first != page) _mi_page_queue_move_to_front(heap, pq, page);
  else if (page->capacity < page->reserved) mi_page_extend_free_front(page);
}

/* ---- retiring and freeing pages ---- */

void _mi_page_free(mi_page_t* page, mi_page_queue_t* pq, bool force) {
  mi_heap_t* heap = mi_page_heap(page);
  // no remote thread may still be announcing into this page when its memory is reused
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);
  _mi_page_queue_remove(heap, pq, page);
  mi_page_clear_flags(page);
  mi_page_set_heap(page, NULL);
  _mi_segment_page_free(page, force, heap->tld);
}

// The page became empty. Keep it for a few slow-path visits if it is the only page of its size
// class (a block allocated and freed in a loop would otherwise cycle the page through the segment).
void _mi_page_retire(mi_page_t* page) {
  mi_heap_t* heap = mi_page_heap(page);
  mi_page_queue_t* pq = _mi_page_queue_of(heap, page);
  if (mi_likely(!mi_page_is_huge(page) && !mi_page_is_in_full(page) && pq->last == page && pq->first == page &&
                page->block_size <= MI_MEDIUM_OBJ_SIZE_MAX)) {
    page->retire_expire = MI_RETIRE_CYCLES / MI_RETIRE_STRIDE;
    size_t bin = (size_t)(pq - heap->pages);
    if (bin < heap->page_retired_min) heap->page_retired_min = bin;
    if (bin > heap->page_retired_max) heap->page_retired_max = bin;
    return;
  }
  _mi_stat_batch_add(&heap->tld->stats, &heap->tld->stats.pages_retired, 1);
  _mi_page_free(page, pq, false);
}

void _mi_heap_collect_retired(mi_heap_t* heap, bool force) {
  size_t min = MI_BIN_FULL;
  size_t max = 0;
  for (size_t bin = heap->page_retired_min; bin <= heap->page_retired_max && bin < MI_BIN_FULL; bin++) {
    mi_page_queue_t* pq = &heap->pages[bin];
    mi_page_t* page = pq->first;
    if (page != NULL && page->retire_expire != 0) {
      if (page->used == 0 && (force || --page->retire_expire == 0)) {
        page->retire_expire = 0;
        _mi_stat_batch_add(&heap->tld->stats, &heap->tld->stats.pages_retired, 1);
        _mi_page_free(page, pq, force);
      }
      else if (page->used != 0) {
        page->retire_expire = 0;
      }
      else {
        if (bin < min) min = bin;
        if (bin > max) max = bin;
      }
    }
  }
  heap->page_retired_min = min;
  heap->page_retired_max = max;
}

/* ---- abandon / reclaim (thread exit) ---- */

void _mi_page_abandon(mi_page_t* page, mi_page_queue_t* pq) {
  mi_assert_expensive(_mi_page_is_valid(page));
  mi_heap_t* heap = mi_page_heap(page);
  // from now on remote frees push on the page's own list, whatever queue it was in
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, true);
  _mi_page_queue_remove(heap, pq, page);
  mi_page_set_flag(page, MI_PAGE_FLAG_IN_FULL, false);
  mi_page_set_heap(page, NULL);
  _mi_segment_page_abandon(page, heap->tld);
}

// Adopt a page of a reclaimed segment into `heap`.
void _mi_page_reclaim(mi_heap_t* heap, mi_page_t* page) {
  mi_assert_expensive(_mi_page_is_valid(page));
  mi_page_set_heap(page, heap);
  page->heap_tag = heap->tag;
  _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, true);
  _mi_page_free_collect(page, true);   // all of it: other threads may have freed into it while it had no owner
  mi_page_queue_t* pq = _mi_page_queue_of(heap, page);
  _mi_page_queue_push(heap, pq, page);
  _mi_stat_counter_increase(&_mi_stats_main.pages_reclaimed, 1);
}

/* ---- delayed frees: blocks of full pages announced by other threads ---- */

bool _mi_heap_delayed_free_partial(mi_heap_t* heap) {
  uintptr_t head = mi_atomic_load_relaxed(&heap->thread_delayed_free);
  if (head == 0) return true;
  head = mi_atomic_exchange_acquire(&heap->thread_delayed_free, 0);
  bool all_freed = true;
  mi_block_t* block = (mi_block_t*)head;
  while (block != NULL) {
    mi_block_t* next = block->next;   // heap-list links are plain pointers
    if (!_mi_free_delayed_block_ok(block)) {
      // the announcing thread is not done with the page: put it back and look again later
      all_freed = false;
      uintptr_t dfree = mi_atomic_load_relaxed(&heap->thread_delayed_free);
      do { block->next = (mi_block_t*)dfree; }
      while (!mi_atomic_cas_weak_release(&heap->thread_delayed_free, &dfree, (uintptr_t)block));
    }
    block = next;
  }
  return all_freed;
}

void _mi_heap_delayed_free_all(mi_heap_t* heap) {
  while (!_mi_heap_delayed_free_partial(heap)) mi_atomic_yield();
}

/* ---- finding a page ---- */

static mi_page_t* mi_page_fresh(mi_heap_t* heap, mi_page_queue_t* pq, size_t block_size) {
  mi_page_t* page = _mi_segment_page_alloc(heap, block_size, 0, 0);
  if (page == NULL) return NULL;
  _mi_page_init(heap, page, block_size);
  _mi_page_queue_push_front(heap, pq, page);
  _mi_stat_batch_page_taken(&heap->tld->stats);
  return page;
}

// Walk the bin queue for a page with free blocks. An exhausted page is first rotated to the back
// (cheap, no atomics: frees keep arriving into pages of a busy size class); only a page found
// exhausted a second time moves to the full queue, where remote frees announce themselves.
static mi_page_t* mi_page_queue_find_free(mi_heap_t* heap, mi_page_queue_t* pq) {
  size_t searched = 0;
  mi_page_t* page = pq->first;
  mi_page_t* rotated = NULL;   // the first page sent to the back: meeting it again ends the walk
  while (page != NULL && page != rotated) {
    mi_page_t* next = page->next;
    searched++;
    mi_page_collect_if_any(page);
    if (page->free != NULL) break;
    if (page->capacity < page->reserved) { mi_page_extend_free(page); break; }
    if (page->full_visits == 0 && next != NULL) {
      page->full_visits = 1;
      _mi_page_queue_move_to_back(heap, pq, page);
      if (rotated == NULL) rotated = page;
    }
    else if (!mi_page_to_full(page, pq)) {
      // remote frees arrived while we looked: they are ours to use now
      _mi_page_free_collect(page, false);
      if (page->free != NULL) break;
    }
    page = next;
  }
  if (page == rotated) page = NULL;
  _mi_stat_batch_add(&heap->tld->stats, &heap->tld->stats.page_searches, searched);
  if (page == NULL) {
    _mi_heap_collect_retired(heap, false);
    page = mi_page_fresh(heap, pq, pq->block_size);
    if (page == NULL && _mi_segment_try_reclaim_abandoned(heap, true)) {
      return mi_page_queue_find_free(heap, pq);
    }
  }
  else {
    page->retire_expire = 0;
    page->full_visits = 0;
    if (pq->first != page) _mi_page_queue_move_to_front(heap, pq, page);
  }
  return page;
}

static mi_page_t* mi_huge_page_alloc(mi_heap_t* heap, size_t size, size_t page_alignment) {
  size_t block_size = _mi_align_up(size == 0 ? 1 : size, MI_MAX_ALIGN_SIZE);
  mi_page_t* page = _mi_segment_page_alloc(heap, block_size, page_alignment, block_size);
  if (page == NULL) return NULL;
  // the segment sized the page: the block is the whole page area
  size_t page_size;
  (void)_mi_segment_page_area(_mi_page_segment(page), page, &page_size);
  _mi_page_init(heap, page, page_size);
  mi_page_queue_t* pq = &heap->pages[MI_BIN_HUGE];
  _mi_page_queue_push(heap, pq, page);
  _mi_stat_batch_page_taken(&heap->tld->stats);
  _mi_stat_increase(&_mi_stats_main.huge, page_size);
  _mi_stat_counter_increase(&_mi_stats_main.huge_count, 1);
  return page;
}

static mi_page_t* mi_find_page(mi_heap_t* heap, size_t size, size_t huge_alignment) {
  if (mi_unlikely(size > MI_LARGE_OBJ_SIZE_MAX || huge_alignment > 0)) {
    if (mi_unlikely(size > MI_MAX_ALLOC_SIZE)) {
      _mi_error_message(ENOMEM, "allocation request is too large (%zu bytes)\n", size);
      return NULL;
    }
    return mi_huge_page_alloc(heap, size, huge_alignment);
  }
  mi_page_queue_t* pq = &heap->pages[_mi_bin(size)];
  mi_page_t* page = pq->first;
  if (page != NULL) {
    mi_page_collect_if_any(page);
    if (page->free != NULL) { page->retire_expire = 0; return page; }
  }
  return mi_page_queue_find_free(heap, pq);
}

// After a huge block is handed out its page has no free block: park it in the full queue so a
// remote free announces itself and the owner returns the segment promptly.
static void mi_huge_page_park(mi_heap_t* heap, mi_page_t* page) {
  if (mi_page_is_huge(page) && page->free == NULL && !mi_page_is_in_full(page)) {
    (void)mi_page_to_full(page, &heap->pages[MI_BIN_HUGE]);
  }
}

void* _mi_malloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_unlikely(!mi_heap_is_initialized(heap))) {
    heap = _mi_heap_init_thread();
    if (heap == NULL) { errno = ENOMEM; return NULL; }
  }
  mi_tld_t* tld = heap->tld;
  tld->heartbeat++;
  _mi_deferred_free_call(false, tld->heartbeat);
  if (mi_atomic_load_relaxed(&heap->thread_delayed_free) != 0) _mi_heap_delayed_free_partial(heap);
  // retired pages age once every MI_RETIRE_STRIDE slow-path visits (the scan covers a range of bins)
  if (heap->page_retired_max >= heap->page_retired_min && (tld->heartbeat % MI_RETIRE_STRIDE) == 0) _mi_heap_collect_retired(heap, false);
  if ((tld->heartbeat & 1023) == 0) _mi_segment_cache_collect(false);
  if (tld->trim_count > 0 && (tld->heartbeat & 63) == 0) _mi_segments_trim_expired(tld, false);

  mi_page_t* page = mi_find_page(heap, size, huge_alignment);
  if (mi_unlikely(page == NULL)) {
    mi_heap_collect(heap, true);
    page = mi_find_page(heap, size, huge_alignment);
  }
  if (mi_unlikely(page == NULL)) {
    errno = ENOMEM;
    _mi_error_message(ENOMEM, "unable to allocate memory (%zu bytes)\n", size);
    return NULL;
  }
  void* p = _mi_page_malloc_zero(heap, page, size, zero);
  if (mi_unlikely(huge_alignment > 0 || size > MI_LARGE_OBJ_SIZE_MAX)) mi_huge_page_park(heap, page);
  return p;
}
