/* ----------------------------------------------------------------------------
  mimic: mimalloc-compatible allocator (MIT license, see LICENSE).

  include/mimalloc-stats.h: the public statistics record filled by mi_stats_get
  (declared in mimic.h together with mi_stats_get_json).

  The record starts with `size` and `version`; set `size = sizeof(mi_stats_t)`
  (or use the MI_STATS_INIT helper) before calling mi_stats_get, which fills at
  most `size` bytes. The counters after the header are mimic's own: the layout
  is NOT mimalloc's field-for-field, so read fields by name, never by offset.
---------------------------------------------------------------------------- */
#pragma once
#ifndef MIMIC_MIMALLOC_STATS_H
#define MIMIC_MIMALLOC_STATS_H

#include "mimic.h"

#define MI_STAT_VERSION   4

#ifdef __cplusplus
extern "C" {
#endif

/* A quantity that goes up and down (bytes or objects). */
typedef struct mi_stat_count_s {
  int64_t total;     /* sum of all increases since start (or the last mi_stats_reset) */
  int64_t peak;      /* highest value `current` reached */
  int64_t current;   /* value now */
} mi_stat_count_t;

/* An event counter. */
typedef struct mi_stat_counter_s {
  int64_t total;     /* number of events (or bytes, for byte counters) */
} mi_stat_counter_t;

/* The list of statistics, as an X-macro: MI_STAT_FIELDS(COUNT, COUNTER) expands
   COUNT(name) for each mi_stat_count_t and COUNTER(name) for each mi_stat_counter_t,
   in record order. */
#define MI_STAT_FIELDS(COUNT, COUNTER) \
  COUNT(reserved)            /* bytes of address space reserved from the OS */ \
  COUNT(committed)           /* bytes of reserved memory that are committed */ \
  COUNT(reset)               /* bytes reset (contents may be dropped, still committed) */ \
  COUNT(purged)              /* bytes purged (decommitted or reset after a delay) */ \
  COUNT(segments)            /* segments in use */ \
  COUNT(segments_abandoned)  /* segments of exited threads, not yet reclaimed */ \
  COUNT(segments_cached)     /* empty segments kept in the cache */ \
  COUNT(pages)               /* pages in use */ \
  COUNT(pages_abandoned)     /* pages in abandoned segments */ \
  COUNT(threads)             /* threads with an initialised heap */ \
  COUNT(heaps)               /* heaps (backing and mi_heap_new) */ \
  COUNT(huge)                /* bytes in huge blocks (dedicated segments) */ \
  COUNT(large)               /* bytes in large blocks (one block per page) */ \
  COUNTER(mmap_calls)        /* OS reservations (mmap) */ \
  COUNTER(munmap_calls)      /* OS releases (munmap) */ \
  COUNTER(commit_calls)      /* commit calls */ \
  COUNTER(decommit_calls)    /* decommit calls */ \
  COUNTER(reset_calls)       /* reset calls */ \
  COUNTER(purge_calls)       /* purge calls */ \
  COUNTER(page_searches)     /* pages visited when searching for a free block */ \
  COUNTER(pages_extended)    /* free-list extensions of a page */ \
  COUNTER(pages_retired)     /* empty pages returned to their segment */ \
  COUNTER(pages_reclaimed)   /* full pages moved back when blocks were freed */ \
  COUNTER(segments_reclaimed)/* abandoned segments taken over by another thread */ \
  COUNTER(delayed_frees)     /* cross-thread frees into full pages */ \
  COUNTER(huge_count)        /* huge allocations */ \
  COUNTER(large_count)       /* large allocations */

#define MI_STAT_FIELD_COUNT_(name)    mi_stat_count_t name;
#define MI_STAT_FIELD_COUNTER_(name)  mi_stat_counter_t name;

struct mi_stats_s {
  size_t size;       /* in: sizeof(mi_stats_t) of the caller */
  size_t version;    /* out: MI_STAT_VERSION */
  MI_STAT_FIELDS(MI_STAT_FIELD_COUNT_, MI_STAT_FIELD_COUNTER_)
};

#undef MI_STAT_FIELD_COUNT_
#undef MI_STAT_FIELD_COUNTER_

/* Usage: mi_stats_t st; MI_STATS_INIT(&st); if (mi_stats_get(&st)) ... */
#define MI_STATS_INIT(st)  do { (st)->size = sizeof(mi_stats_t); (st)->version = MI_STAT_VERSION; } while (0)

#ifdef __cplusplus
}
#endif

#endif /* MIMIC_MIMALLOC_STATS_H */
