/* ----------------------------------------------------------------------------
  mimic: mimalloc-compatible allocator (MIT license, see LICENSE).

  include/mimic/stats.h: process-wide statistics (internal; defined in src/stats.c).

  The set of statistics is the public X-macro MI_STAT_FIELDS in <mimalloc-stats.h>,
  so the internal record, the public mi_stats_t, the printed table and the JSON
  always agree on names. Each field of `_mi_stats_main` is atomic: a count is
  {total, peak, current}, a counter is {total}.

  Updates happen on slow paths only (OS calls, page and segment transitions), so
  they use relaxed atomic read-modify-write: counts never lose updates, and TSan
  sees no race. Readers get a value that may be slightly stale, never torn.
  This header uses raw <stdatomic.h> memory orders on purpose (all relaxed);
  the rest of the code uses the named operations of mimic/atomic.h.

  Usage from the core:
    _mi_stat_increase(&_mi_stats_main.committed, size);
    _mi_stat_decrease(&_mi_stats_main.committed, size);
    _mi_stat_counter_increase(&_mi_stats_main.mmap_calls, 1);
---------------------------------------------------------------------------- */
#pragma once
#ifndef MIMIC_STATS_H
#define MIMIC_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "../mimalloc-stats.h"   /* MI_STAT_FIELDS, public mi_stat_count_t / mi_stats_t */

/* Internal, atomic versions of the public mi_stat_count_t / mi_stat_counter_t
   (the public names belong to <mimalloc-stats.h>, which holds plain int64_t). */
typedef struct mi_stat_count_atomic_s {
  _Atomic(int64_t) total;     /* sum of all increases */
  _Atomic(int64_t) peak;      /* highest `current` seen */
  _Atomic(int64_t) current;   /* value now */
} mi_stat_count_atomic_t;

typedef struct mi_stat_counter_atomic_s {
  _Atomic(int64_t) total;
} mi_stat_counter_atomic_t;

#define MI_STAT_INTERNAL_COUNT_(name)    mi_stat_count_atomic_t name;
#define MI_STAT_INTERNAL_COUNTER_(name)  mi_stat_counter_atomic_t name;

/* Fields (see MI_STAT_FIELDS in <mimalloc-stats.h> for their meaning):
   counts:   reserved, committed, reset, purged, segments, segments_abandoned,
             segments_cached, pages, pages_abandoned, threads, heaps, huge, large
   counters: mmap_calls, munmap_calls, commit_calls, decommit_calls, reset_calls,
             purge_calls, page_searches, pages_extended, pages_retired,
             pages_reclaimed, segments_reclaimed, delayed_frees, huge_count, large_count */
typedef struct mi_stats_internal_s {
  MI_STAT_FIELDS(MI_STAT_INTERNAL_COUNT_, MI_STAT_INTERNAL_COUNTER_)
} mi_stats_internal_t;

#undef MI_STAT_INTERNAL_COUNT_
#undef MI_STAT_INTERNAL_COUNTER_

/* The process-wide statistics (src/stats.c). */
extern mi_stats_internal_t _mi_stats_main;

/* Event counters the page slow path bumps on nearly every call, batched per thread (in its
   mi_tld_t): one process-wide atomic add per event from every thread made two threads' slow
   paths fight over one cache line (a tenth of sh6bench's time). A batch reaches the record every
   MI_STATS_BATCH events, at thread exit, and when its own thread reads the statistics; another
   live thread's last few events may not be in a snapshot yet. */
#define MI_STATS_BATCH 256

typedef struct mi_stats_batch_s {
  int64_t  page_searches;
  int64_t  pages_extended;
  int64_t  pages_retired;
  int64_t  pages_taken;     /* `pages` count: increases (its total) ... */
  int64_t  pages_change;    /* ... and the net change of its current value (its peak is */
                            /*     the highest current value seen at a flush) */
  uint32_t events;          /* additions since the last flush */
} mi_stats_batch_t;

void _mi_stats_batch_flush(mi_stats_batch_t* b);

static inline void _mi_stat_batch_add(mi_stats_batch_t* b, int64_t* field, int64_t n) {
  *field += n;
  if (++b->events >= MI_STATS_BATCH) _mi_stats_batch_flush(b);
}

static inline void _mi_stat_batch_page_taken(mi_stats_batch_t* b) {
  b->pages_taken++;
  _mi_stat_batch_add(b, &b->pages_change, 1);
}

/* src/stats.c: record the process start time (called once at process init). */
void _mi_stats_init(void);

/* Move a count's current value by `delta` (either sign); peak follows, total is not touched. */
static inline void _mi_stat_adjust_current(mi_stat_count_atomic_t* s, int64_t delta) {
  const int64_t now = atomic_fetch_add_explicit(&s->current, delta, memory_order_relaxed) + delta;
  int64_t peak = atomic_load_explicit(&s->peak, memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&s->peak, &peak, now,
                                                memory_order_relaxed, memory_order_relaxed)) {
    /* `peak` was reloaded by the failed exchange; retry while we are still higher */
  }
}

/* Add `n` to a count: its total, and its current value (peak follows). */
static inline void _mi_stat_increase(mi_stat_count_atomic_t* s, size_t n) {
  atomic_fetch_add_explicit(&s->total, (int64_t)n, memory_order_relaxed);
  _mi_stat_adjust_current(s, (int64_t)n);
}

/* Subtract `n` from a count's current value (total and peak are unchanged). */
static inline void _mi_stat_decrease(mi_stat_count_atomic_t* s, size_t n) {
  atomic_fetch_sub_explicit(&s->current, (int64_t)n, memory_order_relaxed);
}

/* Add `n` to an event counter. */
static inline void _mi_stat_counter_increase(mi_stat_counter_atomic_t* s, size_t n) {
  atomic_fetch_add_explicit(&s->total, (int64_t)n, memory_order_relaxed);
}

#endif /* MIMIC_STATS_H */
