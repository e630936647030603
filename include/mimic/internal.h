/* mimic: cross-file prototypes (grouped by the file that defines them) and the inline helpers of the
   fast paths. Layers only call down: prim -> os -> segment -> page -> heap -> API. */
#pragma once
#ifndef MIMIC_INTERNAL_H
#define MIMIC_INTERNAL_H

#include "../mimic.h"
#include "types.h"
#include "track.h"
#include "stats.h"
#include <string.h>
#include <errno.h>

#if defined(MI_TLS_LOCAL_DYNAMIC)
#define mi_decl_tls __attribute__((tls_model("local-dynamic")))
#else
#define mi_decl_tls __attribute__((tls_model("initial-exec")))
#endif


/* ---- options.c: options, output and the error funnel ---- */
void  _mi_options_init(void);
void  _mi_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message);
void  _mi_message(const char* fmt, ...);
void  _mi_verbose_message(const char* fmt, ...);
void  _mi_warning_message(const char* fmt, ...);
void  _mi_error_message(int err, const char* fmt, ...);
int   _mi_snprintf(char* buf, size_t n, const char* fmt, ...);
#include <stdarg.h>
int   _mi_vsnprintf(char* buf, size_t n, const char* fmt, va_list args);
void  _mi_deferred_free_call(bool force, unsigned long long heartbeat);
void  _mi_assert_fail(const char* assertion, const char* fname, unsigned int line, const char* func);

/* ---- stats.c ---- */
void  _mi_stats_init(void);

/* ---- os.c: OS memory with statistics ---- */
void  _mi_os_init(void);
size_t _mi_os_page_size(void);
void* _mi_os_alloc_aligned(size_t size, size_t alignment, mi_memid_t* memid);
void  _mi_os_free(void* p, size_t size, mi_memid_t memid);
void* _mi_os_remap(void* p, size_t newsize, size_t alignment, mi_memid_t* memid);
bool  _mi_os_purge(void* p, size_t size);     // true if the memory must be committed again before use
bool  _mi_os_commit(void* p, size_t size, bool* is_zero);
bool  _mi_os_recommit(void* p, size_t size);         // after a purge; p == NULL: statistics only
bool  _mi_os_purge_in_use(void* p, size_t size);     // drop the contents of memory that stays in use (false: not here)
void* _mi_os_alloc_meta(size_t size);          // zeroed internal meta data (thread data)
void  _mi_os_free_meta(void* p, size_t size);
uintptr_t _mi_random_shuffle(uintptr_t x);
uintptr_t _mi_os_random_weak(uintptr_t extra_seed);

/* ---- segment-map.c: which 4 MiB units of the address space are segment starts ---- */
void  _mi_segment_map_allocated(const mi_segment_t* segment);
void  _mi_segment_map_freed(const mi_segment_t* segment);
bool  _mi_segment_map_covers(const void* start, size_t size);
void  _mi_segment_map_note_span(size_t segment_size);   // largest segment: bounds the interior scan
mi_segment_t* _mi_segment_of_interior(const void* p);   // slow: also finds huge segments from inside

/* ---- segment.c ---- */
mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment, size_t huge_size);
void  _mi_segment_page_free(mi_page_t* page, bool force, mi_tld_t* tld);
void  _mi_segment_page_trim_schedule(mi_page_t* page, mi_tld_t* tld);
void  _mi_segments_trim_expired(mi_tld_t* tld, bool force);
void  _mi_segment_page_abandon(mi_page_t* page, mi_tld_t* tld);
bool  _mi_segment_try_reclaim_abandoned(mi_heap_t* heap, bool try_all);
bool  _mi_segment_reclaim_on_free(mi_segment_t* segment, mi_heap_t* heap);
size_t _mi_segment_used_blocks(const mi_segment_t* segment);
#define MI_ADOPT_RELEASE_MAX 8   // blocks left in a segment adopted on free that send it back (segment.c)
void  _mi_segment_release_adopted(mi_segment_t* segment);
void  _mi_segment_cache_collect(bool force);
void* _mi_segment_huge_page_grow(mi_heap_t* heap, mi_page_t* page, void* p, size_t newsize);
void  _mi_segments_collect(mi_tld_t* tld, bool force);
uint8_t* _mi_segment_page_area(const mi_segment_t* segment, const mi_page_t* page, size_t* size);
void  _mi_segments_fork_prepare(void);
void  _mi_segments_fork_parent(void);
void  _mi_segments_fork_child(void);
bool  _mi_abandoned_visit_blocks(int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);
size_t _mi_abandoned_count(void);

/* ---- page-queue.c ---- */
size_t _mi_bin_size(size_t bin);
void  _mi_page_queue_push(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page);
void  _mi_page_queue_push_front(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page);
void  _mi_page_queue_remove(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page);
void  _mi_page_queue_move_to_front(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page);
void  _mi_page_queue_move_to_back(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page);
mi_page_queue_t* _mi_page_queue_of(mi_heap_t* heap, const mi_page_t* page);
void  _mi_page_queue_init_all(mi_heap_t* heap);

/* ---- page.c ---- */
void* _mi_malloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment);
void  _mi_page_init(mi_heap_t* heap, mi_page_t* page, size_t block_size);
void  _mi_page_free_collect(mi_page_t* page, bool force);
void  _mi_page_retire(mi_page_t* page);
void  _mi_page_unfull(mi_page_t* page);
void  _mi_page_to_front(mi_page_t* page);
bool  _mi_page_is_valid(const mi_page_t* page);   // MI_DEBUG >= 3 only
void  _mi_page_free(mi_page_t* page, mi_page_queue_t* pq, bool force);
void  _mi_page_abandon(mi_page_t* page, mi_page_queue_t* pq);
void  _mi_page_reclaim(mi_heap_t* heap, mi_page_t* page);
bool  _mi_page_try_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never);
void  _mi_page_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never);
bool  _mi_heap_delayed_free_partial(mi_heap_t* heap);
void  _mi_heap_delayed_free_all(mi_heap_t* heap);
void  _mi_heap_collect_retired(mi_heap_t* heap, bool force);

/* ---- heap.c ---- */
void  _mi_heap_init(mi_heap_t* heap, mi_tld_t* tld, uint8_t tag, bool allow_destroy, int arena_id);
void  _mi_heap_collect_abandon(mi_heap_t* heap);
void  _mi_heap_destroy_pages(mi_heap_t* heap);
bool  _mi_heap_check_thread(mi_heap_t* heap);
typedef bool (mi_heap_page_visitor_fun)(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg1, void* arg2);
bool  _mi_heap_visit_pages(mi_heap_t* heap, mi_heap_page_visitor_fun* fn, void* arg1, void* arg2);
bool  _mi_heap_area_visit_blocks(const mi_heap_area_t* area, mi_page_t* page, mi_block_visit_fun* visitor, void* arg);
void  _mi_heap_area_init(mi_heap_area_t* area, mi_page_t* page);

/* ---- alloc.c / free.c ---- */
void* _mi_heap_malloc_zero(mi_heap_t* heap, size_t size, bool zero);
void* _mi_heap_malloc_zero_ex(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment);
void* _mi_heap_realloc_zero(mi_heap_t* heap, void* p, size_t newsize, bool zero);
void* _mi_page_malloc_zero(mi_heap_t* heap, mi_page_t* page, size_t size, bool zero);
void  _mi_free_block_mt(mi_page_t* page, mi_segment_t* segment, mi_block_t* block);
mi_block_t* _mi_page_ptr_unalign(const mi_page_t* page, const void* p);
mi_segment_t* _mi_checked_ptr_segment(const void* p, const char* msg);
mi_page_t*    _mi_checked_ptr_page(const void* p);
bool  _mi_free_delayed_block_ok(mi_block_t* block);

/* ---- alloc-override.c ---- */
bool   _mi_free_foreign(void* p);                 // hand a pointer we never allocated back (glibc); false if not
size_t _mi_foreign_usable_size(const void* p);    // usable size of such a pointer, else 0

/* ---- init.c ---- */
extern mi_heap_t _mi_heap_empty;                       // the heap of threads that have not allocated yet
extern mi_page_t _mi_page_empty;                       // the page with no free block (page.c)
extern __thread mi_heap_t* _mi_heap_default mi_decl_tls;
extern mi_atomic(size_t) _mi_thread_count;
extern uintptr_t _mi_process_key;
extern bool _mi_process_is_initialized;
void  _mi_process_init_once(void);
mi_heap_t* _mi_heap_init_thread(void);                 // the calling thread's default heap, created if needed
void  _mi_heap_set_default_direct(mi_heap_t* heap);
bool  _mi_thread_is_done(void);
void  _mi_thread_done(mi_heap_t* heap);

/* ---- arena.c (arenas: later issue; neutral answers now) ---- */

/* ---------------------------------------------------------------------------------------------
   Inline helpers
--------------------------------------------------------------------------------------------- */

static inline bool _mi_is_power_of_two(uintptr_t x) { return (x & (x - 1)) == 0; }
static inline uintptr_t _mi_align_up(uintptr_t sz, size_t alignment) {
  uintptr_t mask = alignment - 1;
  if ((alignment & mask) == 0) return ((sz + mask) & ~mask);
  return ((sz + mask) / alignment) * alignment;
}
static inline uintptr_t _mi_align_down(uintptr_t sz, size_t alignment) {
  return sz & ~((uintptr_t)alignment - 1);
}
static inline size_t _mi_wsize_from_size(size_t size) { return (size + sizeof(uintptr_t) - 1) / sizeof(uintptr_t); }
static inline bool mi_mul_overflow(size_t count, size_t size, size_t* total) {
  return __builtin_mul_overflow(count, size, total);
}
static inline bool mi_count_size_overflow(size_t count, size_t size, size_t* total) {
  if (count == 1) { *total = size; return false; }
  if (mi_unlikely(mi_mul_overflow(count, size, total))) {
    _mi_error_message(EOVERFLOW, "allocation request is too large (%zu * %zu bytes)\n", count, size);
    *total = SIZE_MAX;
    return true;
  }
  return false;
}
static inline size_t mi_clz(uintptr_t x) { return x == 0 ? MI_INTPTR_SIZE * 8 : (size_t)__builtin_clzl(x); }
static inline size_t mi_bsr(uintptr_t x) { return MI_INTPTR_SIZE * 8 - 1 - mi_clz(x); }

/* ---- size classes: 16-byte steps up to 256 B, then 4 classes per power of two ---- */
// Above 1 KiB every class boundary is a multiple of 256 B: up to MI_MEDIUM_OBJ_SIZE_MAX the bin is
// one table load, (size-1)/256 -> bin (the malloc path for 1-256 KiB).
#define MI_BIN_TABLE_SHIFT 8
#define MI_BIN_TABLE_SIZE  (MI_MEDIUM_OBJ_SIZE_MAX >> MI_BIN_TABLE_SHIFT)
extern const uint8_t _mi_bin_table[MI_BIN_TABLE_SIZE];
static inline size_t _mi_bin_medium(size_t size) {   // 1 KiB < size <= MI_MEDIUM_OBJ_SIZE_MAX
  return _mi_bin_table[(size - 1) >> MI_BIN_TABLE_SHIFT];
}
static inline size_t _mi_bin(size_t size) {
  if (size <= MI_BIN_EXACT_MAX) return (size <= 16 ? 1 : (size + 15) >> 4);
  if (mi_unlikely(size > MI_LARGE_OBJ_SIZE_MAX)) return MI_BIN_HUGE;
  uintptr_t w = size - 1;
  size_t b = mi_bsr(w);                 // >= 8
  return MI_BIN_EXACT_COUNT + 1 + MI_BIN_SUBS * (b - 8) + ((w >> (b - MI_BIN_SUB_SHIFT)) & (MI_BIN_SUBS - 1));
}

/* ---- thread-local heap ---- */
static inline mi_heap_t* mi_prim_get_default_heap(void) { return _mi_heap_default; }
static inline bool mi_heap_is_initialized(const mi_heap_t* heap) { return heap != &_mi_heap_empty; }
static inline bool mi_heap_is_backing(const mi_heap_t* heap) { return heap->tld->heap_backing == heap; }
static inline mi_page_queue_t* mi_heap_page_queue_of_bin(mi_heap_t* heap, size_t bin) { return &heap->pages[bin]; }

/* ---- segments and pages ---- */
static inline mi_segment_t* _mi_ptr_segment(const void* p) {
  return (mi_segment_t*)((uintptr_t)p & ~MI_SEGMENT_MASK);
}
static inline mi_page_t* _mi_segment_page_of(const mi_segment_t* segment, const void* p) {
  size_t idx = ((uintptr_t)p - (uintptr_t)segment) >> segment->page_shift;
  return (mi_page_t*)&segment->pages[idx];
}
// Also for a pointer anywhere inside a one-page (large or huge) segment, however far from its start.
static inline mi_page_t* _mi_segment_page_of_any(const mi_segment_t* segment, const void* p) {
  return (segment->capacity == 1 ? (mi_page_t*)&segment->pages[0] : _mi_segment_page_of(segment, p));
}
static inline mi_page_t* _mi_ptr_page(const void* p) { return _mi_segment_page_of(_mi_ptr_segment(p), p); }
static inline mi_segment_t* _mi_page_segment(const mi_page_t* page) { return _mi_ptr_segment(page); }

// The segment map: 1 byte per MI_SEGMENT_SIZE unit of the address space. Non-zero where a segment
// starts, and then it is the segment's page_shift: free() learns "ours" and how to find the page
// from one byte, without reading the header of a segment that may be another thread's.
#define MI_SEGMENT_MAP_SIZE   ((size_t)1 << (MI_MAX_VABITS - MI_SEGMENT_SHIFT))
extern mi_atomic(uint8_t) _mi_segment_map[MI_SEGMENT_MAP_SIZE];
static inline size_t _mi_segment_map_page_shift(const mi_segment_t* segment) {   // 0: not ours
  uintptr_t idx = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (mi_unlikely(idx >= MI_SEGMENT_MAP_SIZE)) return 0;
  return mi_atomic_load_relaxed(&_mi_segment_map[idx]);
}
static inline bool _mi_segment_map_is_segment(const mi_segment_t* segment) {
  return _mi_segment_map_page_shift(segment) != 0;
}

static inline uint8_t mi_page_flags(const mi_page_t* page) {
  return (uint8_t)(mi_atomic_load_relaxed(&((mi_page_t*)page)->xowner) & MI_PAGE_FLAGS_MASK);
}
static inline bool mi_page_is_in_full(const mi_page_t* page) { return (mi_page_flags(page) & MI_PAGE_FLAG_IN_FULL) != 0; }
static inline bool mi_page_has_aligned(const mi_page_t* page) { return (mi_page_flags(page) & MI_PAGE_FLAG_HAS_ALIGNED) != 0; }
// Only the owner changes its pages' flags (relaxed: other threads compare the word with their own
// id, which never matches whatever the flags are).
static inline void mi_page_set_flag(mi_page_t* page, uint8_t flag, bool on) {
  uintptr_t w = mi_atomic_load_relaxed(&page->xowner);
  mi_atomic_store_relaxed(&page->xowner, (on ? (w | flag) : (w & ~(uintptr_t)flag)));
}
static inline void mi_page_clear_flags(mi_page_t* page) {
  mi_atomic_store_relaxed(&page->xowner, mi_atomic_load_relaxed(&page->xowner) & ~MI_PAGE_FLAGS_MASK);
}
// The thread taking (or dropping, owner 0) the segment; the flags stay.
static inline void mi_page_set_owner(mi_page_t* page, uintptr_t thread_id) {
  mi_assert_internal((thread_id & MI_PAGE_FLAGS_MASK) == 0);
  mi_atomic_store_relaxed(&page->xowner, thread_id | (mi_atomic_load_relaxed(&page->xowner) & MI_PAGE_FLAGS_MASK));
}
// free()'s test: the calling thread owns the page, which is not in the full queue and has no
// aligned (interior) blocks.
static inline bool mi_page_is_mine_plain(const mi_page_t* page, uintptr_t thread_id) {
  return mi_atomic_load_relaxed(&((mi_page_t*)page)->xowner) == thread_id;
}
static inline mi_heap_t* mi_page_heap(const mi_page_t* page) {
  return (mi_heap_t*)mi_atomic_load_relaxed(&((mi_page_t*)page)->xheap);
}
static inline void mi_page_set_heap(mi_page_t* page, mi_heap_t* heap) {
  mi_atomic_store_release(&page->xheap, (uintptr_t)heap);
}
// The thread-free word (types.h): head offset | count | delayed state.
static inline mi_delayed_t mi_tf_delayed(uint64_t tf) { return (mi_delayed_t)(tf & 3); }
static inline uint32_t mi_tf_count(uint64_t tf) { return (uint32_t)(tf >> 2) & 0x3FFFFFFFu; }
static inline bool mi_tf_is_empty(uint64_t tf) { return (tf >> 32) == 0; }
static inline uint64_t mi_tf_with_delayed(uint64_t tf, mi_delayed_t delayed) { return (tf & ~(uint64_t)3) | (uint64_t)delayed; }
static inline uint64_t mi_tf_empty(mi_delayed_t delayed) { return (uint64_t)delayed; }
// The head is kept as an offset from the page's segment (which the descriptor's own address gives):
// a remote free must not read the descriptor's first line, which the owner writes on every malloc.
// Blocks of ordinary segments lie within 4 MiB of the start; only the one block of a huge segment
// aligned beyond 16 GiB does not, and it is stored as MI_TF_FAR (its page's start).
#define MI_TF_FAR  ((uint64_t)UINT32_MAX)
static inline mi_block_t* mi_tf_head(const mi_page_t* page, uint64_t tf) {
  uint64_t slot = tf >> 32;
  if (slot == 0) return NULL;
  if (mi_unlikely(slot == MI_TF_FAR)) return (mi_block_t*)page->page_start;
  return (mi_block_t*)((uintptr_t)_mi_page_segment(page) + ((uintptr_t)(slot - 1) << 2));
}
// The word after pushing `block` on the list `tf` (block's link already points at the old head).
static inline uint64_t mi_tf_push(const mi_page_t* page, uint64_t tf, const mi_block_t* block) {
  uint64_t slot = (((uintptr_t)block - (uintptr_t)_mi_page_segment(page)) >> 2) + 1;   // blocks are 4-byte aligned
  if (mi_unlikely(slot >= MI_TF_FAR)) slot = MI_TF_FAR;
  return (slot << 32) | ((uint64_t)((mi_tf_count(tf) + 1) & 0x3FFFFFFFu) << 2) | (tf & 3);
}
static inline bool mi_page_has_thread_free(const mi_page_t* page) {
  return !mi_tf_is_empty(mi_atomic_load_relaxed(&((mi_page_t*)page)->xthread_free));
}
// An empty `free` list becomes `list` (the owner's local_free or other threads' frees): blocks that
// were in use, so not zero; a refill also ends the free path's run of "every block live" exhaustions.
static inline void mi_page_refill(mi_page_t* page, mi_block_t* list) {
  page->free = list;
  page->is_zero_init = false;
  page->free_exhausted = 0;
}
static inline bool mi_page_all_free(const mi_page_t* page) { return page->used == 0; }
static inline bool mi_page_immediate_available(const mi_page_t* page) { return page->free != NULL; }
static inline size_t mi_page_block_size(const mi_page_t* page) { return page->block_size; }
static inline bool mi_page_is_huge(const mi_page_t* page) { return _mi_page_segment(page)->page_kind == MI_PAGE_HUGE; }

/* ---- free-list links: the one place a secure build encodes them ---- */
static inline mi_block_t* mi_block_next(const mi_page_t* page, const mi_block_t* block) {
  (void)page; return block->next;
}
static inline void mi_block_set_next(const mi_page_t* page, mi_block_t* block, const mi_block_t* next) {
  (void)page; block->next = (mi_block_t*)next;
}



/* The calling thread's default heap, set up if the thread has not allocated yet. */
static inline mi_heap_t* mi_prim_get_default_heap_init(void) {
  mi_heap_t* heap = _mi_heap_default;
  if (mi_unlikely(!mi_heap_is_initialized(heap))) heap = _mi_heap_init_thread();
  return heap;
}
#endif
