/* mimic: being the process's malloc — the C library's allocation names, glibc's extra malloc API,
   interoperation with memory we did not allocate, and redirection detection.

   Exported names (override builds on ELF with GCC or clang; CMake MI_OVERRIDE=ON):
     malloc calloc realloc free cfree reallocarray reallocf posix_memalign aligned_alloc memalign
     valloc pvalloc malloc_usable_size malloc_size malloc_good_size strdup strndup
     __libc_malloc __libc_calloc __libc_realloc __libc_free __libc_cfree __libc_valloc
     __libc_pvalloc __libc_memalign __posix_memalign                                   (glibc)
     mallinfo mallinfo2 malloc_trim malloc_stats malloc_info mallopt                   (glibc)
   C++ operator new/delete are in alloc-new.c (next to the mi_new family they alias).

   `realpath` is deliberately not exported: mi_realpath is built on the C library's realpath, so
   exporting ours would make it call itself; glibc's realpath already allocates its result
   through our malloc.

   Aliases or forwarders: an alias (no extra jump) needs the mi_ function in the same translation
   unit. That holds in the single-TU build (src/static.c -> mimic.o), detected by this file being
   #included (__INCLUDE_LEVEL__ > 0). Compiled on its own, each name is a one-line forwarder.

   Using it (tested in test/preload):
     LD_PRELOAD=/path/to/libmimic.so program     (or: mimic-run [--stats] [--verbose] -- program)
     cc -o program main.o ... /path/to/mimic.o -lpthread          objects always beat the C
                                                                    library's malloc
     cc -o program main.o ... -Wl,--whole-archive /path/to/libmimic.a -Wl,--no-whole-archive -lpthread
     both also with -static (glibc); add -rdynamic if the program looks mi_* up with dlsym.
   In every case the C library's own allocations (strdup, fopen's FILE, getline, qsort...) are
   mimic's too: glibc calls malloc through the dynamic symbol table.

   Nothing here runs at start-up except a verbose banner; every function works before mimic's
   constructor has run (the mi_ functions initialise the process lazily) and after its destructor. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // RTLD_NEXT, RTLD_DEFAULT, the glibc malloc.h extras
#endif
#include "mimic/internal.h"

// Called from free.c (and, once wired up, alloc.c); the lead moves these into internal.h.

#if defined(MI_MALLOC_OVERRIDE) && defined(__ELF__) && defined(__GNUC__)
#define MI_OVERRIDE_ACTIVE 1
#else
#define MI_OVERRIDE_ACTIVE 0
#endif

#if MI_OVERRIDE_ACTIVE
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// dlsym is referenced weakly: a fully static program must not drag in the dynamic loader for it,
// and a glibc older than 2.34 keeps it in libdl. Without it we fall back to conservative answers.
#pragma weak dlsym

/* ---------------------------------------------------------------------------------------------
   The C library's names
--------------------------------------------------------------------------------------------- */

#define MI_OVR __attribute__((visibility("default"), used))

// GCC >= 9 checks that an alias carries its target's attributes (malloc, alloc_size, nothrow...).
#if defined(__clang__) || (__GNUC__ < 9)
  #define MI_ALIAS_OF(fun)  __attribute__((alias(#fun)))
#else
  #define MI_ALIAS_OF(fun)  __attribute__((alias(#fun), copy(fun)))
#endif

#if (__INCLUDE_LEVEL__ > 0)
  #define MI_FORWARD(fun, call)         MI_ALIAS_OF(fun);
  #define MI_FORWARD_VOID(fun, call)    MI_FORWARD(fun, call)
#else
  #define MI_FORWARD(fun, call)         { return call; }
  #define MI_FORWARD_VOID(fun, call)    { call; }
#endif

MI_OVR void*  malloc(size_t size)                              MI_FORWARD(mi_malloc, mi_malloc(size))
MI_OVR void*  calloc(size_t count, size_t size)                MI_FORWARD(mi_calloc, mi_calloc(count, size))
MI_OVR void*  realloc(void* p, size_t newsize)                 MI_FORWARD(mi_realloc, mi_realloc(p, newsize))
MI_OVR void   free(void* p)                                    MI_FORWARD_VOID(mi_free, mi_free(p))
MI_OVR void   cfree(void* p)                                   MI_FORWARD_VOID(mi_cfree, mi_cfree(p))
MI_OVR void*  reallocarray(void* p, size_t count, size_t size) MI_FORWARD(mi_reallocarray, mi_reallocarray(p, count, size))
MI_OVR void*  reallocf(void* p, size_t newsize)                MI_FORWARD(mi_reallocf, mi_reallocf(p, newsize))
MI_OVR int    posix_memalign(void** p, size_t alignment, size_t size) MI_FORWARD(mi_posix_memalign, mi_posix_memalign(p, alignment, size))
MI_OVR void*  aligned_alloc(size_t alignment, size_t size)     MI_FORWARD(mi_aligned_alloc, mi_aligned_alloc(alignment, size))
MI_OVR void*  memalign(size_t alignment, size_t size)          MI_FORWARD(mi_memalign, mi_memalign(alignment, size))
MI_OVR void*  valloc(size_t size)                              MI_FORWARD(mi_valloc, mi_valloc(size))
MI_OVR void*  pvalloc(size_t size)                             MI_FORWARD(mi_pvalloc, mi_pvalloc(size))
MI_OVR size_t malloc_usable_size(void* p)                      MI_FORWARD(mi_malloc_usable_size, mi_malloc_usable_size(p))
MI_OVR size_t malloc_size(const void* p)                       MI_FORWARD(mi_malloc_size, mi_malloc_size(p))
MI_OVR size_t malloc_good_size(size_t size)                    MI_FORWARD(mi_malloc_good_size, mi_malloc_good_size(size))
#if !defined(strdup)
MI_OVR char*  strdup(const char* s)                            MI_FORWARD(mi_strdup, mi_strdup(s))
#endif
#if !defined(strndup)
MI_OVR char*  strndup(const char* s, size_t n)                 MI_FORWARD(mi_strndup, mi_strndup(s, n))
#endif

// glibc's own entry points: some programs and libraries call these directly to reach "the real"
// malloc; they must reach the same allocator as malloc/free.
#if defined(__GLIBC__)
MI_OVR void*  __libc_malloc(size_t size)                       MI_FORWARD(mi_malloc, mi_malloc(size))
MI_OVR void*  __libc_calloc(size_t count, size_t size)         MI_FORWARD(mi_calloc, mi_calloc(count, size))
MI_OVR void*  __libc_realloc(void* p, size_t newsize)          MI_FORWARD(mi_realloc, mi_realloc(p, newsize))
MI_OVR void   __libc_free(void* p)                             MI_FORWARD_VOID(mi_free, mi_free(p))
MI_OVR void   __libc_cfree(void* p)                            MI_FORWARD_VOID(mi_cfree, mi_cfree(p))
MI_OVR void*  __libc_valloc(size_t size)                       MI_FORWARD(mi_valloc, mi_valloc(size))
MI_OVR void*  __libc_pvalloc(size_t size)                      MI_FORWARD(mi_pvalloc, mi_pvalloc(size))
MI_OVR void*  __libc_memalign(size_t alignment, size_t size)   MI_FORWARD(mi_memalign, mi_memalign(alignment, size))
MI_OVR int    __posix_memalign(void** p, size_t alignment, size_t size) MI_FORWARD(mi_posix_memalign, mi_posix_memalign(p, alignment, size))
#endif

// Our own definitions under local names: comparing with these tells whether a lookup found us.
static void* mi_self_malloc(size_t size) MI_ALIAS_OF(malloc);
static void  mi_self_free(void* p) MI_ALIAS_OF(free);

/* ---------------------------------------------------------------------------------------------
   glibc's malloc extras. Figures come from the process-wide statistics, plus an exact walk of the
   calling thread's own heaps for what only the owner can see (live and free blocks): mimic keeps
   no per-allocation counters on its fast paths, and other threads' pages are theirs to walk.
--------------------------------------------------------------------------------------------- */
#if defined(__GLIBC__)

typedef struct mi_tally_s {
  size_t used_blocks, used_bytes;     // live blocks in small/medium/large pages of this thread
  size_t free_blocks, free_bytes;     // free blocks in those pages
  size_t huge_blocks, huge_bytes;     // live huge blocks owned by this thread
  size_t bin_free[MI_BIN_FULL + 1];   // free blocks per size class (malloc_info)
} mi_tally_t;

static bool mi_tally_page(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page, void* arg1, void* arg2) {
  (void)heap; (void)pq; (void)arg2;
  mi_tally_t* t = (mi_tally_t*)arg1;
  const size_t bsize = mi_page_block_size(page);
  const size_t used = page->used;   // includes blocks freed by other threads and not collected yet
  if (mi_page_is_huge(page)) {
    t->huge_blocks += used;
    t->huge_bytes += used * bsize;
    return true;
  }
  const size_t nfree = (page->reserved > used ? page->reserved - used : 0);
  t->used_blocks += used;
  t->used_bytes += used * bsize;
  t->free_blocks += nfree;
  t->free_bytes += nfree * bsize;
  size_t bin = _mi_bin(bsize);
  if (bin <= MI_BIN_FULL) t->bin_free[bin] += nfree;
  return true;
}

// Walk every heap of the calling thread (only the owner may read its page queues).
static void mi_tally_thread(mi_tally_t* t) {
  memset(t, 0, sizeof(*t));
  mi_heap_t* heap = mi_prim_get_default_heap();
  if (!mi_heap_is_initialized(heap) || heap->tld == NULL) return;
  for (mi_heap_t* h = heap->tld->heaps; h != NULL; h = h->next) {
    _mi_heap_visit_pages(h, &mi_tally_page, t, NULL);
  }
}

static size_t mi_stat_now(mi_stat_count_atomic_t* s) {
  int64_t v = atomic_load_explicit(&s->current, memory_order_relaxed);
  return (v > 0 ? (size_t)v : 0);
}
static size_t mi_stat_peak(mi_stat_count_atomic_t* s) {
  int64_t v = atomic_load_explicit(&s->peak, memory_order_relaxed);
  return (v > 0 ? (size_t)v : 0);
}
static int64_t mi_stat_total_counter(mi_stat_counter_atomic_t* s) {
  return atomic_load_explicit(&s->total, memory_order_relaxed);
}

/* The figures, glibc field by field (see `man mallinfo2`):
     arena     process: bytes mapped from the OS for segments (small/medium/large pages) and
               metadata = committed - hblkhd. Purged pages stay counted until unmapped.
     ordblks   calling thread: free blocks in its pages (glibc: free chunks)
     smblks    0: there are no fastbins
     hblks     calling thread: live huge blocks (> 2 MiB, each in its own OS mapping)
     hblkhd    process: bytes in live huge blocks (glibc: bytes in mmapped regions)
     usmblks   process: peak committed bytes (glibc leaves it 0; historically the high-water mark)
     fsmblks   0: there are no fastbins
     uordblks  calling thread: bytes in its live non-huge blocks (glibc: allocated bytes)
     fordblks  arena - uordblks: mapped bytes not holding this thread's live blocks
     keepcost  process: bytes in empty segments cached for reuse; malloc_trim releases them
   For a single-threaded program the calling-thread figures cover every live block. */
typedef struct mi_info_s {
  size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
} mi_info_t;

static mi_decl_cold void mi_info_compute(mi_info_t* info, mi_tally_t* t) {
  mi_tally_thread(t);
  const size_t committed = mi_stat_now(&_mi_stats_main.committed);
  const size_t huge = mi_stat_now(&_mi_stats_main.huge);
  memset(info, 0, sizeof(*info));
  info->hblkhd   = huge;
  info->arena    = (committed > huge ? committed - huge : 0);
  info->ordblks  = t->free_blocks;
  info->hblks    = t->huge_blocks;
  info->usmblks  = mi_stat_peak(&_mi_stats_main.committed);
  info->uordblks = t->used_bytes;
  info->fordblks = (info->arena > info->uordblks ? info->arena - info->uordblks : 0);
  info->keepcost = mi_stat_now(&_mi_stats_main.segments_cached) * MI_SEGMENT_SIZE;
}

static int mi_clamp_int(size_t x) { return (x > (size_t)INT_MAX ? INT_MAX : (int)x); }

MI_OVR struct mallinfo mallinfo(void) {
  mi_tally_t t; mi_info_t info;
  mi_info_compute(&info, &t);
  struct mallinfo m;
  memset(&m, 0, sizeof(m));
  m.arena = mi_clamp_int(info.arena);        m.ordblks = mi_clamp_int(info.ordblks);
  m.smblks = 0;                              m.hblks = mi_clamp_int(info.hblks);
  m.hblkhd = mi_clamp_int(info.hblkhd);      m.usmblks = mi_clamp_int(info.usmblks);
  m.fsmblks = 0;                             m.uordblks = mi_clamp_int(info.uordblks);
  m.fordblks = mi_clamp_int(info.fordblks);  m.keepcost = mi_clamp_int(info.keepcost);
  return m;
}

#if (__GLIBC__ > 2) || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
MI_OVR struct mallinfo2 mallinfo2(void) {
  mi_tally_t t; mi_info_t info;
  mi_info_compute(&info, &t);
  struct mallinfo2 m;
  memset(&m, 0, sizeof(m));
  m.arena = info.arena;        m.ordblks = info.ordblks;   m.smblks = 0;
  m.hblks = info.hblks;        m.hblkhd = info.hblkhd;     m.usmblks = info.usmblks;
  m.fsmblks = 0;               m.uordblks = info.uordblks; m.fordblks = info.fordblks;
  m.keepcost = info.keepcost;
  return m;
}
#endif

/* Return free memory to the OS: collect the calling thread's heaps and the segment cache.
   `pad` (bytes to keep) is ignored. 1 if memory went back to the OS (committed bytes dropped, or
   pages were purged or unmapped), else 0 — glibc's contract. */
MI_OVR int malloc_trim(size_t pad) {
  (void)pad;
  const size_t committed0 = mi_stat_now(&_mi_stats_main.committed);
  const int64_t purged0 = atomic_load_explicit(&_mi_stats_main.purged.total, memory_order_relaxed);
  const int64_t unmaps0 = mi_stat_total_counter(&_mi_stats_main.munmap_calls);
  mi_collect(true);
  const size_t committed1 = mi_stat_now(&_mi_stats_main.committed);
  const int64_t purged1 = atomic_load_explicit(&_mi_stats_main.purged.total, memory_order_relaxed);
  const int64_t unmaps1 = mi_stat_total_counter(&_mi_stats_main.munmap_calls);
  return (committed1 < committed0 || purged1 > purged0 || unmaps1 > unmaps0) ? 1 : 0;
}

static void mi_out_stderr(const char* msg, void* arg) { (void)arg; _mi_prim_out_stderr(msg); }

// glibc prints its arena summary to stderr; we print mimic's statistics table there.
MI_OVR void malloc_stats(void) { mi_stats_print_out(&mi_out_stderr, NULL); }

/* glibc's XML report (same element names, so tools that parse it keep working). Only figures are
   read (atomics and the calling thread's own pages); no lock is held, so fprintf may allocate. */
MI_OVR int malloc_info(int options, FILE* fp) {
  if (options != 0 || fp == NULL) { errno = EINVAL; return -1; }
  mi_tally_t t; mi_info_t info;
  mi_info_compute(&info, &t);
  const size_t reserved = mi_stat_now(&_mi_stats_main.reserved);
  const size_t committed = mi_stat_now(&_mi_stats_main.committed);
  fprintf(fp, "<malloc version=\"1\">\n");
  fprintf(fp, "<heap nr=\"0\">\n<sizes>\n");
  for (size_t bin = 1; bin < MI_BIN_HUGE; bin++) {
    if (t.bin_free[bin] == 0) continue;
    const size_t bsize = _mi_bin_size(bin);
    fprintf(fp, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
            bsize, bsize, t.bin_free[bin] * bsize, t.bin_free[bin]);
  }
  fprintf(fp, "</sizes>\n");
  fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
  fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", t.free_blocks, t.free_bytes);
  fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", info.arena);
  fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", info.usmblks);
  fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", reserved);
  fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", committed);
  fprintf(fp, "</heap>\n");
  fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
  fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", t.free_blocks, t.free_bytes);
  fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n", info.hblks, info.hblkhd);
  fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", committed);
  fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", info.usmblks);
  fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", reserved);
  fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", committed);
  fprintf(fp, "</malloc>\n");
  return 0;
}

/* glibc tuning knobs: accepted (1) and ignored — mimic's own options (MIMIC_* environment
   variables, mi_option_set) play their role. Unknown parameters return 0, as in glibc. */
MI_OVR int mallopt(int param, int value) {
  switch (param) {
#ifdef M_MXFAST
    case M_MXFAST:
#endif
#ifdef M_TRIM_THRESHOLD
    case M_TRIM_THRESHOLD:
#endif
#ifdef M_TOP_PAD
    case M_TOP_PAD:
#endif
#ifdef M_MMAP_THRESHOLD
    case M_MMAP_THRESHOLD:
#endif
#ifdef M_MMAP_MAX
    case M_MMAP_MAX:
#endif
#ifdef M_CHECK_ACTION
    case M_CHECK_ACTION:
#endif
#ifdef M_PERTURB
    case M_PERTURB:
#endif
#ifdef M_ARENA_TEST
    case M_ARENA_TEST:
#endif
#ifdef M_ARENA_MAX
    case M_ARENA_MAX:
#endif
      _mi_verbose_message("mallopt(%d, %d): accepted, no effect in mimic\n", param, value);
      return 1;
    default:
      return 0;
  }
}

#endif  // __GLIBC__

/* ---------------------------------------------------------------------------------------------
   Memory we did not allocate (see the README notes on foreign pointers)
--------------------------------------------------------------------------------------------- */

#if defined(__GLIBC__)

typedef void (mi_libc_free_fun)(void*);
#if (__GLIBC__ > 2) || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
typedef struct mallinfo2 (mi_libc_mallinfo_fun)(void);
#define MI_LIBC_MALLINFO "mallinfo2"
#else
typedef struct mallinfo (mi_libc_mallinfo_fun)(void);
#define MI_LIBC_MALLINFO "mallinfo"
#endif

typedef size_t (mi_libc_usable_fun)(void*);

#define MI_LIBC_UNRESOLVED 0
#define MI_LIBC_RESOLVING  1
#define MI_LIBC_RESOLVED   2
static mi_atomic(int)         mi_libc_state;      // MI_LIBC_*
static mi_libc_free_fun*      mi_libc_free;       // the C library's free (next definition after us), or NULL
static mi_libc_mallinfo_fun*  mi_libc_mallinfo;   // the C library's mallinfo2/mallinfo, or NULL
static mi_libc_usable_fun*    mi_libc_usable;     // the C library's malloc_usable_size, or NULL
static mi_atomic(size_t)      mi_foreign_returned;

/* Look up the C library's free and mallinfo once (RTLD_NEXT: the next definition after the object
   calling dlsym, i.e. glibc's own). dlsym may allocate (calloc for its error state), re-entering
   mimic: fine, our allocation works at any time. A foreign free that arrives while the lookup is
   running (from dlsym itself or another thread) is not handed back: it is reported and leaked. */
static bool mi_libc_resolve(void) {
  int state = mi_atomic_load_acquire(&mi_libc_state);
  if (state == MI_LIBC_RESOLVED) return true;
  if (state == MI_LIBC_RESOLVING) return false;
  int expected = MI_LIBC_UNRESOLVED;
  if (!mi_atomic_cas_strong_acq_rel(&mi_libc_state, &expected, MI_LIBC_RESOLVING)) {
    return (expected == MI_LIBC_RESOLVED);
  }
  if (dlsym != NULL) {
    void* f = dlsym(RTLD_NEXT, "free");
    void* m = dlsym(RTLD_NEXT, MI_LIBC_MALLINFO);
    void* u = dlsym(RTLD_NEXT, "malloc_usable_size");
    if (f != NULL && f != (void*)&mi_self_free && m != NULL && u != NULL) {
      mi_libc_free = (mi_libc_free_fun*)f;
      mi_libc_mallinfo = (mi_libc_mallinfo_fun*)m;
      mi_libc_usable = (mi_libc_usable_fun*)u;
    }
  }
  mi_atomic_store_release(&mi_libc_state, MI_LIBC_RESOLVED);
  return true;
}

/* Does `p` look like the start of a glibc malloc chunk's payload? glibc puts a size word before
   every payload (low 3 bits: flags, IS_MMAPPED = 2) and, for mmapped chunks, the offset to the
   mapping start before that; payloads are 2*sizeof(size_t) aligned. We only read those words when
   they lie on the same OS page as `p` itself, so a caller's garbage pointer never makes us touch
   a page the caller did not hand us. */
static bool mi_libc_chunk_plausible(const void* p) {
  const uintptr_t a = (uintptr_t)p;
  const size_t align = 2 * sizeof(size_t);
  const size_t psize = _mi_os_page_size();
  if (a % align != 0 || (a % psize) < 2 * sizeof(size_t)) return false;
  const size_t head = ((const size_t*)p)[-1];
  const size_t size = head & ~(size_t)7;
  if (size < 2 * align || size % align != 0) return false;
  if (a + size < a) return false;                  // would wrap around the address space
  if ((head & 2) != 0) {                           // mmapped chunk: offset + size covers whole pages
    const size_t offset = ((const size_t*)p)[-2];
    if (offset % align != 0 || (offset + size) % psize != 0) return false;
  }
  return true;
}

// glibc's allocator holds memory (so a glibc chunk can exist at all).
static bool mi_libc_holds_memory(void) {
  if (mi_libc_mallinfo == NULL) return false;
  __typeof__(mi_libc_mallinfo()) m = mi_libc_mallinfo();
  return (m.arena > 0 || m.hblkhd > 0);   // arena: sbrk'd and mmapped heaps; hblkhd: mmapped chunks
}

#endif  // __GLIBC__

/* Called by mi_free for a pointer the segment map does not know. In an override build such a
   pointer can legitimately come from glibc's allocator, used before mimic took over (a library
   that captured glibc's malloc, memory handed over by the dynamic loader, a statically linked
   edge case). It must never reach our heaps. If glibc's allocator holds memory and the pointer
   looks like one of its chunks, it goes back to glibc's free: true. Otherwise false: mi_free
   reports it through the error funnel (EINVAL, "invalid pointer") and ignores it (leaks it). */
bool _mi_free_foreign(void* p) {
#if defined(__GLIBC__)
  if (p == NULL) return true;
  if (!mi_libc_resolve() || mi_libc_free == NULL) return false;
  if (!mi_libc_chunk_plausible(p) || !mi_libc_holds_memory()) return false;
  if (mi_atomic_add_relaxed(&mi_foreign_returned, 1) == 0) {
    _mi_verbose_message("free: %p was allocated by the C library's malloc: handed back to its free\n", p);
  }
  mi_libc_free(p);
  return true;
#else
  (void)p;
  return false;
#endif
}

/* The usable size of a pointer the segment map does not know, if it is a glibc chunk (as for
   _mi_free_foreign), else 0. Lets realloc/malloc_usable_size serve such pointers: copy out, then
   mi_free hands the old block back to glibc. */
size_t _mi_foreign_usable_size(const void* p) {
#if defined(__GLIBC__)
  if (p == NULL || !mi_libc_resolve() || mi_libc_usable == NULL) return 0;
  if (!mi_libc_chunk_plausible(p) || !mi_libc_holds_memory()) return 0;
  return mi_libc_usable((void*)p);
#else
  (void)p;
  return 0;
#endif
}

/* True when our malloc is the one the process uses. A global lookup of "malloc" either finds our
   definition, or — in a non-PIE executable that takes malloc's address — the executable's PLT
   stub, which is the function's canonical address and jumps to whichever malloc the process
   bound. So we do not compare addresses only: we allocate through what the lookup found and ask
   whether the block is ours. Computed once. Without dlsym, or without any dynamic "malloc" (a
   fully static program), our malloc is the one linked in, hence used. */
typedef void* (mi_malloc_fun_t)(size_t);
typedef void  (mi_free_fun_t)(void*);
static mi_atomic(int) mi_redirect_state;   // 0 unknown, 1 yes, 2 no

static bool mi_redirect_probe(void) {
  if (dlsym == NULL) return true;
  void* m = dlsym(RTLD_DEFAULT, "malloc");
  // no dynamic "malloc" at all: a static executable, which can only have linked in ours
  if (m == NULL || m == (void*)&mi_self_malloc) return true;
  void* f = dlsym(RTLD_DEFAULT, "free");
  if (f == NULL) return false;
  void* p = ((mi_malloc_fun_t*)m)(16);
  const bool ours = (p != NULL && _mi_checked_ptr_segment(p, NULL) != NULL);
  ((mi_free_fun_t*)f)(p);   // the matching free, ours or not
  return ours;
}

bool mi_is_redirected(void) mi_attr_noexcept {
  int state = mi_atomic_load_relaxed(&mi_redirect_state);
  if (state == 0) {
    state = (mi_redirect_probe() ? 1 : 2);
    mi_atomic_store_relaxed(&mi_redirect_state, state);
  }
  return (state == 1);
}

// The verbose banner says whether the override is in effect (after mimic's own constructor).
__attribute__((constructor(102))) static void mi_override_banner(void) {
  if (!mi_option_is_enabled(mi_option_verbose)) return;
  _mi_verbose_message("malloc override: %s\n",
                      mi_is_redirected() ? "active (malloc, free and operator new/delete are mimic's)"
                                         : "not in effect (another malloc comes first; mi_* still work)");
}

#else  // !MI_OVERRIDE_ACTIVE

bool _mi_free_foreign(void* p) { (void)p; return false; }
size_t _mi_foreign_usable_size(const void* p) { (void)p; return 0; }
bool mi_is_redirected(void) mi_attr_noexcept { return false; }

#endif
