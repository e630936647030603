/* ----------------------------------------------------------------------------
  mimic: mimalloc-compatible allocator (MIT license, see LICENSE).

  src/options.c
  - the options table (one X-macro list: name, default, legacy name, unit, use, doc)
    and the mi_option_* API, read lazily from the environment;
  - the output and error funnel: mi_register_output / mi_register_error /
    mi_register_deferred_free, _mi_fputs, _mi_message, _mi_verbose_message,
    _mi_warning_message, _mi_error_message;
  - a small printf-style formatter (_mi_snprintf / _mi_vsnprintf) that never
    allocates and never calls stdio, so messages can be produced anywhere:
    before process init, inside the allocator, from any thread.
---------------------------------------------------------------------------- */
#include "mimic/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>    /* abort */
#include <string.h>    /* strlen, memcpy */

/* ============================================================================
   Build-time defaults (override with -DMI_DEFAULT_<NAME>=value; static and
   preloaded builds cannot always rely on the environment).
============================================================================ */
#ifndef MI_DEFAULT_SHOW_ERRORS
  #if (MI_DEBUG > 0) || defined(MI_SHOW_ERRORS)
    #define MI_DEFAULT_SHOW_ERRORS 1
  #else
    #define MI_DEFAULT_SHOW_ERRORS 0
  #endif
#endif
#ifndef MI_DEFAULT_SHOW_STATS
#define MI_DEFAULT_SHOW_STATS 0
#endif
#ifndef MI_DEFAULT_VERBOSE
#define MI_DEFAULT_VERBOSE 0
#endif
#ifndef MI_DEFAULT_EAGER_COMMIT
#define MI_DEFAULT_EAGER_COMMIT 1
#endif
#ifndef MI_DEFAULT_ARENA_EAGER_COMMIT
#define MI_DEFAULT_ARENA_EAGER_COMMIT 2          /* 2: only where the OS overcommits */
#endif
#ifndef MI_DEFAULT_PURGE_DECOMMITS
#define MI_DEFAULT_PURGE_DECOMMITS 1
#endif
#ifndef MI_DEFAULT_ALLOW_LARGE_OS_PAGES
#define MI_DEFAULT_ALLOW_LARGE_OS_PAGES 0
#endif
#ifndef MI_DEFAULT_RESERVE_HUGE_OS_PAGES
#define MI_DEFAULT_RESERVE_HUGE_OS_PAGES 0
#endif
#ifndef MI_DEFAULT_RESERVE_HUGE_OS_PAGES_AT
#define MI_DEFAULT_RESERVE_HUGE_OS_PAGES_AT (-1)
#endif
#ifndef MI_DEFAULT_RESERVE_OS_MEMORY
#define MI_DEFAULT_RESERVE_OS_MEMORY 0
#endif
#ifndef MI_DEFAULT_ABANDONED_PAGE_PURGE
#define MI_DEFAULT_ABANDONED_PAGE_PURGE 0
#endif
#ifndef MI_DEFAULT_EAGER_COMMIT_DELAY
#define MI_DEFAULT_EAGER_COMMIT_DELAY 1
#endif
#ifndef MI_DEFAULT_PURGE_DELAY
#define MI_DEFAULT_PURGE_DELAY 10
#endif
#ifndef MI_DEFAULT_USE_NUMA_NODES
#define MI_DEFAULT_USE_NUMA_NODES 0
#endif
#ifndef MI_DEFAULT_DISALLOW_OS_ALLOC
#define MI_DEFAULT_DISALLOW_OS_ALLOC 0
#endif
#ifndef MI_DEFAULT_OS_TAG
#define MI_DEFAULT_OS_TAG 100
#endif
#ifndef MI_DEFAULT_MAX_ERRORS
#define MI_DEFAULT_MAX_ERRORS 32
#endif
#ifndef MI_DEFAULT_MAX_WARNINGS
#define MI_DEFAULT_MAX_WARNINGS 32
#endif
#ifndef MI_DEFAULT_MAX_SEGMENT_RECLAIM
#define MI_DEFAULT_MAX_SEGMENT_RECLAIM 10
#endif
#ifndef MI_DEFAULT_DESTROY_ON_EXIT
#define MI_DEFAULT_DESTROY_ON_EXIT 0
#endif
#ifndef MI_DEFAULT_ARENA_RESERVE
  #if (INTPTR_MAX > INT32_MAX)
    #define MI_DEFAULT_ARENA_RESERVE (1024L * 1024L)   /* KiB: 1 GiB */
  #else
    #define MI_DEFAULT_ARENA_RESERVE (128L * 1024L)    /* KiB: 128 MiB */
  #endif
#endif
#ifndef MI_DEFAULT_ARENA_PURGE_MULT
#define MI_DEFAULT_ARENA_PURGE_MULT 10
#endif
#ifndef MI_DEFAULT_PURGE_EXTEND_DELAY
#define MI_DEFAULT_PURGE_EXTEND_DELAY 1
#endif
#ifndef MI_DEFAULT_ABANDONED_RECLAIM_ON_FREE
#define MI_DEFAULT_ABANDONED_RECLAIM_ON_FREE 1   /* mimic: on (mimalloc v2.4.1: 0) so dead threads' memory returns promptly */
#endif
#ifndef MI_DEFAULT_DISALLOW_ARENA_ALLOC
#define MI_DEFAULT_DISALLOW_ARENA_ALLOC 0
#endif
#ifndef MI_DEFAULT_RETRY_ON_OOM
#define MI_DEFAULT_RETRY_ON_OOM 400
#endif
#ifndef MI_DEFAULT_VISIT_ABANDONED
  #if defined(MI_VISIT_ABANDONED)
    #define MI_DEFAULT_VISIT_ABANDONED 1
  #else
    #define MI_DEFAULT_VISIT_ABANDONED 0
  #endif
#endif
#ifndef MI_DEFAULT_GUARDED_MIN
#define MI_DEFAULT_GUARDED_MIN 0
#endif
#ifndef MI_DEFAULT_GUARDED_MAX
#define MI_DEFAULT_GUARDED_MAX (1024L * 1024L * 1024L)  /* bytes: 1 GiB */
#endif
#ifndef MI_DEFAULT_GUARDED_PRECISE
#define MI_DEFAULT_GUARDED_PRECISE 0
#endif
#ifndef MI_DEFAULT_GUARDED_SAMPLE_RATE
  #if defined(MI_GUARDED) && (MI_GUARDED > 0) && (MI_DEBUG == 0)
    #define MI_DEFAULT_GUARDED_SAMPLE_RATE 4000
  #else
    #define MI_DEFAULT_GUARDED_SAMPLE_RATE 0
  #endif
#endif
#ifndef MI_DEFAULT_GUARDED_SAMPLE_SEED
#define MI_DEFAULT_GUARDED_SAMPLE_SEED 0
#endif
#ifndef MI_DEFAULT_TARGET_SEGMENTS_PER_THREAD
#define MI_DEFAULT_TARGET_SEGMENTS_PER_THREAD 0
#endif
#ifndef MI_DEFAULT_GENERIC_COLLECT
#define MI_DEFAULT_GENERIC_COLLECT 10000
#endif
#ifndef MI_DEFAULT_ALLOW_THP
#define MI_DEFAULT_ALLOW_THP 1
#endif

/* ============================================================================
   The options table.
   X(name, default, legacy environment name or NULL, unit, used, doc)
   - unit: how the value is read and printed (SIZE values are stored in KiB and
     accept K/M/G/T suffixes in the environment; mi_option_get_size gives bytes);
   - used: 1 if this build of mimic acts on the option; 0 if the mechanism does
     not exist yet: the value is stored, readable and printed as "not used".
   The enum values themselves are the ABI and live in include/mimic.h.
============================================================================ */
#define MI_OPTION_TABLE(X) \
  X(show_errors,                MI_DEFAULT_SHOW_ERRORS,                NULL,                     BOOL,    1, "print error messages") \
  X(show_stats,                 MI_DEFAULT_SHOW_STATS,                 NULL,                     BOOL,    1, "print statistics at process exit") \
  X(verbose,                    MI_DEFAULT_VERBOSE,                    NULL,                     BOOL,    1, "print verbose messages") \
  X(eager_commit,               MI_DEFAULT_EAGER_COMMIT,               NULL,                     BOOL,    0, "commit segments eagerly") \
  X(arena_eager_commit,         MI_DEFAULT_ARENA_EAGER_COMMIT,         "eager_region_commit",    NUM,     0, "commit arenas eagerly (2: only if the OS overcommits)") \
  X(purge_decommits,            MI_DEFAULT_PURGE_DECOMMITS,            "reset_decommits",        BOOL,    0, "purge by decommitting (0: by resetting)") \
  X(allow_large_os_pages,       MI_DEFAULT_ALLOW_LARGE_OS_PAGES,       "large_os_pages",         BOOL,    0, "use large OS pages when possible") \
  X(reserve_huge_os_pages,      MI_DEFAULT_RESERVE_HUGE_OS_PAGES,      NULL,                     NUM,     0, "reserve N 1 GiB pages at start-up") \
  X(reserve_huge_os_pages_at,   MI_DEFAULT_RESERVE_HUGE_OS_PAGES_AT,   NULL,                     NUM,     0, "NUMA node of the huge pages (-1: spread)") \
  X(reserve_os_memory,          MI_DEFAULT_RESERVE_OS_MEMORY,          NULL,                     SIZE,    0, "reserve OS memory at start-up") \
  X(deprecated_segment_cache,   0,                                     NULL,                     NUM,     0, "deprecated") \
  X(deprecated_page_reset,      0,                                     NULL,                     NUM,     0, "deprecated") \
  X(abandoned_page_purge,       MI_DEFAULT_ABANDONED_PAGE_PURGE,       "abandoned_page_reset",   BOOL,    0, "purge free pages of abandoned segments") \
  X(deprecated_segment_reset,   0,                                     NULL,                     NUM,     0, "deprecated") \
  X(eager_commit_delay,         MI_DEFAULT_EAGER_COMMIT_DELAY,         NULL,                     NUM,     0, "the first N segments of a thread are committed lazily") \
  X(purge_delay,                MI_DEFAULT_PURGE_DELAY,                "reset_delay",            MS,      1, "delay before purging unused memory (0: at once, -1: never)") \
  X(use_numa_nodes,             MI_DEFAULT_USE_NUMA_NODES,             NULL,                     NUM,     0, "NUMA nodes to use (0: detect)") \
  X(disallow_os_alloc,          MI_DEFAULT_DISALLOW_OS_ALLOC,          "limit_os_alloc",         BOOL,    0, "allocate only from reserved arenas") \
  X(os_tag,                     MI_DEFAULT_OS_TAG,                     NULL,                     NUM,     0, "macOS VM tag") \
  X(max_errors,                 MI_DEFAULT_MAX_ERRORS,                 NULL,                     NUM,     1, "print at most N errors (-1: no limit)") \
  X(max_warnings,               MI_DEFAULT_MAX_WARNINGS,               NULL,                     NUM,     1, "print at most N warnings (-1: no limit)") \
  X(max_segment_reclaim,        MI_DEFAULT_MAX_SEGMENT_RECLAIM,        NULL,                     PERCENT, 0, "abandoned segments visited per reclaim attempt") \
  X(destroy_on_exit,            MI_DEFAULT_DESTROY_ON_EXIT,            NULL,                     BOOL,    1, "release all memory at process exit") \
  X(arena_reserve,              MI_DEFAULT_ARENA_RESERVE,              NULL,                     SIZE,    0, "size of an arena reservation") \
  X(arena_purge_mult,           MI_DEFAULT_ARENA_PURGE_MULT,           NULL,                     NUM,     0, "arena purge delay = purge_delay * N") \
  X(purge_extend_delay,         MI_DEFAULT_PURGE_EXTEND_DELAY,         "decommit_extend_delay",  MS,      0, "extension of a pending purge on further frees") \
  X(abandoned_reclaim_on_free,  MI_DEFAULT_ABANDONED_RECLAIM_ON_FREE,  NULL,                     BOOL,    1, "a free into an abandoned segment may reclaim it") \
  X(disallow_arena_alloc,       MI_DEFAULT_DISALLOW_ARENA_ALLOC,       NULL,                     BOOL,    0, "do not allocate from arenas") \
  X(retry_on_oom,               MI_DEFAULT_RETRY_ON_OOM,               NULL,                     MS,      0, "retry an allocation that ran out of memory (Windows)") \
  X(visit_abandoned,            MI_DEFAULT_VISIT_ABANDONED,            NULL,                     BOOL,    1, "allow visiting abandoned blocks") \
  X(guarded_min,                MI_DEFAULT_GUARDED_MIN,                NULL,                     BYTES,   0, "smallest guarded allocation") \
  X(guarded_max,                MI_DEFAULT_GUARDED_MAX,                NULL,                     BYTES,   0, "largest guarded allocation") \
  X(guarded_precise,            MI_DEFAULT_GUARDED_PRECISE,            NULL,                     BOOL,    0, "place guarded objects right before the guard page") \
  X(guarded_sample_rate,        MI_DEFAULT_GUARDED_SAMPLE_RATE,        NULL,                     NUM,     0, "guard 1 in N allocations (0: none)") \
  X(guarded_sample_seed,        MI_DEFAULT_GUARDED_SAMPLE_SEED,        NULL,                     NUM,     0, "seed of the guard sampling (0: random)") \
  X(target_segments_per_thread, MI_DEFAULT_TARGET_SEGMENTS_PER_THREAD, NULL,                     NUM,     0, "keep at most N segments per thread (0: off)") \
  X(generic_collect,            MI_DEFAULT_GENERIC_COLLECT,            NULL,                     NUM,     0, "collect the heap every N generic allocations") \
  X(allow_thp,                  MI_DEFAULT_ALLOW_THP,                  NULL,                     BOOL,    0, "allow transparent huge pages")

typedef enum mi_option_unit_e {
  MI_OPTION_UNIT_NUM,      /* plain number */
  MI_OPTION_UNIT_BOOL,     /* 0 or 1 */
  MI_OPTION_UNIT_MS,       /* milliseconds */
  MI_OPTION_UNIT_PERCENT,  /* percent */
  MI_OPTION_UNIT_BYTES,    /* bytes */
  MI_OPTION_UNIT_SIZE      /* stored in KiB; environment accepts K/M/G/T suffixes */
} mi_option_unit_t;

typedef struct mi_option_desc_s {
  const char* name;         /* e.g. "purge_delay" (environment: MIMIC_PURGE_DELAY / MIMALLOC_PURGE_DELAY) */
  const char* legacy_name;  /* older name still read from the environment, or NULL */
  mi_option_unit_t unit;
  bool        used;         /* false: stored and reported only (mechanism not built yet) */
  const char* doc;
} mi_option_desc_t;

/* init states of an option: its value is final once >= MI_OPTION_DEFAULTED */
#define MI_OPTION_UNINIT       0   /* not read from the environment yet */
#define MI_OPTION_BUSY         1   /* a thread is reading or writing it (very short) */
#define MI_OPTION_DEFAULTED    2   /* environment read: not set there; value = default */
#define MI_OPTION_INITIALIZED  3   /* value from the environment or from mi_option_set */

typedef struct mi_option_state_s {
  mi_atomic(long) value;
  mi_atomic(long) default_value;
  mi_atomic(int)  init;
} mi_option_state_t;

#define MI_OPTION_DESC_(name, dflt, legacy, unit, used, doc)   [mi_option_##name] = { #name, legacy, MI_OPTION_UNIT_##unit, (used) != 0, doc },
#define MI_OPTION_STATE_(name, dflt, legacy, unit, used, doc)  [mi_option_##name] = { (long)(dflt), (long)(dflt), MI_OPTION_UNINIT },
#define MI_OPTION_COUNT_(name, dflt, legacy, unit, used, doc)  + 1

static const mi_option_desc_t mi_option_descs[_mi_option_last] = { MI_OPTION_TABLE(MI_OPTION_DESC_) };
static mi_option_state_t mi_option_states[_mi_option_last]     = { MI_OPTION_TABLE(MI_OPTION_STATE_) };

_Static_assert((0 MI_OPTION_TABLE(MI_OPTION_COUNT_)) == _mi_option_last,
               "the options table must list every mi_option_t exactly once");

#undef MI_OPTION_DESC_
#undef MI_OPTION_STATE_
#undef MI_OPTION_COUNT_

static inline bool mi_option_is_valid(mi_option_t option) {
  return ((int)option >= 0 && (int)option < (int)_mi_option_last);
}

/* ============================================================================
   Reading options from the environment (never allocates)
============================================================================ */
#define MI_OPTION_ENV_NAME_MAX   80
#define MI_OPTION_ENV_VALUE_MAX  64

static char mi_option_toupper(char c) {
  return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool mi_option_streq(const char* a, const char* b) {
  while (*a != 0 && *a == *b) { a++; b++; }
  return (*a == *b);
}

/* envname := prefix + upper(name); false if it does not fit */
static bool mi_option_env_name(char* envname, size_t size, const char* prefix, const char* name) {
  size_t i = 0;
  for (const char* s = prefix; *s != 0; s++) { if (i + 1 >= size) return false; envname[i++] = *s; }
  for (const char* s = name; *s != 0; s++)   { if (i + 1 >= size) return false; envname[i++] = mi_option_toupper(*s); }
  envname[i] = 0;
  return true;
}

/* Parse an environment value. `is_size`: a byte size with an optional K/M/G/T
   suffix (optionally followed by B or IB), converted to KiB (rounded up).
   Returns false (and leaves *result alone) if the text is not a valid value. */
static bool mi_option_parse(const char* text, bool is_size, long* result) {
  char buf[MI_OPTION_ENV_VALUE_MAX];
  /* trim spaces and upper-case */
  while (*text == ' ' || *text == '\t') text++;
  size_t len = 0;
  for (; text[len] != 0 && len + 1 < sizeof(buf); len++) buf[len] = mi_option_toupper(text[len]);
  if (text[len] != 0) return false;   /* too long to be a sensible value */
  while (len > 0 && (buf[len-1] == ' ' || buf[len-1] == '\t' || buf[len-1] == '\n' || buf[len-1] == '\r')) len--;
  buf[len] = 0;

  if (len == 0 || mi_option_streq(buf, "1") || mi_option_streq(buf, "TRUE") ||
      mi_option_streq(buf, "YES") || mi_option_streq(buf, "ON")) {
    *result = 1; return true;
  }
  if (mi_option_streq(buf, "0") || mi_option_streq(buf, "FALSE") ||
      mi_option_streq(buf, "NO") || mi_option_streq(buf, "OFF")) {
    *result = 0; return true;
  }

  const char* s = buf;
  bool negative = false;
  if (*s == '+' || *s == '-') { negative = (*s == '-'); s++; }
  if (*s < '0' || *s > '9') return false;
  unsigned long long n = 0;
  for (; *s >= '0' && *s <= '9'; s++) {
    const unsigned digit = (unsigned)(*s - '0');
    if (n > (ULLONG_MAX - digit) / 10) return false;   /* overflow */
    n = n*10 + digit;
  }

  if (is_size) {
    if (negative) return false;
    unsigned shift = 0;
    switch (*s) {
      case 'K': shift = 10; s++; break;
      case 'M': shift = 20; s++; break;
      case 'G': shift = 30; s++; break;
      case 'T': shift = 40; s++; break;
      default: break;
    }
    if (shift > 0 && s[0] == 'I' && s[1] == 'B') s += 2;
    else if (s[0] == 'B') s += 1;
    if (*s != 0) return false;
    if (shift > 0 && n > (ULLONG_MAX >> shift)) return false;
    const unsigned long long bytes = n << shift;
    const unsigned long long kib = (bytes / 1024) + (bytes % 1024 != 0 ? 1 : 0);
    if (kib > (unsigned long long)LONG_MAX) return false;
    *result = (long)kib;
    return true;
  }

  if (*s != 0) return false;
  if (negative) {
    if (n > (unsigned long long)LONG_MAX + 1ULL) return false;
    *result = (n == (unsigned long long)LONG_MAX + 1ULL ? LONG_MIN : -(long)n);
  }
  else {
    if (n > (unsigned long long)LONG_MAX) return false;
    *result = (long)n;
  }
  return true;
}

/* What reading the environment found; reported after the option is published
   (reporting reads other options and must not run while this one is BUSY). */
typedef struct mi_option_env_s {
  bool found;        /* a variable was set */
  bool valid;        /* ... and its value parsed */
  bool legacy;       /* ... under the legacy name */
  long value;
  char envname[MI_OPTION_ENV_NAME_MAX];
  char text[MI_OPTION_ENV_VALUE_MAX];
} mi_option_env_t;

static bool mi_option_getenv_as(mi_option_env_t* env, const char* prefix, const char* name) {
  if (!mi_option_env_name(env->envname, sizeof(env->envname), prefix, name)) return false;
  env->text[0] = 0;
  return _mi_prim_getenv(env->envname, env->text, sizeof(env->text));
}

static void mi_option_read_env(mi_option_t option, mi_option_env_t* env) {
  const mi_option_desc_t* desc = &mi_option_descs[option];
  env->found = env->valid = env->legacy = false;
  env->value = 0;
  if (mi_option_getenv_as(env, "MIMIC_", desc->name) ||
      mi_option_getenv_as(env, "MIMALLOC_", desc->name)) {
    env->found = true;
  }
  else if (desc->legacy_name != NULL && mi_option_getenv_as(env, "MIMALLOC_", desc->legacy_name)) {
    env->found = true;
    env->legacy = true;
  }
  if (env->found) {
    env->valid = mi_option_parse(env->text, desc->unit == MI_OPTION_UNIT_SIZE, &env->value);
  }
}

/* ============================================================================
   Option state: a tiny per-option lock (state BUSY) serialises writers and the
   one-time environment read; readers of an initialised option never wait.
============================================================================ */
static int mi_option_lock(mi_option_state_t* st) {
  for (;;) {
    int state = mi_atomic_load_relaxed(&st->init);
    if (state != MI_OPTION_BUSY && mi_atomic_cas_weak_acq_rel(&st->init, &state, MI_OPTION_BUSY)) {
      return state;
    }
    mi_atomic_yield();
  }
}

static void mi_option_unlock(mi_option_state_t* st, int state) {
  mi_atomic_store_release(&st->init, state);
}

static mi_decl_cold void mi_option_init(mi_option_t option) {
  mi_option_state_t* st = &mi_option_states[option];
  const int state = mi_option_lock(st);
  if (state != MI_OPTION_UNINIT) {   /* another thread finished it meanwhile */
    mi_option_unlock(st, state);
    return;
  }
  mi_option_env_t env;
  mi_option_read_env(option, &env);
  if (env.found && env.valid) {
    mi_atomic_store_relaxed(&st->value, env.value);
    mi_option_unlock(st, MI_OPTION_INITIALIZED);
  }
  else {
    mi_atomic_store_relaxed(&st->value, mi_atomic_load_relaxed(&st->default_value));
    mi_option_unlock(st, MI_OPTION_DEFAULTED);
  }

  /* report only now that the option is published */
  const mi_option_desc_t* desc = &mi_option_descs[option];
  if (env.found && !env.valid) {
    _mi_warning_message("environment option \"%s\" has an invalid value \"%s\": using the default (%ld)\n",
                        env.envname, env.text, mi_atomic_load_relaxed(&st->value));
  }
  else if (env.found && env.legacy) {
    char newname[MI_OPTION_ENV_NAME_MAX];
    if (!mi_option_env_name(newname, sizeof(newname), "MIMALLOC_", desc->name)) newname[0] = 0;
    _mi_warning_message("environment option \"%s\" is deprecated: use \"%s\" instead\n", env.envname, newname);
  }
  if (env.found && env.valid && !desc->used) {
    _mi_verbose_message("option '%s' is set to %ld but not used by this version of mimic\n", desc->name, env.value);
  }
}

static void mi_option_warn_invalid(mi_option_t option) {
  _mi_warning_message("invalid option index %d (valid: 0..%d)\n", (int)option, (int)_mi_option_last - 1);
}

/* ============================================================================
   Public options API
============================================================================ */
long mi_option_get(mi_option_t option) {
  if (mi_unlikely(!mi_option_is_valid(option))) { mi_option_warn_invalid(option); return 0; }
  mi_option_state_t* st = &mi_option_states[option];
  if (mi_unlikely(mi_atomic_load_acquire(&st->init) < MI_OPTION_DEFAULTED)) {
    mi_option_init(option);
  }
  return mi_atomic_load_relaxed(&st->value);
}

long mi_option_get_clamp(mi_option_t option, long min, long max) {
  const long x = mi_option_get(option);
  return (x < min ? min : (x > max ? max : x));
}

size_t mi_option_get_size(mi_option_t option) {
  const long x = mi_option_get(option);
  if (x <= 0) return 0;
  size_t size = (size_t)x;
  if (mi_option_is_valid(option) && mi_option_descs[option].unit == MI_OPTION_UNIT_SIZE) {
    size = (size > SIZE_MAX / 1024 ? SIZE_MAX : size * 1024);   /* KiB to bytes */
  }
  return size;
}

bool mi_option_is_enabled(mi_option_t option) {
  return (mi_option_get(option) != 0);
}

void mi_option_set(mi_option_t option, long value) {
  if (mi_unlikely(!mi_option_is_valid(option))) { mi_option_warn_invalid(option); return; }
  mi_option_state_t* st = &mi_option_states[option];
  (void)mi_option_lock(st);
  mi_atomic_store_relaxed(&st->value, value);
  mi_option_unlock(st, MI_OPTION_INITIALIZED);
}

/* Changes the default: the environment (read on first use) and mi_option_set still win. */
void mi_option_set_default(mi_option_t option, long value) {
  if (mi_unlikely(!mi_option_is_valid(option))) { mi_option_warn_invalid(option); return; }
  mi_option_state_t* st = &mi_option_states[option];
  const int state = mi_option_lock(st);
  mi_atomic_store_relaxed(&st->default_value, value);
  if (state == MI_OPTION_DEFAULTED) mi_atomic_store_relaxed(&st->value, value);
  mi_option_unlock(st, state);
}

void mi_option_set_enabled(mi_option_t option, bool enable) {
  mi_option_set(option, enable ? 1 : 0);
}

void mi_option_set_enabled_default(mi_option_t option, bool enable) {
  mi_option_set_default(option, enable ? 1 : 0);
}

void mi_option_enable(mi_option_t option) {
  mi_option_set_enabled(option, true);
}

void mi_option_disable(mi_option_t option) {
  mi_option_set_enabled(option, false);
}

static const char* mi_option_unit_name(mi_option_unit_t unit) {
  switch (unit) {
    case MI_OPTION_UNIT_MS:      return " ms";
    case MI_OPTION_UNIT_PERCENT: return "%";
    case MI_OPTION_UNIT_BYTES:   return " B";
    case MI_OPTION_UNIT_SIZE:    return " KiB";
    default:                     return "";
  }
}

void mi_options_print(void) mi_attr_noexcept {
  _mi_message("mimic %d.%d.%d (mimalloc API %d.%d.%d), debug level %d, secure level %d\n",
              MIMIC_VERSION / 10000, (MIMIC_VERSION / 100) % 100, MIMIC_VERSION % 100,
              MI_MALLOC_VERSION / 10000, (MI_MALLOC_VERSION / 100) % 100, MI_MALLOC_VERSION % 100,
              (int)MI_DEBUG, (int)MI_SECURE);
  for (int i = 0; i < (int)_mi_option_last; i++) {
    const mi_option_t option = (mi_option_t)i;
    const mi_option_desc_t* desc = &mi_option_descs[option];
    const long value = mi_option_get(option);
    const int state = mi_atomic_load_acquire(&mi_option_states[option].init);
    _mi_message("option '%s': %ld%s%s%s\n", desc->name, value, mi_option_unit_name(desc->unit),
                (state == MI_OPTION_INITIALIZED ? " (set)" : ""),
                (desc->used ? "" : " (not used by this version)"));
  }
}

/* Called once at process init: read every option now (later reads are then
   plain loads), and print them all if verbose. */
void _mi_options_init(void) {
  for (int i = 0; i < (int)_mi_option_last; i++) {
    const long value = mi_option_get((mi_option_t)i);   /* gcc ignores a (void) cast on warn_unused_result */
    (void)value;
  }
  if (mi_option_is_enabled(mi_option_verbose)) {
    mi_options_print();
  }
}


/* ============================================================================
   Formatting: a small vsnprintf that never allocates and never calls stdio.
   Conversions: %s %c %d %i %u %x %X %o %p %%; length modifiers hh h l ll z t j;
   flags '-' '0' '+' ' '; width and precision (digits or '*').
   Returns the length the full output would have; always NUL-terminates if n > 0.
============================================================================ */
typedef struct mi_fmt_out_s {
  char*  buf;
  size_t size;
  size_t len;     /* characters produced so far (may exceed size) */
} mi_fmt_out_t;

static inline void mi_fmt_putc(mi_fmt_out_t* out, char c) {
  if (out->len + 1 < out->size) out->buf[out->len] = c;
  out->len++;
}

static void mi_fmt_pad(mi_fmt_out_t* out, char c, size_t count) {
  for (size_t i = 0; i < count; i++) mi_fmt_putc(out, c);
}

static void mi_fmt_str(mi_fmt_out_t* out, const char* s, size_t slen, size_t width, bool left) {
  if (!left && width > slen) mi_fmt_pad(out, ' ', width - slen);
  for (size_t i = 0; i < slen; i++) mi_fmt_putc(out, s[i]);
  if (left && width > slen) mi_fmt_pad(out, ' ', width - slen);
}

typedef struct mi_fmt_spec_s {
  bool   left;        /* '-' */
  bool   zero;        /* '0' */
  char   sign;        /* '+', ' ' or 0 */
  size_t width;
  bool   has_precision;
  size_t precision;
} mi_fmt_spec_t;

static mi_decl_cold void mi_fmt_num(mi_fmt_out_t* out, const mi_fmt_spec_t* spec, unsigned long long value,
                       bool negative, unsigned base, bool upper, const char* prefix) {
  char digits[72];
  size_t nd = 0;
  const char* alphabet = (upper ? "0123456789ABCDEF" : "0123456789abcdef");
  do {
    digits[nd++] = alphabet[value % base];
    value /= base;
  } while (value != 0);
  if (spec->has_precision && spec->precision == 0 && nd == 1 && digits[0] == '0') nd = 0;   /* printf("%.0d", 0) */

  const char sign = (negative ? '-' : spec->sign);
  const size_t plen = strlen(prefix);
  const size_t zeros = (spec->has_precision && spec->precision > nd ? spec->precision - nd : 0);
  size_t total = (sign != 0 ? 1 : 0) + plen + zeros + nd;
  size_t fill = (spec->width > total ? spec->width - total : 0);
  const bool zero_fill = (spec->zero && !spec->left && !spec->has_precision);

  if (!spec->left && !zero_fill) { mi_fmt_pad(out, ' ', fill); fill = 0; }
  if (sign != 0) mi_fmt_putc(out, sign);
  for (size_t i = 0; i < plen; i++) mi_fmt_putc(out, prefix[i]);
  if (zero_fill) { mi_fmt_pad(out, '0', fill); fill = 0; }
  mi_fmt_pad(out, '0', zeros);
  while (nd > 0) mi_fmt_putc(out, digits[--nd]);
  if (spec->left) mi_fmt_pad(out, ' ', fill);
}

mi_decl_cold int _mi_vsnprintf(char* buf, size_t n, const char* fmt, va_list args) {
  mi_fmt_out_t out = { buf, (buf == NULL ? 0 : n), 0 };
  if (fmt == NULL) fmt = "";
  for (const char* f = fmt; *f != 0; f++) {
    if (*f != '%') { mi_fmt_putc(&out, *f); continue; }
    const char* start = f;
    f++;
    /* flags */
    mi_fmt_spec_t spec = { false, false, 0, 0, false, 0 };
    for (;; f++) {
      if (*f == '-') spec.left = true;
      else if (*f == '0') spec.zero = true;
      else if (*f == '+') spec.sign = '+';
      else if (*f == ' ') { if (spec.sign == 0) spec.sign = ' '; }
      else break;
    }
    /* width */
    if (*f == '*') {
      const int w = va_arg(args, int);
      if (w < 0) { spec.left = true; spec.width = (size_t)(-(long)w); }
      else spec.width = (size_t)w;
      f++;
    }
    else {
      while (*f >= '0' && *f <= '9') { spec.width = spec.width*10 + (size_t)(*f - '0'); f++; }
    }
    /* precision */
    if (*f == '.') {
      f++;
      spec.has_precision = true;
      if (*f == '*') {
        const int p = va_arg(args, int);
        if (p < 0) spec.has_precision = false; else spec.precision = (size_t)p;
        f++;
      }
      else {
        while (*f >= '0' && *f <= '9') { spec.precision = spec.precision*10 + (size_t)(*f - '0'); f++; }
      }
    }
    /* length modifier */
    enum { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_PTRDIFF, LEN_INTMAX } lenmod = LEN_INT;
    if (*f == 'h')      { f++; if (*f == 'h') { f++; lenmod = LEN_CHAR; } else lenmod = LEN_SHORT; }
    else if (*f == 'l') { f++; if (*f == 'l') { f++; lenmod = LEN_LLONG; } else lenmod = LEN_LONG; }
    else if (*f == 'z') { f++; lenmod = LEN_SIZE; }
    else if (*f == 't') { f++; lenmod = LEN_PTRDIFF; }
    else if (*f == 'j') { f++; lenmod = LEN_INTMAX; }

    const char conv = *f;
    switch (conv) {
      case '%':
        mi_fmt_putc(&out, '%');
        break;
      case 'c': {
        const char c = (char)va_arg(args, int);
        mi_fmt_str(&out, &c, 1, spec.width, spec.left);
        break;
      }
      case 's': {
        const char* s = va_arg(args, const char*);
        if (s == NULL) s = "(null)";
        size_t slen = 0;
        while (s[slen] != 0 && (!spec.has_precision || slen < spec.precision)) slen++;
        mi_fmt_str(&out, s, slen, spec.width, spec.left);
        break;
      }
      case 'd': case 'i': {
        long long v;
        switch (lenmod) {
          case LEN_CHAR:    v = (signed char)va_arg(args, int); break;
          case LEN_SHORT:   v = (short)va_arg(args, int); break;
          case LEN_LONG:    v = va_arg(args, long); break;
          case LEN_LLONG:   v = va_arg(args, long long); break;
          case LEN_SIZE:    v = (long long)va_arg(args, ptrdiff_t); break;   /* %zd: the signed size type */
          case LEN_PTRDIFF: v = (long long)va_arg(args, ptrdiff_t); break;
          case LEN_INTMAX:  v = (long long)va_arg(args, intmax_t); break;
          default:          v = va_arg(args, int); break;
        }
        const bool negative = (v < 0);
        const unsigned long long mag = (negative ? 0ULL - (unsigned long long)v : (unsigned long long)v);
        mi_fmt_num(&out, &spec, mag, negative, 10, false, "");
        break;
      }
      case 'u': case 'x': case 'X': case 'o': {
        unsigned long long v;
        switch (lenmod) {
          case LEN_CHAR:    v = (unsigned char)va_arg(args, unsigned int); break;
          case LEN_SHORT:   v = (unsigned short)va_arg(args, unsigned int); break;
          case LEN_LONG:    v = va_arg(args, unsigned long); break;
          case LEN_LLONG:   v = va_arg(args, unsigned long long); break;
          case LEN_SIZE:    v = va_arg(args, size_t); break;
          case LEN_PTRDIFF: v = (unsigned long long)va_arg(args, ptrdiff_t); break;
          case LEN_INTMAX:  v = (unsigned long long)va_arg(args, uintmax_t); break;
          default:          v = va_arg(args, unsigned int); break;
        }
        mi_fmt_spec_t uspec = spec;
        uspec.sign = 0;
        const unsigned base = (conv == 'u' ? 10 : (conv == 'o' ? 8 : 16));
        mi_fmt_num(&out, &uspec, v, false, base, conv == 'X', "");
        break;
      }
      case 'p': {
        const void* p = va_arg(args, void*);
        mi_fmt_spec_t pspec = spec;
        pspec.sign = 0;
        mi_fmt_num(&out, &pspec, (unsigned long long)(uintptr_t)p, false, 16, false, "0x");
        break;
      }
      default:
        /* unknown or truncated conversion: copy it literally */
        for (const char* c = start; c <= f && *c != 0; c++) mi_fmt_putc(&out, *c);
        if (*f == 0) f--;   /* let the loop see the terminator */
        break;
    }
  }
  if (out.size > 0) out.buf[out.len < out.size ? out.len : out.size - 1] = 0;
  return (out.len > (size_t)INT_MAX ? INT_MAX : (int)out.len);
}

int _mi_snprintf(char* buf, size_t n, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  const int len = _mi_vsnprintf(buf, n, fmt, args);
  va_end(args);
  return len;
}


/* ============================================================================
   Output: every message goes through _mi_fputs to the registered output
   function, or to stderr. Messages are formatted on the stack (at most
   MI_MSG_MAX-1 characters; longer ones are truncated), so output never
   allocates and works before process init and on any thread.
============================================================================ */
#define MI_MSG_MAX 512

static mi_atomic(mi_output_fun*) mi_out_default_fun;    /* NULL: stderr */
static mi_atomic(void*)          mi_out_default_arg;
static _Thread_local bool        mi_out_recursing mi_decl_tls;   /* an output function is running on this thread */

static void mi_out_emit(mi_output_fun* out, void* arg, const char* msg) {
  if (out == NULL || mi_out_recursing) {
    /* no output function, or one of ours is re-entered (e.g. it allocated and that failed) */
    _mi_prim_out_stderr(msg);
    return;
  }
  mi_out_recursing = true;
  out(msg, arg);
  mi_out_recursing = false;
}

void mi_register_output(mi_output_fun* out, void* arg) mi_attr_noexcept {
  mi_atomic_store_release(&mi_out_default_arg, arg);
  mi_atomic_store_release(&mi_out_default_fun, out);
}

mi_decl_cold void _mi_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message) {
  if (out == NULL) {
    out = mi_atomic_load_acquire(&mi_out_default_fun);
    arg = mi_atomic_load_acquire(&mi_out_default_arg);
  }
  if (prefix == NULL) prefix = "";
  if (message == NULL) message = "";
  const size_t plen = strlen(prefix);
  const size_t mlen = strlen(message);
  if (plen == 0) {
    mi_out_emit(out, arg, message);
  }
  else if (plen + mlen < MI_MSG_MAX) {
    char buf[MI_MSG_MAX];   /* one call per message, so output functions see whole lines */
    memcpy(buf, prefix, plen);
    memcpy(buf + plen, message, mlen + 1);
    mi_out_emit(out, arg, buf);
  }
  else {
    mi_out_emit(out, arg, prefix);
    mi_out_emit(out, arg, message);
  }
}

/* Format a message into buf (size MI_MSG_MAX) and make sure it ends with a newline. */
static void mi_msg_format(char* buf, const char* fmt, va_list args) {
  int len = _mi_vsnprintf(buf, MI_MSG_MAX, fmt, args);
  if (len < 0) len = 0;
  size_t end = ((size_t)len < MI_MSG_MAX ? (size_t)len : MI_MSG_MAX - 1);
  if (end == 0 || buf[end - 1] != '\n') {
    if (end + 1 >= MI_MSG_MAX) end = MI_MSG_MAX - 2;   /* truncated: overwrite the last character */
    buf[end] = '\n';
    buf[end + 1] = 0;
  }
}

static void mi_vmessage(const char* prefix, const char* fmt, va_list args) {
  char buf[MI_MSG_MAX];
  mi_msg_format(buf, fmt, args);
  _mi_fputs(NULL, NULL, prefix, buf);
}

void _mi_message(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  mi_vmessage("mimic: ", fmt, args);
  va_end(args);
}

void _mi_verbose_message(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_verbose)) return;
  va_list args;
  va_start(args, fmt);
  mi_vmessage("mimic: ", fmt, args);
  va_end(args);
}

static mi_atomic(long) mi_warning_count;
static mi_atomic(long) mi_error_count;

/* true if another message of this kind may be shown (max < 0: no limit) */
static bool mi_msg_below_limit(mi_atomic(long)* count, mi_option_t max_option) {
  const long max = mi_option_get(max_option);
  const long n = mi_atomic_add_relaxed(count, 1);
  return (max < 0 || n < max);
}

void _mi_warning_message(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_show_errors) && !mi_option_is_enabled(mi_option_verbose)) return;
  if (!mi_msg_below_limit(&mi_warning_count, mi_option_max_warnings)) return;
  va_list args;
  va_start(args, fmt);
  mi_vmessage("mimic: warning: ", fmt, args);
  va_end(args);
}

/* ---- errors ---- */
static mi_atomic(mi_error_fun*) mi_error_handler;
static mi_atomic(void*)         mi_error_handler_arg;

void mi_register_error(mi_error_fun* fun, void* arg) {
  mi_atomic_store_release(&mi_error_handler_arg, arg);
  mi_atomic_store_release(&mi_error_handler, fun);   /* NULL: back to the default policy */
}

/* Default policy when no error function is registered: abort on corrupted
   meta-data (EFAULT) in debug or secure builds; with MI_XMALLOC also when out
   of memory (ENOMEM, EOVERFLOW). Everything else is reported and survived. */
static bool mi_error_default_aborts(int err) {
  if (err == EFAULT && (MI_DEBUG > 0 || MI_SECURE > 0)) return true;
#if defined(MI_XMALLOC)
  if (err == ENOMEM || err == EOVERFLOW) return true;
#endif
  return false;
}

void _mi_error_message(int err, const char* fmt, ...) {
  mi_error_fun* const handler = mi_atomic_load_acquire(&mi_error_handler);
  void* const handler_arg = mi_atomic_load_acquire(&mi_error_handler_arg);
  const bool will_abort = (handler == NULL && mi_error_default_aborts(err));
  bool show = (mi_option_is_enabled(mi_option_show_errors) || mi_option_is_enabled(mi_option_verbose));
  if (show) show = mi_msg_below_limit(&mi_error_count, mi_option_max_errors);
  if (show || will_abort) {   /* never abort without saying why */
    va_list args;
    va_start(args, fmt);
    mi_vmessage("mimic: error: ", fmt, args);
    va_end(args);
  }
  if (handler != NULL) {
    handler(err, handler_arg);
  }
  else if (will_abort) {
    abort();
  }
}

/* Called by mi_assert when an assertion fails (MI_DEBUG > 0): always printed, then abort. */
void _mi_assert_fail(const char* assertion, const char* fname, unsigned int line, const char* func) {
  _mi_message("assertion failed: at \"%s\":%u, %s\n  assertion: \"%s\"\n",
              fname, line, (func == NULL ? "" : func), assertion);
  abort();
}

/* ---- deferred free ---- */
static mi_atomic(mi_deferred_free_fun*) mi_deferred_free_fn;
static mi_atomic(void*)                 mi_deferred_free_arg;
static _Thread_local bool               mi_deferred_free_running mi_decl_tls;   /* recursion guard per thread */

void mi_register_deferred_free(mi_deferred_free_fun* fn, void* arg) mi_attr_noexcept {
  mi_atomic_store_release(&mi_deferred_free_arg, arg);
  mi_atomic_store_release(&mi_deferred_free_fn, fn);
}

void _mi_deferred_free_call(bool force, unsigned long long heartbeat) {
  mi_deferred_free_fun* const fn = mi_atomic_load_acquire(&mi_deferred_free_fn);
  if (fn == NULL || mi_deferred_free_running) return;
  mi_deferred_free_running = true;
  fn(force, heartbeat, mi_atomic_load_acquire(&mi_deferred_free_arg));
  mi_deferred_free_running = false;
}

#undef MI_OPTION_TABLE
#undef MI_OPTION_UNINIT
#undef MI_OPTION_BUSY
#undef MI_OPTION_DEFAULTED
#undef MI_OPTION_INITIALIZED
#undef MI_OPTION_ENV_NAME_MAX
#undef MI_OPTION_ENV_VALUE_MAX
#undef MI_MSG_MAX
