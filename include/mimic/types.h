/* mimic: data structures and every build knob, with its meaning.

   Memory is organised in three levels (docs/architecture.md has the picture):
     segment  4 MiB (64-bit), aligned to its own size, owned by one thread; holds pages of one kind
     page     a run of memory inside a segment holding blocks of a single size class
     block    what malloc returns
   ptr -> segment is a mask, ptr -> page is a shift of the offset within the segment. */
#pragma once
#ifndef MIMIC_TYPES_H
#define MIMIC_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "atomic.h"
#include "prim.h"
#include "stats.h"

/* ---- build knobs ------------------------------------------------------------------------------ */

// MI_DEBUG: 0 none; 1 cheap checks (double free, invalid pointers reported) + asserts;
//           2 internal asserts; 3 expensive invariant checks (full page/queue walks).
#ifndef MI_DEBUG
#define MI_DEBUG 0
#endif
// MI_SECURE: 0 none. Levels 1-5 (guard pages, randomized order, encoded free lists, double-free
// detection, per-page guards) are planned; the helpers they need (mi_block_next/set_next) exist.
#ifndef MI_SECURE
#define MI_SECURE 0
#endif
// MI_STAT: statistics on slow paths only (segments, pages, OS calls); the fast paths carry none.
#ifndef MI_STAT
#define MI_STAT 1
#endif

#if (MI_DEBUG > 0)
#define mi_assert(x)  ((x) ? (void)0 : _mi_assert_fail(#x, __FILE__, __LINE__, __func__))
#else
#define mi_assert(x)  ((void)0)
#endif
#if (MI_DEBUG > 1)
#define mi_assert_internal(x) mi_assert(x)
#else
#define mi_assert_internal(x) ((void)0)
#endif
#if (MI_DEBUG > 2)
#define mi_assert_expensive(x) mi_assert(x)
#else
#define mi_assert_expensive(x) ((void)0)
#endif

#if defined(__GNUC__)
#define mi_likely(x)     __builtin_expect(!!(x), 1)
#define mi_unlikely(x)   __builtin_expect(!!(x), 0)
#define mi_decl_noinline __attribute__((noinline))
#define mi_decl_forceinline inline __attribute__((always_inline))
#define mi_decl_cold     __attribute__((cold, noinline))
#define mi_decl_hidden   __attribute__((visibility("hidden")))
#define mi_decl_cache_align __attribute__((aligned(64)))
#define mi_prefetch_write(p) __builtin_prefetch((p), 1, 3)
#else
#define mi_likely(x) (x)
#define mi_unlikely(x) (x)
#define mi_decl_noinline
#define mi_decl_forceinline inline
#define mi_decl_cold
#define mi_decl_hidden
#define mi_decl_cache_align
#define mi_prefetch_write(p) ((void)(p))
#endif

/* ---- sizes ------------------------------------------------------------------------------------ */

#if UINTPTR_MAX > 0xFFFFFFFFu
#define MI_INTPTR_SHIFT 3
#define MI_SEGMENT_SHIFT 22            // 4 MiB: small enough that a thread with a few blocks of each
                                       // kind stays lean, large enough that headers are 0.2%
#if defined(__x86_64__) || defined(_M_X64)
#define MI_MAX_VABITS 47               // user space of x86-64 (4-level paging; mimic never asks for more)
#else
#define MI_MAX_VABITS 48
#endif
#else
#define MI_INTPTR_SHIFT 2
#define MI_SEGMENT_SHIFT 22
#define MI_MAX_VABITS 32
#endif
#define MI_INTPTR_SIZE        (1 << MI_INTPTR_SHIFT)
#define MI_KiB                ((size_t)1024)
#define MI_MiB                (MI_KiB * MI_KiB)
#define MI_GiB                (MI_MiB * MI_KiB)

#define MI_SEGMENT_SIZE       ((size_t)1 << MI_SEGMENT_SHIFT)
#define MI_SEGMENT_MASK       (MI_SEGMENT_SIZE - 1)

#define MI_SMALL_PAGE_SHIFT   16       // 64 KiB pages for blocks <= 8 KiB (>= 8 blocks a page)
#define MI_MEDIUM_PAGE_SHIFT  19       // 512 KiB pages for blocks <= 256 KiB (>= 2 blocks a page)
#define MI_SMALL_PAGE_SIZE    ((size_t)1 << MI_SMALL_PAGE_SHIFT)
#define MI_MEDIUM_PAGE_SIZE   ((size_t)1 << MI_MEDIUM_PAGE_SHIFT)
#define MI_SMALL_PAGES_PER_SEGMENT  (MI_SEGMENT_SIZE / MI_SMALL_PAGE_SIZE)    // 64
#define MI_MEDIUM_PAGES_PER_SEGMENT (MI_SEGMENT_SIZE / MI_MEDIUM_PAGE_SIZE)   // 8

#define MI_SMALL_OBJ_SIZE_MAX   (8 * MI_KiB)
#define MI_MEDIUM_OBJ_SIZE_MAX  (256 * MI_KiB)
#define MI_LARGE_OBJ_SIZE_MAX   (MI_SEGMENT_SIZE / 2)     // 2 MiB: larger blocks get their own segment
#define MI_LARGE_OBJ_WSIZE_MAX  (MI_LARGE_OBJ_SIZE_MAX / MI_INTPTR_SIZE)

#define MI_MAX_ALIGN_SIZE       16     // every block is at least 16-byte aligned (max_align_t)
#define MI_SMALL_SIZE_MAX_      1024   // sizes served by the direct page table (== MI_SMALL_SIZE_MAX on 64-bit)
#define MI_PAGES_DIRECT         (MI_SMALL_SIZE_MAX_ / MI_MAX_ALIGN_SIZE + 1)   // 65 slots of 16 bytes

// Alignments up to this are served inside normal pages by over-allocation; larger ones get a
// dedicated (huge) segment placed so that the aligned block is where the caller needs it.
#define MI_ALIGNMENT_MAX_IN_PAGE (64 * MI_KiB)

// Size classes: exact 16-byte steps up to 256 B (the alignment contract rules out finer classes),
// then 4 classes per power of two (spacing <= 25%, as mimalloc) up to MI_LARGE_OBJ_SIZE_MAX.
#define MI_BIN_EXACT_MAX        256
#define MI_BIN_EXACT_COUNT      (MI_BIN_EXACT_MAX / 16)        // bins 1..16
#define MI_BIN_SUB_SHIFT        2                              // 2^2 = 4 bins per doubling above MI_BIN_EXACT_MAX
#define MI_BIN_SUBS             ((size_t)1 << MI_BIN_SUB_SHIFT)
#define MI_BIN_HUGE             (MI_BIN_EXACT_COUNT + 13 * MI_BIN_SUBS + 1)   // bins 1..HUGE-1 are size classes (256 B .. 2 MiB: 13 doublings)
#define MI_BIN_FULL             (MI_BIN_HUGE + 1)              // queue of full pages

// Largest request: anything above PTRDIFF_MAX fails with ENOMEM before any arithmetic can overflow.
#define MI_MAX_ALLOC_SIZE       PTRDIFF_MAX

// A fresh page's free list is built at most this many bytes at a time, so a page with few live
// blocks touches (and commits) little memory.
#define MI_MAX_EXTEND_SIZE      (4 * MI_KiB)

// Empty pages stay in their queue for this many slow-path visits before going back to the segment:
// hysteresis against release/re-acquire churn when one block is allocated and freed in a loop.
#define MI_RETIRE_CYCLES        16
#define MI_RETIRE_STRIDE        4      // ... counted in steps of this many visits (cheaper scans)

/* ---- free lists ------------------------------------------------------------------------------- */

typedef struct mi_block_s { struct mi_block_s* next; } mi_block_t;   // next is encoded when MI_SECURE >= 3

// A page's `xthread_free` word (64 bits on every target):
//   bits 32..63  head of the list: (block offset from the segment start) / 4 + 1, 0 for an empty list
//                (UINT32_MAX: the page's start, for the one block of a huge segment aligned > 16 GiB)
//   bits  2..31  number of blocks on the list, so the owner takes the list without walking it
//                (each link is a cache line another core just wrote: a walk is a chain of misses)
//   bits  0..1   mi_delayed_t below: what a remote free does.
typedef enum mi_delayed_e {
  MI_USE_DELAYED_FREE   = 0,   // page is in the full queue: announce the block on the owner heap's list
  MI_DELAYED_FREEING    = 1,   // a remote thread is announcing right now (owner waits before unlinking)
  MI_NO_DELAYED_FREE    = 2,   // plain push on the page's thread_free list
  MI_NEVER_DELAYED_FREE = 3    // abandoned page / heap being deleted: plain push, never announce
} mi_delayed_t;

typedef enum mi_page_kind_e { MI_PAGE_SMALL, MI_PAGE_MEDIUM, MI_PAGE_LARGE, MI_PAGE_HUGE } mi_page_kind_t;

#define MI_PAGE_FLAG_IN_FULL     0x01
#define MI_PAGE_FLAG_HAS_ALIGNED 0x02
#define MI_PAGE_FLAGS_MASK       ((uintptr_t)0x03)   // thread ids are at least 4-byte aligned

struct mi_heap_s;
struct mi_tld_s;

/* A page. Fields are owned by the owning thread except where marked:
   [imm]    immutable while any block of the page is live: safe for any thread holding a block
   [atomic] read/written by other threads, through mi_atomic_* only */
typedef struct mi_page_s {
  // -- first cache line: the owner's (malloc and free write here; other threads never look) --
  mi_block_t*       free;            // blocks to allocate from
  uint32_t          used;            // live blocks (includes blocks on thread_free not yet collected)
  uint16_t          capacity;        // blocks whose memory has been put on a free list so far
  uint16_t          reserved;        // blocks that fit in the page
  // No bit-fields: adjacent bit-fields are one memory location in C11, and segment_in_use is read
  // by other threads (debug checks, ownership queries) while the owner flips is_zero_init.
  uint8_t           segment_in_use;  // [imm] taken from the segment
  uint8_t           is_zero_init;    // every block on `free` is zero except its link word
  uint8_t           full_visits;     // found exhausted and rotated to the back of its queue once
                                     // (next to is_zero_init: the exhausted free clears both at once)
  uint8_t           is_committed;    // memory is committed (always on overcommit OSes)
  uint8_t           retire_expire;   // > 0: empty, kept around this many more slow-path visits
  uint8_t           heap_tag;        // tag of the heap that owns it (mi_heap_new_ex)
  uint8_t           bin;             // size class queue of the heap the page lives in (MI_BIN_HUGE for huge)
  uint8_t           free_exhausted;  // the owner's last free into an empty list found every block live
                                     // (and did not grow the page); cleared by a refill or extension
  uint32_t          resident;        // bytes at the start of the page area touched since its last purge
                                     // (updated when the page is freed; purges and budgets use it)
  uint32_t          purge_expire;    // free page: when its memory goes back to the OS, on a wrapping
                                     // millisecond clock (segment.c: mi_deadline_after; 0: none)
  mi_block_t*       local_free;      // blocks freed by the owner
  size_t            block_size;      // [imm] bytes per block
  uint8_t*          page_start;      // [imm] first block
  struct mi_page_s* next;            // in the heap's page queue
  // -- second cache line: what other threads' frees read and write, so a producer's mallocs and
  //    a consumer's frees do not pull one line back and forth --
  // [atomic] owning thread's id (0 while abandoned) | flags (IN_FULL, HAS_ALIGNED) in the low 2
  // bits: free() decides "mine, and nothing special" with one compare against the thread id.
  // Written by the owner (flags) or the thread taking the segment; read by any thread.
  mi_atomic(uintptr_t) xowner;
  mi_atomic(uint64_t) xthread_free;  // [atomic] blocks freed by other threads: head | count | mi_delayed_t
  mi_atomic(uintptr_t) xheap;        // [atomic] owning heap (0 while abandoned)
  struct mi_page_s* prev;            // in the heap's page queue
  // To a power of two (128 bytes; 64 on 32-bit): free() then finds a descriptor with one shift, and
  // with the array cache-line aligned each half above is a line of its own.
#if (MI_INTPTR_SIZE == 8)
  uint8_t           padding[32];     // (32-bit: the fields above come to exactly 64 bytes)
#endif
} mi_page_t;
_Static_assert((sizeof(mi_page_t) & (sizeof(mi_page_t) - 1)) == 0, "page descriptors are a power of two in size");
_Static_assert(MI_INTPTR_SIZE != 8 || offsetof(mi_page_t, xowner) == 64, "the shared fields start the second cache line");

typedef enum mi_memkind_e { MI_MEM_NONE, MI_MEM_OS, MI_MEM_STATIC } mi_memkind_t;

typedef struct mi_memid_s {
  void*        base;         // what the OS gave us (may be below the aligned segment start)
  size_t       size;         // bytes the OS gave us
  mi_memkind_t kind;
  bool         is_zero;      // freshly zeroed memory
} mi_memid_t;

/* A segment. The header occupies the start of the segment; page 0 begins after it. */
typedef struct mi_segment_s {
  mi_memid_t        memid;               // [imm] how the memory was obtained
  size_t            segment_size;        // [imm] bytes (MI_SEGMENT_SIZE, or more for huge segments)
  size_t            segment_info_size;   // [imm] header bytes, page 0 starts after it
  uintptr_t         cookie;              // [imm] segment address ^ process key: checked on free in debug
  mi_atomic(uintptr_t) thread_id;        // [atomic] owner; 0 while abandoned
  mi_page_kind_t    page_kind;           // [imm]
  size_t            page_shift;          // [imm] log2 page size (>= log2 segment size for 1-page segments)
  size_t            capacity;            // [imm] number of pages
  size_t            used;                // pages taken (owner, or abandoned-list lock holder)
  size_t            abandoned;           // taken pages whose heap is gone
  size_t            abandoned_visits;    // times a reclaiming thread looked at it and left it
  size_t            abandoned_unpurged;  // free page bytes left unpurged when it was abandoned
  size_t            free_resident;       // free pages with resident memory (owner, or list lock holder)
  mi_atomic(int64_t) abandoned_at;       // [atomic] when it was last abandoned (ms)
  struct mi_segment_s* next;             // in the thread's queue of segments with free pages,
  struct mi_segment_s* prev;             //   or in the global abandoned list
  size_t            page0_offset;        // [imm] where page 0's blocks start (after the header, aligned)
  bool              in_free_queue;
  bool              in_abandoned_list;
  _Alignas(64) mi_page_t pages[1];       // `capacity` entries
} mi_segment_t;

/* ---- heaps ------------------------------------------------------------------------------------ */

typedef struct mi_page_queue_s {
  mi_page_t* first;
  mi_page_t* last;
  size_t     block_size;
} mi_page_queue_t;

typedef struct mi_segment_queue_s {
  mi_segment_t* first;
  mi_segment_t* last;
} mi_segment_queue_t;

// An in-use page whose area holds more resident memory than its blocks reach (it was taken again
// after a use that touched more): the excess goes back to the OS at `deadline` unless the page
// grows into it or is freed first (segment.c, "stale tails").
#define MI_TRIM_SLOTS 16
typedef struct mi_trim_entry_s {
  struct mi_page_s* page;
  uint32_t          deadline;   // wrapping millisecond clock, as page->purge_expire
} mi_trim_entry_t;

// Thread-local data shared by all heaps of a thread.
typedef struct mi_tld_s {
  uintptr_t           thread_id;
  struct mi_heap_s*   heap_backing;     // the thread's main heap (freed last)
  struct mi_heap_s*   heaps;            // all heaps of the thread, linked through heap->next
  mi_segment_queue_t  small_free;       // segments with free small pages
  mi_segment_queue_t  medium_free;      // segments with free medium pages
  size_t              segment_count;
  size_t              pending_purges;   // free pages waiting for their purge delay
  size_t              pending_purge_bytes;   // their resident bytes (reset when a forced pass ran)
  int64_t             purge_check_at;   // next time a page free looks for expired purges
  bool                purge_postpone;   // pages were taken since the last check: the thread is busy
  bool                purge_postponed;  // the last check was skipped for that reason
  bool                purge_idle;       // did not allocate during the last check interval: keeps little unpurged
  bool                abandoning;       // thread exit is handing its pages over (no purge checks meanwhile)
  bool                took_page;        // took a page since a free into an abandoned segment last looked
  int64_t             alloc_busy_until; // took pages recently: frees into abandoned segments do not adopt them
  unsigned long long  heartbeat_seen;   // heartbeat at the last purge check (drives purge_idle)
  unsigned long long  heartbeat;        // counts slow-path visits (drives retire and deferred free)
  bool                recurse;          // guards the deferred-free callback
  mi_stats_batch_t    stats;            // this thread's slow-path event counts not yet in _mi_stats_main
  size_t              trim_count;       // entries in use in `trim`
  mi_trim_entry_t     trim[MI_TRIM_SLOTS];   // this thread's pages with a stale tail to trim
} mi_tld_t;

struct mi_heap_s {
  mi_tld_t*           tld;
  mi_page_t*          pages_free_direct[MI_PAGES_DIRECT];   // fast path: (size+15)/16 -> page
  mi_page_t*          pages_first[MI_BIN_HUGE + 1];         // fast path above 1 KiB: bin -> first page of
                                                            // its queue, or the empty page (never NULL;
                                                            // always the empty page for MI_BIN_HUGE)
  mi_page_queue_t     pages[MI_BIN_FULL + 1];               // per size class, + huge + full
  mi_atomic(uintptr_t) thread_delayed_free;                 // [atomic] blocks of full pages freed remotely
  uintptr_t           thread_id;                            // the only thread allowed to allocate here
  size_t              page_count;
  size_t              page_retired_min;                     // range of bins that may hold retired pages
  size_t              page_retired_max;
  uintptr_t           cookie;
  struct mi_heap_s*   next;                                 // in tld->heaps
  uint8_t             tag;
  bool                allow_destroy;
  bool                no_reclaim;
  int                 arena_id;
};

typedef struct mi_heap_s mi_heap_t;

#endif
