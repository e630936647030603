/* test-options.c -- options API, environment variables, output/error callbacks, stats,
 * process info.
 *
 *   test-options            API checks (no MIMIC_/MIMALLOC_ variables may be set)
 *   test-options env-a      expects (CTest ENVIRONMENT): mimalloc_max_errors=7
 *                           MIMIC_MAX_WARNINGS=9 MIMALLOC_ARENA_RESERVE=64M MiMaLLoC_Os_Tag=123
 *                           MIMALLOC_RESET_DELAY=25 (legacy name of purge_delay)
 *                           MIMALLOC_GUARDED_PRECISE=YES MIMIC_VERBOSE=1
 *   test-options env-b      expects: MIMIC_ARENA_RESERVE=2GiB mimalloc_show_stats=on
 *                           MIMALLOC_MAX_ERRORS=abc (invalid: default 32 kept)
 *                           MIMALLOC_GUARDED_PRECISE=off MIMALLOC_PURGE_DELAY=-1
 *   test-options env-c      expects: MIMALLOC_ARENA_RESERVE=300000 (bytes, rounded up to KiB)
 *                           MIMIC_Max_Warnings=11 MIMALLOC_PURGE_DELAY=0
 *                           MIMALLOC_GUARDED_PRECISE= (empty value means 1)
 */
#include "testutil.h"

#include <ctype.h>

#include "mimalloc.h"
#include "mimalloc-stats.h"

/* ---- output capture ---------------------------------------------------------------- */
static char out_buf[1 << 16];
static size_t out_len;
static int out_calls;
static void capture_out(const char* msg, void* arg) {
  CHECK(arg == (void*)&out_len); /* our arg is passed through */
  out_calls++;
  size_t n = strlen(msg);
  if (out_len + n >= sizeof(out_buf)) n = sizeof(out_buf) - 1 - out_len;
  memcpy(out_buf + out_len, msg, n);
  out_len += n;
  out_buf[out_len] = 0;
}
static bool has_nonzero_number(const char* s) {
  for (; *s; s++)
    if (*s >= '1' && *s <= '9') return true;
  return false;
}

/* ---- error capture ----------------------------------------------------------------- */
static int err_count;
static int err_last;
static void* err_arg_seen;
static void capture_err(int err, void* arg) {
  err_count++;
  err_last = err;
  err_arg_seen = arg;
}

static char static_array[256];

static void test_numbering(void) {
  /* the v2 ABI: option numbers are fixed */
  CHECK_EQ(mi_option_show_errors, 0);
  CHECK_EQ(mi_option_verbose, 2);
  CHECK_EQ(mi_option_reserve_os_memory, 9);
  CHECK_EQ(mi_option_purge_delay, 15);
  CHECK_EQ(mi_option_max_errors, 19);
  CHECK_EQ(mi_option_max_warnings, 20);
  CHECK_EQ(mi_option_destroy_on_exit, 22);
  CHECK_EQ(mi_option_arena_reserve, 23);
  CHECK_EQ(mi_option_abandoned_reclaim_on_free, 26);
  CHECK_EQ(mi_option_visit_abandoned, 29);
  CHECK_EQ(mi_option_guarded_sample_seed, 34);
  CHECK_EQ(mi_option_allow_thp, 37);
  CHECK_EQ(_mi_option_last, 38);
  CHECK_EQ(mi_option_reset_delay, mi_option_purge_delay);
  CHECK_EQ(mi_option_large_os_pages, mi_option_allow_large_os_pages);
  CHECK_EQ(mi_option_eager_region_commit, mi_option_arena_eager_commit);
  CHECK_EQ(mi_option_reset_decommits, mi_option_purge_decommits);
  CHECK_EQ(mi_option_limit_os_alloc, mi_option_disallow_os_alloc);
}

static void test_defaults(void) {
  CHECK_EQ(mi_option_get(mi_option_max_errors), 32);
  CHECK_EQ(mi_option_get(mi_option_max_warnings), 32);
  CHECK_EQ(mi_option_get(mi_option_os_tag), 100);
  CHECK_EQ(mi_option_get(mi_option_reserve_huge_os_pages_at), -1);
  CHECK_EQ(mi_option_get(mi_option_destroy_on_exit), 0);
  CHECK_EQ(mi_option_get(mi_option_reserve_os_memory), 0);
  const size_t arena_default = (sizeof(void*) >= 8 ? TU_GiB : TU_GiB / 8);   /* 128 MiB on 32-bit */
  CHECK_EQ(mi_option_get_size(mi_option_arena_reserve), arena_default);
  CHECK_EQ(mi_option_get(mi_option_arena_reserve), arena_default / 1024); /* stored in KiB */
  CHECK(!mi_option_is_enabled(mi_option_show_stats));
  CHECK(!mi_option_is_enabled(mi_option_verbose));
}

static void test_set_get(void) {
  mi_option_set(mi_option_max_errors, 5);
  CHECK_EQ(mi_option_get(mi_option_max_errors), 5);
  CHECK_EQ(mi_option_get_size(mi_option_max_errors), 5);
  mi_option_set_default(mi_option_max_errors, 77); /* already set: no effect */
  CHECK_EQ(mi_option_get(mi_option_max_errors), 5);
  mi_option_set(mi_option_max_errors, 32);
  CHECK_EQ(mi_option_get(mi_option_max_errors), 32);

  mi_option_set(mi_option_os_tag, 500);
  CHECK_EQ(mi_option_get_clamp(mi_option_os_tag, 0, 100), 100);
  CHECK_EQ(mi_option_get_clamp(mi_option_os_tag, 600, 700), 600);
  CHECK_EQ(mi_option_get_clamp(mi_option_os_tag, 0, 1000), 500);
  mi_option_set(mi_option_os_tag, -5);
  CHECK_EQ(mi_option_get(mi_option_os_tag), -5);
  CHECK_EQ(mi_option_get_clamp(mi_option_os_tag, 0, 10), 0);
  CHECK_EQ(mi_option_get_size(mi_option_os_tag), 0); /* negative -> 0 as a size */
  mi_option_set(mi_option_os_tag, 100);

  mi_option_enable(mi_option_guarded_precise);
  CHECK(mi_option_is_enabled(mi_option_guarded_precise));
  CHECK_EQ(mi_option_get(mi_option_guarded_precise), 1);
  mi_option_disable(mi_option_guarded_precise);
  CHECK(!mi_option_is_enabled(mi_option_guarded_precise));
  CHECK_EQ(mi_option_get(mi_option_guarded_precise), 0);
  mi_option_set_enabled(mi_option_guarded_precise, true);
  CHECK(mi_option_is_enabled(mi_option_guarded_precise));
  mi_option_set_enabled_default(mi_option_guarded_precise, false); /* already set */
  CHECK(mi_option_is_enabled(mi_option_guarded_precise));
  mi_option_set_enabled(mi_option_guarded_precise, false);
  CHECK(!mi_option_is_enabled(mi_option_guarded_precise));

  /* size options are stored in KiB */
  long old = mi_option_get(mi_option_arena_reserve);
  mi_option_set(mi_option_arena_reserve, 2048);
  CHECK_EQ(mi_option_get(mi_option_arena_reserve), 2048);
  CHECK_EQ(mi_option_get_size(mi_option_arena_reserve), 2 * TU_MiB);
  mi_option_set(mi_option_arena_reserve, old);
  CHECK_EQ(mi_option_get(mi_option_arena_reserve), old);

  /* every option can be read and written back */
  int bad = 0;
  for (int o = 0; o < (int)_mi_option_last; o++) {
    long v = mi_option_get((mi_option_t)o);
    mi_option_set((mi_option_t)o, v);
    if (mi_option_get((mi_option_t)o) != v) bad++;
  }
  CHECK_EQ(bad, 0);
}

static void test_output(void) {
  /* make some real activity so the counters are non-zero */
  void* big = mi_malloc(20 * TU_MiB);
  void* small[100];
  for (int i = 0; i < 100; i++) small[i] = mi_malloc(64);
  memset(big, 1, 20 * TU_MiB);

  out_len = 0;
  out_calls = 0;
  mi_stats_print_out(capture_out, &out_len);
  CHECK(out_calls > 0);
  CHECKF(out_len > 100, "stats output is %zu bytes", out_len);
  CHECK(has_nonzero_number(out_buf));

  /* registered output receives mi_stats_print(NULL) and mi_options_print() */
  mi_register_output(capture_out, &out_len);
  out_len = 0;
  mi_stats_print(NULL);
  size_t after_stats = out_len;
  CHECK(after_stats > 100);
  CHECK(has_nonzero_number(out_buf));
  mi_options_print();
  CHECKF(out_len > after_stats, "mi_options_print wrote nothing to the registered output");
  /* option names appear in the option listing */
  CHECK(strstr(out_buf + after_stats, "purge_delay") != NULL ||
        strstr(out_buf + after_stats, "PURGE_DELAY") != NULL);
  out_len = 0;
  mi_thread_stats_print_out(capture_out, &out_len);
  CHECK(out_len > 0);
  mi_register_output(NULL, NULL); /* back to the default */

  /* statistics record */
  mi_stats_t st;
  memset(&st, 0, sizeof st);
  MI_STATS_INIT(&st);
  CHECK(mi_stats_get(&st));
  CHECK_EQ(st.version, MI_STAT_VERSION);
  CHECK(st.reserved.current >= (int64_t)(20 * TU_MiB));
  CHECK(st.committed.current >= (int64_t)(20 * TU_MiB));
  CHECK(st.mmap_calls.total > 0);
  int64_t huge_before = st.huge_count.total;
  void* big2 = mi_malloc(40 * TU_MiB);
  memset(&st, 0, sizeof st);
  MI_STATS_INIT(&st);
  CHECK(mi_stats_get(&st));
  CHECKF(st.huge_count.total > huge_before, "huge_count %lld -> %lld", (long long)huge_before,
         (long long)st.huge_count.total);
  mi_free(big2);

  char json[1 << 14];
  char* j = mi_stats_get_json(sizeof json, json);
  CHECK(j == json);
  if (j) {
    const char* s = j;
    while (isspace((unsigned char)*s)) s++;
    CHECK(*s == '{');
    CHECK(strchr(j, '}') != NULL);
  }

  mi_free(big);
  for (int i = 0; i < 100; i++) mi_free(small[i]);
}

static void test_error_callback(void) {
  int marker = 0;
  mi_register_error(capture_err, &marker);
  err_count = 0;
  mi_free(static_array + 64); /* not ours: must be reported, not crash */
  CHECKF(err_count == 1, "error callback called %d times for an invalid free", err_count);
  CHECK_EQ(err_last, EINVAL);
  CHECK(err_arg_seen == &marker);
  CHECK(static_array[64] == 0);

  int on_stack[8] = {0};
  err_count = 0;
  mi_free(&on_stack[2]);
  CHECK_EQ(err_count, 1);
  CHECK_EQ(err_last, EINVAL);

  /* still fully working afterwards */
  void* p = mi_malloc(100);
  CHECK(p != NULL);
  mi_free(p);
  CHECK_EQ(err_count, 1); /* a valid free reports nothing */
  mi_register_error(NULL, NULL);
}

static void test_process_info(void) {
  size_t touch = 64 * TU_MiB;
  char* p = (char*)mi_malloc(touch);
  CHECK(p != NULL);
  if (p) memset(p, 7, touch);
  size_t elapsed = 0, user = 0, sys = 0, rss = 0, peak_rss = 0, commit = 0, peak_commit = 0,
         faults = 0;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  size_t statm = tu_rss();
  printf("process info: elapsed %zu ms, user %zu ms, sys %zu ms, rss %zu KiB (statm %zu KiB), "
         "peak rss %zu KiB, commit %zu KiB, peak commit %zu KiB, faults %zu\n",
         elapsed, user, sys, rss / 1024, statm / 1024, peak_rss / 1024, commit / 1024,
         peak_commit / 1024, faults);
  CHECK(rss >= touch);
  CHECK(peak_rss >= rss);
  CHECK(rss <= 2 * statm + 16 * TU_MiB && statm <= 2 * rss + 16 * TU_MiB);
  CHECK(elapsed < 3600 * 1000);
  CHECK(commit >= touch);
  CHECK(peak_commit >= commit);
  /* page_faults counts major faults (mimalloc: ru_majflt), which may well be 0 */
  /* NULL arguments are allowed */
  mi_process_info(NULL, NULL, NULL, &rss, NULL, NULL, NULL, NULL);
  CHECK(rss > 0);
  mi_free(p);
}

static int env_mode(const char* mode) {
  if (strcmp(mode, "env-a") == 0) {
    CHECK_EQ(mi_option_get(mi_option_max_errors), 7);          /* lower-case name */
    CHECK_EQ(mi_option_get(mi_option_max_warnings), 9);        /* MIMIC_ prefix */
    CHECK_EQ(mi_option_get_size(mi_option_arena_reserve), 64 * TU_MiB);
    CHECK_EQ(mi_option_get(mi_option_arena_reserve), 64 * 1024); /* KiB */
    CHECK_EQ(mi_option_get(mi_option_os_tag), 123);            /* mixed case */
    CHECK_EQ(mi_option_get(mi_option_purge_delay), 25);        /* legacy RESET_DELAY */
    CHECK(mi_option_is_enabled(mi_option_guarded_precise));    /* YES */
    CHECK(mi_option_is_enabled(mi_option_verbose));            /* MIMIC_VERBOSE=1 */
  } else if (strcmp(mode, "env-b") == 0) {
    CHECK_EQ(mi_option_get_size(mi_option_arena_reserve), 2 * TU_GiB);
    CHECK(mi_option_is_enabled(mi_option_show_stats));          /* on */
    CHECK_EQ(mi_option_get(mi_option_max_errors), 32);          /* invalid value ignored */
    CHECK(!mi_option_is_enabled(mi_option_guarded_precise));    /* off */
    CHECK_EQ(mi_option_get(mi_option_purge_delay), -1);
  } else if (strcmp(mode, "env-c") == 0) {
    CHECK_EQ(mi_option_get_size(mi_option_arena_reserve), 293 * TU_KiB); /* ceil(300000/1024) KiB */
    CHECK_EQ(mi_option_get(mi_option_max_warnings), 11);
    CHECK_EQ(mi_option_get(mi_option_purge_delay), 0);
    CHECK(mi_option_is_enabled(mi_option_guarded_precise));    /* empty value = 1 */
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    CHECK(false);
  }
  /* whatever the environment, allocation works */
  void* p = mi_malloc(1000);
  CHECK(p != NULL);
  mi_free(p);
  return tu_report();
}

int main(int argc, char** argv) {
  if (argc > 1) return env_mode(argv[1]);
  test_numbering();
  test_defaults();
  test_set_get();
  test_output();
  test_error_callback();
  test_process_info();
  return tu_report();
}
