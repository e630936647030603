/* mimic: heaps — creation, delete (blocks move to the backing heap), destroy (all blocks freed at
   once, page by page), collection, ownership queries and walking. A v2 heap belongs to the thread
   that created it: only that thread allocates from it; any thread may free its blocks. */
#include "mimic/internal.h"

/* ---- visiting pages ---- */

bool _mi_heap_visit_pages(mi_heap_t* heap, mi_heap_page_visitor_fun* fn, void* arg1, void* arg2) {
  if (heap == NULL || heap->page_count == 0) return true;
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    mi_page_queue_t* pq = &heap->pages[bin];
    mi_page_t* page = pq->first;
    while (page != NULL) {
      mi_page_t* next = page->next;   // `fn` may unlink or free `page`
      if (!fn(heap, pq, page, arg1, arg2)) return false;
      page = next;
    }
  }
  return true;
}

bool _mi_heap_check_thread(mi_heap_t* heap) {
  if (heap == NULL || heap == &_mi_heap_empty || heap->tld == NULL) {
    _mi_error_message(EINVAL, "invalid heap %p\n", (void*)heap);
    errno = EINVAL;
    return false;
  }
  if (heap->thread_id != _mi_prim_thread_id()) {
    _mi_error_message(EINVAL, "heap %p is used by a thread that did not create it (v2 heaps are thread-local)\n", (void*)heap);
    errno = EINVAL;
    return false;
  }
  return true;
}

void _mi_heap_init(mi_heap_t* heap, mi_tld_t* tld, uint8_t tag, bool allow_destroy, int arena_id) {
  memset(heap, 0, sizeof(*heap));
  heap->tld = tld;
  for (size_t i = 0; i < MI_PAGES_DIRECT; i++) heap->pages_free_direct[i] = &_mi_page_empty;
  _mi_page_queue_init_all(heap);
  mi_atomic_store_relaxed(&heap->thread_delayed_free, 0);
  heap->thread_id = tld->thread_id;
  heap->page_retired_min = MI_BIN_FULL;
  heap->page_retired_max = 0;
  heap->cookie = _mi_random_shuffle((uintptr_t)heap ^ _mi_process_key);
  heap->tag = tag;
  heap->allow_destroy = allow_destroy;
  heap->no_reclaim = allow_destroy;   // a destroyable heap never adopts other threads' blocks
  heap->arena_id = arena_id;
  heap->next = tld->heaps;
  tld->heaps = heap;
  _mi_stat_increase(&_mi_stats_main.heaps, 1);
}

static void mi_heap_unlink(mi_heap_t* heap) {
  mi_tld_t* tld = heap->tld;
  mi_heap_t* prev = NULL;
  for (mi_heap_t* h = tld->heaps; h != NULL; prev = h, h = h->next) {
    if (h == heap) {
      if (prev == NULL) tld->heaps = heap->next; else prev->next = heap->next;
      break;
    }
  }
  heap->next = NULL;
}

mi_heap_t* mi_heap_new_ex(int heap_tag, bool allow_destroy, mi_arena_id_t arena_id) {
  mi_heap_t* bheap = mi_prim_get_default_heap_init();
  if (bheap == NULL || !mi_heap_is_initialized(bheap)) return NULL;
  mi_tld_t* tld = bheap->tld;
  mi_heap_t* heap = (mi_heap_t*)_mi_heap_malloc_zero(tld->heap_backing, sizeof(mi_heap_t), false);
  if (heap == NULL) return NULL;
  _mi_heap_init(heap, tld, (uint8_t)heap_tag, allow_destroy, arena_id);
  return heap;
}
mi_heap_t* mi_heap_new_in_arena(mi_arena_id_t arena_id) { return mi_heap_new_ex(0, true, arena_id); }
mi_heap_t* mi_heap_new(void) { return mi_heap_new_ex(0, true, 0); }

/* ---- moving pages between heaps (delete) ---- */

static bool mi_heap_page_never_delayed(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* a1, void* a2) {
  (void)heap; (void)pq; (void)a1; (void)a2;
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);   // waits out an announcement in flight
  return true;
}

// Move every page of `from` into `to` (same thread). Afterwards nothing refers to `from`.
static void mi_heap_absorb(mi_heap_t* to, mi_heap_t* from) {
  _mi_heap_visit_pages(from, &mi_heap_page_never_delayed, NULL, NULL);
  _mi_heap_delayed_free_all(from);   // announcements that got in before the switch
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    mi_page_queue_t* pq = &from->pages[bin];
    mi_page_t* page;
    while ((page = pq->first) != NULL) {
      _mi_page_queue_remove(from, pq, page);
      mi_page_set_flag(page, MI_PAGE_FLAG_IN_FULL, false);
      mi_page_set_heap(page, to);
      _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, true);
      page->retire_expire = 0;
      _mi_page_queue_push(to, _mi_page_queue_of(to, page), page);
    }
  }
}

static void mi_heap_free(mi_heap_t* heap) {
  mi_tld_t* tld = heap->tld;
  if (mi_heap_is_backing(heap)) return;
  if (_mi_heap_default == heap) _mi_heap_set_default_direct(tld->heap_backing);
  mi_heap_unlink(heap);
  _mi_stat_decrease(&_mi_stats_main.heaps, 1);
  heap->thread_id = 0;
  heap->tld = NULL;
  mi_free(heap);
}

void mi_heap_delete(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  if (!_mi_heap_check_thread(heap)) return;
  if (mi_heap_is_backing(heap)) { mi_heap_collect(heap, false); return; }
  mi_heap_absorb(heap->tld->heap_backing, heap);
  mi_heap_free(heap);
}

/* ---- destroy: free whole pages without looking at blocks ---- */

void _mi_heap_destroy_pages(mi_heap_t* heap) {
  _mi_heap_visit_pages(heap, &mi_heap_page_never_delayed, NULL, NULL);
  mi_atomic_store_relaxed(&heap->thread_delayed_free, 0);   // those blocks die with their pages
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    mi_page_queue_t* pq = &heap->pages[bin];
    mi_page_t* page;
    while ((page = pq->first) != NULL) {
      _mi_page_queue_remove(heap, pq, page);
      mi_page_clear_flags(page);
      mi_page_set_heap(page, NULL);
      page->used = 0;
      _mi_segment_page_free(page, false, heap->tld);
    }
  }
  heap->page_retired_min = MI_BIN_FULL;
  heap->page_retired_max = 0;
}

void mi_heap_destroy(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  if (!_mi_heap_check_thread(heap)) return;
  if (!heap->allow_destroy) {
    _mi_error_message(EINVAL, "mi_heap_destroy: heap %p does not allow destroy; deleting it instead\n", (void*)heap);
    mi_heap_delete(heap);
    return;
  }
  if (mi_heap_is_backing(heap)) {   // cannot happen: backing heaps are created without allow_destroy
    mi_heap_collect(heap, true);
    return;
  }
  _mi_heap_destroy_pages(heap);
  mi_heap_free(heap);
}

/* ---- default heap ---- */

mi_heap_t* mi_heap_set_default(mi_heap_t* heap) {
  mi_heap_t* old = mi_prim_get_default_heap_init();
  if (heap == NULL || !mi_heap_is_initialized(heap) || !_mi_heap_check_thread(heap)) return old;
  _mi_heap_set_default_direct(heap);
  return old;
}
mi_heap_t* mi_heap_get_default(void) { return mi_prim_get_default_heap_init(); }
mi_heap_t* mi_heap_get_backing(void) {
  mi_heap_t* heap = mi_prim_get_default_heap_init();
  return (heap == NULL || !mi_heap_is_initialized(heap) ? NULL : heap->tld->heap_backing);
}

/* ---- collection ---- */

static bool mi_heap_page_collect(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg_force, void* a2) {
  (void)heap; (void)a2;
  bool force = *(bool*)arg_force;
  _mi_page_free_collect(page, force);
  if (page->used == 0) {
    page->retire_expire = 0;
    _mi_page_free(page, pq, false);   // a forced collect purges all free pages afterwards, coalesced
  }
  else if (mi_page_is_in_full(page) && page->free != NULL) {
    _mi_page_unfull(page);
  }
  return true;
}

void mi_heap_collect(mi_heap_t* heap, bool force) mi_attr_noexcept {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return;
  if (heap->thread_id != _mi_prim_thread_id()) { (void)_mi_heap_check_thread(heap); return; }
  mi_tld_t* tld = heap->tld;
  _mi_deferred_free_call(force, tld->heartbeat);
  _mi_heap_delayed_free_all(heap);
  if (force && mi_heap_is_backing(heap)) {
    // adopt what exited threads left behind so it can be freed (not into destroyable heaps)
    while (_mi_abandoned_count() > 0 && _mi_segment_try_reclaim_abandoned(heap, true)) { }
  }
  _mi_heap_visit_pages(heap, &mi_heap_page_collect, &force, NULL);
  _mi_heap_collect_retired(heap, force);
  _mi_segments_collect(tld, force);
  _mi_segment_cache_collect(force);
}

void mi_collect(bool force) mi_attr_noexcept {
  mi_heap_t* heap = mi_prim_get_default_heap();
  if (!mi_heap_is_initialized(heap)) { _mi_segment_cache_collect(force); return; }
  // collect every heap of this thread
  for (mi_heap_t* h = heap->tld->heaps; h != NULL; h = h->next) mi_heap_collect(h, force);
}

static bool mi_heap_page_abandon(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* a1, void* a2) {
  (void)heap; (void)a1; (void)a2;
  _mi_page_free_collect(page, true);
  if (page->used == 0) _mi_page_free(page, pq, false);   // purged below, one call per run of pages
  else _mi_page_abandon(page, pq);
  return true;
}

// Thread exit: free what is free, abandon the rest for other threads to reclaim.
void _mi_heap_collect_abandon(mi_heap_t* heap) {
  _mi_heap_visit_pages(heap, &mi_heap_page_never_delayed, NULL, NULL);
  _mi_heap_delayed_free_all(heap);
  heap->tld->abandoning = true;    // the abandoned-memory budget decides what stays unpurged
  _mi_heap_visit_pages(heap, &mi_heap_page_abandon, NULL, NULL);
  heap->tld->abandoning = false;
  heap->page_retired_min = MI_BIN_FULL;
  heap->page_retired_max = 0;
  _mi_segments_collect(heap->tld, true);    // one madvise per run of free pages
}

/* ---- ownership ---- */

static mi_page_t* mi_checked_page_of(const void* p) {
  mi_page_t* page = _mi_checked_ptr_page(p);
  if (page == NULL || !page->segment_in_use) return NULL;
  if ((const uint8_t*)p < page->page_start || (const uint8_t*)p >= page->page_start + (size_t)page->reserved * page->block_size) return NULL;
  return page;
}

bool mi_heap_contains_block(mi_heap_t* heap, const void* p) {
  if (heap == NULL || !mi_heap_is_initialized(heap)) return false;
  mi_page_t* page = mi_checked_page_of(p);
  return (page != NULL && mi_page_heap(page) == heap);
}

bool mi_heap_check_owned(mi_heap_t* heap, const void* p) {
  if (heap == NULL || !mi_heap_is_initialized(heap) || p == NULL) return false;
  if (((uintptr_t)p & (MI_INTPTR_SIZE - 1)) != 0) return false;
  mi_page_t* page = mi_checked_page_of(p);
  if (page == NULL || mi_page_heap(page) != heap) return false;
  return ((const uint8_t*)p < page->page_start + (size_t)page->capacity * page->block_size);
}

bool mi_check_owned(const void* p) { return mi_heap_check_owned(mi_prim_get_default_heap(), p); }

bool mi_is_in_heap_region(const void* p) mi_attr_noexcept {
  if (p == NULL) return false;
  return (_mi_checked_ptr_segment(p, NULL) != NULL);
}

bool mi_unsafe_heap_page_is_under_utilized(mi_heap_t* heap, void* p, size_t perc_threshold) mi_attr_noexcept {
  mi_page_t* page = mi_checked_page_of(p);
  if (page == NULL || mi_page_heap(page) != heap || page->reserved <= 1) return false;
  return ((size_t)page->used * 100 < perc_threshold * (size_t)page->reserved);
}

/* ---- walking blocks ---- */

void _mi_heap_area_init(mi_heap_area_t* area, mi_page_t* page) {
  size_t psize;
  (void)_mi_segment_page_area(_mi_page_segment(page), page, &psize);
  area->blocks = page->page_start;
  area->reserved = (size_t)page->reserved * page->block_size;
  area->committed = (size_t)page->capacity * page->block_size;
  area->used = page->used;
  area->block_size = page->block_size;
  area->full_block_size = page->block_size;
  area->heap_tag = page->heap_tag;
}

#define MI_VISIT_MAX_BLOCKS  (MI_SMALL_PAGE_SIZE / 16)   // most blocks a page can hold

bool _mi_heap_area_visit_blocks(const mi_heap_area_t* area, mi_page_t* page, mi_block_visit_fun* visitor, void* arg) {
  mi_heap_t* heap = mi_page_heap(page);
  _mi_page_free_collect(page, true);   // all free blocks now on `free`
  if (page->used == 0) return true;
  size_t bsize = page->block_size;
  uint8_t* start = page->page_start;
  if (page->reserved == 1 || page->capacity == 1) return visitor(heap, area, start, bsize, arg);
  uint64_t free_map[MI_VISIT_MAX_BLOCKS / 64];
  size_t capacity = page->capacity;
  if (capacity > MI_VISIT_MAX_BLOCKS) return false;
  memset(free_map, 0, (capacity + 63) / 64 * sizeof(uint64_t));
  size_t free_count = 0;
  for (mi_block_t* block = page->free; block != NULL && free_count < capacity; block = mi_block_next(page, block)) {
    size_t idx = (size_t)((uint8_t*)block - start) / bsize;
    if (idx < capacity) free_map[idx / 64] |= ((uint64_t)1 << (idx % 64));
    free_count++;
  }
  size_t visited = 0;
  for (size_t i = 0; i < capacity && visited < page->used; i++) {
    if ((free_map[i / 64] & ((uint64_t)1 << (i % 64))) != 0) continue;
    visited++;
    if (!visitor(heap, area, start + i * bsize, bsize, arg)) return false;
  }
  return true;
}

typedef struct mi_visit_args_s { bool visit_blocks; mi_block_visit_fun* visitor; void* arg; } mi_visit_args_t;

static bool mi_heap_page_visit(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* a1, void* a2) {
  (void)pq; (void)a2;
  mi_visit_args_t* args = (mi_visit_args_t*)a1;
  mi_heap_area_t area;
  _mi_page_free_collect(page, true);
  _mi_heap_area_init(&area, page);
  if (!args->visitor(heap, &area, NULL, area.block_size, args->arg)) return false;
  if (args->visit_blocks) return _mi_heap_area_visit_blocks(&area, page, args->visitor, args->arg);
  return true;
}

bool mi_heap_visit_blocks(const mi_heap_t* heap, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  if (heap == NULL || visitor == NULL || !mi_heap_is_initialized(heap)) return false;
  mi_heap_t* h = (mi_heap_t*)heap;
  if (!_mi_heap_check_thread(h)) return false;
  // blocks other threads announced into full pages are free, not live: take them first
  _mi_heap_delayed_free_all(h);
  mi_visit_args_t args = { visit_blocks, visitor, arg };
  return _mi_heap_visit_pages(h, &mi_heap_page_visit, &args, NULL);
}

bool mi_abandoned_visit_blocks(mi_subproc_id_t subproc_id, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  (void)subproc_id;
  if (visitor == NULL) return false;
  if (!mi_option_is_enabled(mi_option_visit_abandoned)) {
    _mi_error_message(EINVAL, "mi_abandoned_visit_blocks: set MIMALLOC_VISIT_ABANDONED=1 to visit abandoned blocks\n");
    return false;
  }
  return _mi_abandoned_visit_blocks(heap_tag, visit_blocks, visitor, arg);
}

/* ---- guarded sampling (guard pages come with the secure levels; accepted and ignored now) ---- */

void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed) { (void)heap; (void)sample_rate; (void)seed; }
void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max) { (void)heap; (void)min; (void)max; }
