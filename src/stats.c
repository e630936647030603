/* ----------------------------------------------------------------------------
  mimic: mimalloc-compatible allocator (MIT license, see LICENSE).

  src/stats.c: the process-wide statistics record `_mi_stats_main`, printing it
  (mi_stats_print_out), the public record and JSON (mi_stats_get,
  mi_stats_get_json), and mi_process_info.

  Statistics are process-wide: every thread updates the same atomic counters
  (on slow paths only, see include/mimic/stats.h), except the page counts
  of the slow path (pages, page_searches, pages_extended, pages_retired),
  which each thread batches (MI_STATS_BATCH) and
  adds at thread exit, every 256 events, and before it reads the record
  itself (mi_stats_merge does only that). mi_thread_stats_print_out prints
  the process-wide numbers.
---------------------------------------------------------------------------- */
#include "mimic/internal.h"
#include "mimalloc-stats.h"

#include <stdarg.h>
#include <string.h>    /* memset, memcpy */

mi_stats_internal_t _mi_stats_main;                 /* zero-initialised */

static mi_atomic(int64_t) mi_stats_start_ms;        /* clock at process start; 0: not yet known */

void _mi_stats_init(void) {
  int64_t expected = 0;
  const int64_t now = _mi_prim_clock_now();
  (void)mi_atomic_cas_strong_relaxed(&mi_stats_start_ms, &expected, (now == 0 ? 1 : now));
}

static int64_t mi_stats_elapsed_ms(void) {
  if (mi_atomic_load_relaxed(&mi_stats_start_ms) == 0) _mi_stats_init();   /* used before process init */
  const int64_t elapsed = _mi_prim_clock_now() - mi_atomic_load_relaxed(&mi_stats_start_ms);
  return (elapsed < 0 ? 0 : elapsed);
}

/* ----------------------------------------------------------------------------
  Snapshot, reset, merge
---------------------------------------------------------------------------- */

/* Add a thread's batched slow-path counts to the record (called by that thread only). */
void _mi_stats_batch_flush(mi_stats_batch_t* b) {
  if (b->page_searches != 0) _mi_stat_counter_increase(&_mi_stats_main.page_searches, (size_t)b->page_searches);
  if (b->pages_extended != 0) _mi_stat_counter_increase(&_mi_stats_main.pages_extended, (size_t)b->pages_extended);
  if (b->pages_retired != 0) _mi_stat_counter_increase(&_mi_stats_main.pages_retired, (size_t)b->pages_retired);
  if (b->pages_taken != 0) atomic_fetch_add_explicit(&_mi_stats_main.pages.total, b->pages_taken, memory_order_relaxed);
  if (b->pages_change != 0) _mi_stat_adjust_current(&_mi_stats_main.pages, b->pages_change);
  b->page_searches = b->pages_extended = b->pages_retired = b->pages_taken = b->pages_change = 0;
  b->events = 0;
}

/* The calling thread's batch goes in before it reads (or resets) the record. */
static void mi_stats_flush_own(void) {
  mi_heap_t* heap = mi_prim_get_default_heap();
  if (mi_heap_is_initialized(heap) && heap->tld != NULL) _mi_stats_batch_flush(&heap->tld->stats);
}

/* Copy the atomic record into a full public record (each value is read
   atomically; the record as a whole is not a single instant). */
static mi_decl_cold void mi_stats_snapshot(mi_stats_t* st) {
  mi_stats_flush_own();
  memset(st, 0, sizeof(*st));
  st->size = sizeof(*st);
  st->version = MI_STAT_VERSION;
  #define MI_STATS_COPY_COUNT_(name) \
    st->name.total   = mi_atomic_load_relaxed(&_mi_stats_main.name.total); \
    st->name.peak    = mi_atomic_load_relaxed(&_mi_stats_main.name.peak); \
    st->name.current = mi_atomic_load_relaxed(&_mi_stats_main.name.current);
  #define MI_STATS_COPY_COUNTER_(name) \
    st->name.total   = mi_atomic_load_relaxed(&_mi_stats_main.name.total);
  MI_STAT_FIELDS(MI_STATS_COPY_COUNT_, MI_STATS_COPY_COUNTER_)
  #undef MI_STATS_COPY_COUNT_
  #undef MI_STATS_COPY_COUNTER_
}

/* Start counting afresh: totals and peaks restart from the current values
   (which describe live memory and cannot be zeroed), event counters restart at 0.
   The process start time (elapsed) is not reset. */
void mi_stats_reset(void) mi_attr_noexcept {
  mi_stats_flush_own();
  #define MI_STATS_RESET_COUNT_(name) { \
    const int64_t current = mi_atomic_load_relaxed(&_mi_stats_main.name.current); \
    mi_atomic_store_relaxed(&_mi_stats_main.name.total, current); \
    mi_atomic_store_relaxed(&_mi_stats_main.name.peak, current); }
  #define MI_STATS_RESET_COUNTER_(name) \
    mi_atomic_store_relaxed(&_mi_stats_main.name.total, (int64_t)0);
  MI_STAT_FIELDS(MI_STATS_RESET_COUNT_, MI_STATS_RESET_COUNTER_)
  #undef MI_STATS_RESET_COUNT_
  #undef MI_STATS_RESET_COUNTER_
}

/* Statistics are process-wide and updated in place, except for the calling thread's batch of
   slow-path event counts (see MI_STATS_BATCH), which this adds now. */
void mi_stats_merge(void) mi_attr_noexcept {
  mi_stats_flush_own();
}

/* ----------------------------------------------------------------------------
  Process information
---------------------------------------------------------------------------- */
static void mi_stats_process_info(mi_process_info_t* pinfo) {
  memset(pinfo, 0, sizeof(*pinfo));
  _mi_prim_process_info(pinfo);
  pinfo->elapsed = mi_stats_elapsed_ms();
  if (pinfo->current_commit == 0 && pinfo->peak_commit == 0) {
    const int64_t current = mi_atomic_load_relaxed(&_mi_stats_main.committed.current);
    const int64_t peak    = mi_atomic_load_relaxed(&_mi_stats_main.committed.peak);
    pinfo->current_commit = (current > 0 ? (size_t)current : 0);
    pinfo->peak_commit    = (peak > 0 ? (size_t)peak : 0);
  }
}

static size_t mi_stats_ms_to_size(int64_t ms) {
  return (ms > 0 ? (size_t)ms : 0);
}

void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs,
                     size_t* current_rss, size_t* peak_rss,
                     size_t* current_commit, size_t* peak_commit, size_t* page_faults) mi_attr_noexcept {
  mi_process_info_t pinfo;
  mi_stats_process_info(&pinfo);
  if (elapsed_msecs != NULL)  *elapsed_msecs  = mi_stats_ms_to_size(pinfo.elapsed);
  if (user_msecs != NULL)     *user_msecs     = mi_stats_ms_to_size(pinfo.utime);
  if (system_msecs != NULL)   *system_msecs   = mi_stats_ms_to_size(pinfo.stime);
  if (current_rss != NULL)    *current_rss    = pinfo.current_rss;
  if (peak_rss != NULL)       *peak_rss       = pinfo.peak_rss;
  if (current_commit != NULL) *current_commit = pinfo.current_commit;
  if (peak_commit != NULL)    *peak_commit    = pinfo.peak_commit;
  if (page_faults != NULL)    *page_faults    = pinfo.page_faults;
}

/* ----------------------------------------------------------------------------
  Printing
---------------------------------------------------------------------------- */
#define MI_STATS_LINE_MAX 160

/* "123 B", "1.5 KiB", ... "-2.0 GiB" (one decimal, truncated) */
static void mi_stats_fmt_bytes(char* buf, size_t size, int64_t value) {
  static const char* const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  const bool negative = (value < 0);
  const uint64_t mag = (negative ? 0 - (uint64_t)value : (uint64_t)value);
  unsigned u = 0;
  while (u + 1 < sizeof(units)/sizeof(units[0]) && (mag >> (10*(u+1))) != 0) u++;
  if (u == 0) {
    _mi_snprintf(buf, size, "%s%llu B", (negative ? "-" : ""), (unsigned long long)mag);
  }
  else {
    const unsigned shift = 10*u;
    const uint64_t whole = mag >> shift;
    const uint64_t tenth = ((mag & (((uint64_t)1 << shift) - 1)) * 10) >> shift;
    _mi_snprintf(buf, size, "%s%llu.%llu %s", (negative ? "-" : ""),
                 (unsigned long long)whole, (unsigned long long)tenth, units[u]);
  }
}

static void mi_stats_fmt_num(char* buf, size_t size, int64_t value) {
  _mi_snprintf(buf, size, "%lld", (long long)value);
}

typedef void (mi_stats_fmt_fun)(char* buf, size_t size, int64_t value);

static void mi_stats_line(mi_output_fun* out, void* arg, const char* fmt, ...) {
  char line[MI_STATS_LINE_MAX];
  va_list args;
  va_start(args, fmt);
  _mi_vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  _mi_fputs(out, arg, "", line);
}

static void mi_stats_print_count(mi_output_fun* out, void* arg, const char* name,
                                 const mi_stat_count_t* c, mi_stats_fmt_fun* fmt) {
  char peak[32], total[32], current[32];
  fmt(peak, sizeof(peak), c->peak);
  fmt(total, sizeof(total), c->total);
  fmt(current, sizeof(current), c->current);
  mi_stats_line(out, arg, "  %-20s %12s %12s %12s\n", name, peak, total, current);
}

static void mi_stats_print_counter(mi_output_fun* out, void* arg, const char* name,
                                   const mi_stat_counter_t* c, mi_stats_fmt_fun* fmt) {
  char total[32];
  fmt(total, sizeof(total), c->total);
  mi_stats_line(out, arg, "  %-20s %12s %12s\n", name, "", total);
}

static void mi_stats_fmt_ms(char* buf, size_t size, int64_t ms) {
  if (ms < 0) ms = 0;
  _mi_snprintf(buf, size, "%lld.%03lld s", (long long)(ms / 1000), (long long)(ms % 1000));
}

mi_decl_cold void mi_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept {
  mi_stats_t st;
  mi_stats_snapshot(&st);

  mi_stats_line(out, arg, "mimic %d.%d.%d statistics (process-wide)\n",
                MIMIC_VERSION / 10000, (MIMIC_VERSION / 100) % 100, MIMIC_VERSION % 100);
  mi_stats_line(out, arg, "  %-20s %12s %12s %12s\n", "", "peak", "total", "current");
  mi_stats_line(out, arg, "memory\n");
  mi_stats_print_count(out, arg, "reserved",  &st.reserved,  &mi_stats_fmt_bytes);
  mi_stats_print_count(out, arg, "committed", &st.committed, &mi_stats_fmt_bytes);
  mi_stats_print_count(out, arg, "reset",     &st.reset,     &mi_stats_fmt_bytes);
  mi_stats_print_count(out, arg, "purged",    &st.purged,    &mi_stats_fmt_bytes);
  mi_stats_print_count(out, arg, "huge",      &st.huge,      &mi_stats_fmt_bytes);
  mi_stats_print_count(out, arg, "large",     &st.large,     &mi_stats_fmt_bytes);
  mi_stats_print_counter(out, arg, "huge allocs",  &st.huge_count,  &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "large allocs", &st.large_count, &mi_stats_fmt_num);
  mi_stats_line(out, arg, "segments and pages\n");
  mi_stats_print_count(out, arg, "segments",           &st.segments,           &mi_stats_fmt_num);
  mi_stats_print_count(out, arg, "segments abandoned", &st.segments_abandoned, &mi_stats_fmt_num);
  mi_stats_print_count(out, arg, "segments cached",    &st.segments_cached,    &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "segments reclaimed", &st.segments_reclaimed, &mi_stats_fmt_num);
  mi_stats_print_count(out, arg, "pages",              &st.pages,              &mi_stats_fmt_num);
  mi_stats_print_count(out, arg, "pages abandoned",    &st.pages_abandoned,    &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "pages extended",  &st.pages_extended,  &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "pages retired",   &st.pages_retired,   &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "pages reclaimed", &st.pages_reclaimed, &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "page searches",   &st.page_searches,   &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "delayed frees",   &st.delayed_frees,   &mi_stats_fmt_num);
  mi_stats_line(out, arg, "threads and heaps\n");
  mi_stats_print_count(out, arg, "threads", &st.threads, &mi_stats_fmt_num);
  mi_stats_print_count(out, arg, "heaps",   &st.heaps,   &mi_stats_fmt_num);
  mi_stats_line(out, arg, "OS calls\n");
  mi_stats_print_counter(out, arg, "mmap",     &st.mmap_calls,     &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "munmap",   &st.munmap_calls,   &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "commit",   &st.commit_calls,   &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "decommit", &st.decommit_calls, &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "reset",    &st.reset_calls,    &mi_stats_fmt_num);
  mi_stats_print_counter(out, arg, "purge",    &st.purge_calls,    &mi_stats_fmt_num);

  mi_process_info_t pinfo;
  mi_stats_process_info(&pinfo);
  char elapsed[32], user[32], sys[32], rss[32], peak_rss[32], commit[32], peak_commit[32];
  mi_stats_fmt_ms(elapsed, sizeof(elapsed), pinfo.elapsed);
  mi_stats_fmt_ms(user, sizeof(user), pinfo.utime);
  mi_stats_fmt_ms(sys, sizeof(sys), pinfo.stime);
  mi_stats_fmt_bytes(rss, sizeof(rss), (int64_t)pinfo.current_rss);
  mi_stats_fmt_bytes(peak_rss, sizeof(peak_rss), (int64_t)pinfo.peak_rss);
  mi_stats_fmt_bytes(commit, sizeof(commit), (int64_t)pinfo.current_commit);
  mi_stats_fmt_bytes(peak_commit, sizeof(peak_commit), (int64_t)pinfo.peak_commit);
  mi_stats_line(out, arg, "process\n");
  mi_stats_line(out, arg, "  elapsed: %s, user: %s, system: %s, page faults: %zu\n",
                elapsed, user, sys, pinfo.page_faults);
  mi_stats_line(out, arg, "  rss: %s (peak %s), commit: %s (peak %s)\n",
                rss, peak_rss, commit, peak_commit);
}

/* `out` is a mi_output_fun* passed as void* (mimalloc's historical signature). */
void mi_stats_print(void* out) mi_attr_noexcept {
  mi_output_fun* fun;
  _Static_assert(sizeof(fun) == sizeof(out), "function and object pointers must have the same size");
  memcpy(&fun, &out, sizeof(fun));   /* a cast from void* to a function pointer is not ISO C */
  mi_stats_print_out(fun, NULL);
}

/* Statistics are process-wide: this prints the same numbers as mi_stats_print_out. */
void mi_thread_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept {
  mi_stats_print_out(out, arg);
}

/* ----------------------------------------------------------------------------
  Public record and JSON
---------------------------------------------------------------------------- */

/* Fills at most stats->size bytes (the caller sets size = sizeof(mi_stats_t));
   `size` keeps the caller's value and `version` becomes MI_STAT_VERSION. Bytes
   beyond our record (a newer, larger caller record) are zeroed. */
bool mi_stats_get(mi_stats_t* stats) mi_attr_noexcept {
  if (stats == NULL) return false;
  const size_t size = stats->size;
  if (size < offsetof(mi_stats_t, version) + sizeof(stats->version)) return false;
  mi_stats_t st;
  mi_stats_snapshot(&st);
  st.size = size;
  const size_t n = (size < sizeof(st) ? size : sizeof(st));
  memcpy(stats, &st, n);
  if (size > sizeof(st)) memset((char*)stats + sizeof(st), 0, size - sizeof(st));
  return true;
}

typedef struct mi_json_out_s {
  char*  buf;
  size_t size;
  size_t len;    /* length needed so far (may exceed size) */
} mi_json_out_t;

static void mi_json_printf(mi_json_out_t* j, const char* fmt, ...) {
  char* const dst = (j->buf != NULL && j->len < j->size ? j->buf + j->len : NULL);
  const size_t room = (dst != NULL ? j->size - j->len : 0);
  va_list args;
  va_start(args, fmt);
  const int n = _mi_vsnprintf(dst, room, fmt, args);
  va_end(args);
  if (n > 0) j->len += (size_t)n;
}

static mi_decl_cold void mi_json_write(mi_json_out_t* j, const mi_stats_t* st, const mi_process_info_t* pinfo) {
  mi_json_printf(j, "{\n  \"version\": %d,\n  \"mimic_version\": %d,\n  \"mimalloc_version\": %d,\n",
                 (int)MI_STAT_VERSION, (int)MIMIC_VERSION, (int)MI_MALLOC_VERSION);
  mi_json_printf(j, "  \"process\": { \"elapsed_msecs\": %lld, \"user_msecs\": %lld, \"system_msecs\": %lld, "
                    "\"page_faults\": %zu, \"rss_current\": %zu, \"rss_peak\": %zu, "
                    "\"commit_current\": %zu, \"commit_peak\": %zu }",
                 (long long)pinfo->elapsed, (long long)pinfo->utime, (long long)pinfo->stime,
                 pinfo->page_faults, pinfo->current_rss, pinfo->peak_rss,
                 pinfo->current_commit, pinfo->peak_commit);
  #define MI_JSON_COUNT_(name) \
    mi_json_printf(j, ",\n  \"" #name "\": { \"total\": %lld, \"peak\": %lld, \"current\": %lld }", \
                   (long long)st->name.total, (long long)st->name.peak, (long long)st->name.current);
  #define MI_JSON_COUNTER_(name) \
    mi_json_printf(j, ",\n  \"" #name "\": { \"total\": %lld }", (long long)st->name.total);
  MI_STAT_FIELDS(MI_JSON_COUNT_, MI_JSON_COUNTER_)
  #undef MI_JSON_COUNT_
  #undef MI_JSON_COUNTER_
  mi_json_printf(j, "\n}\n");
}

/* Writes the statistics as a JSON object into buf (returns buf), or returns NULL
   if buf_size is too small. With buf == NULL the buffer is allocated with
   mi_malloc (at least buf_size bytes) and must be freed with mi_free. */
char* mi_stats_get_json(size_t buf_size, char* buf) mi_attr_noexcept {
  mi_stats_t st;
  mi_stats_snapshot(&st);
  mi_process_info_t pinfo;
  mi_stats_process_info(&pinfo);

  if (buf != NULL) {
    if (buf_size == 0) return NULL;
    mi_json_out_t j = { buf, buf_size, 0 };
    mi_json_write(&j, &st, &pinfo);
    return (j.len < buf_size ? buf : NULL);
  }

  mi_json_out_t measure = { NULL, 0, 0 };
  mi_json_write(&measure, &st, &pinfo);
  const size_t size = (measure.len + 1 > buf_size ? measure.len + 1 : buf_size);
  char* const result = (char*)mi_malloc(size);
  if (result == NULL) return NULL;
  mi_json_out_t j = { result, size, 0 };
  mi_json_write(&j, &st, &pinfo);   /* same snapshot: same length */
  return result;
}

#undef MI_STATS_LINE_MAX
