/* ----------------------------------------------------------------------------
  mimic: a malloc replacement compatible with the mimalloc v2 API.
  MIT license, see LICENSE.

  include/mimic.h: the complete public interface (159 functions of the mimalloc
  v2.4.1 API with the same names, signatures, argument order and attributes),
  the public types, the option enumeration in v2 numbering, the typed
  allocation macros and the v3 `mi_theap_*` compatibility names.
  A program written for mimalloc can include <mimalloc.h> (which only includes
  this file) and compile unchanged.
---------------------------------------------------------------------------- */
#pragma once
#ifndef MIMIC_H
#define MIMIC_H

#define MIMIC_VERSION      100     /* mimic 0.1.0: major*10000 + minor*100 + patch */
#define MI_MALLOC_VERSION  20401   /* API level we are compatible with: mimalloc v2.4.1 */

/* ----------------------------------------------------------------------------
  Declaration and attribute macros
  - mi_decl_export      symbol visibility / DLL import-export
  - mi_decl_nodiscard   warn when a result (usually a pointer) is ignored
  - mi_decl_restrict    MSVC: the result does not alias (GCC/clang use mi_attr_malloc)
  - mi_attr_noexcept    C++: the function never throws
  - mi_attr_malloc, mi_attr_alloc_size(i), mi_attr_alloc_size2(i,j),
    mi_attr_alloc_align(i)   GCC/clang allocation attributes (1-based argument indices)
  - mi_cdecl            MSVC calling convention of callbacks
---------------------------------------------------------------------------- */
#ifdef __cplusplus
  #if (__cplusplus >= 201103L) || (defined(_MSC_VER) && _MSC_VER >= 1900)
    #define mi_attr_noexcept   noexcept
  #else
    #define mi_attr_noexcept   throw()
  #endif
#else
  #define mi_attr_noexcept
#endif

#if defined(__has_attribute)
  #define mi_has_attribute_(x)  __has_attribute(x)
#else
  #define mi_has_attribute_(x)  0
#endif

#if defined(_MSC_VER) && !defined(__clang__)
  #if defined(MI_SHARED_LIB)
    #if defined(MI_SHARED_LIB_EXPORT)
      #define mi_decl_export   __declspec(dllexport)
    #else
      #define mi_decl_export   __declspec(dllimport)
    #endif
  #else
    #define mi_decl_export
  #endif
  #if defined(__cplusplus) && (_MSVC_LANG >= 201703L)
    #define mi_decl_nodiscard  [[nodiscard]]
  #else
    #define mi_decl_nodiscard
  #endif
  #if (_MSC_VER >= 1900)
    #define mi_decl_restrict   __declspec(allocator) __declspec(restrict)
  #else
    #define mi_decl_restrict   __declspec(restrict)
  #endif
  #define mi_cdecl             __cdecl
  #define mi_attr_malloc
  #define mi_attr_alloc_size(i)
  #define mi_attr_alloc_size2(i,j)
  #define mi_attr_alloc_align(i)
#elif defined(__GNUC__)   /* gcc, clang (also clang-cl and MinGW) */
  #if defined(_WIN32) || defined(__CYGWIN__)
    #if defined(MI_SHARED_LIB) && defined(MI_SHARED_LIB_EXPORT)
      #define mi_decl_export   __declspec(dllexport)
    #elif defined(MI_SHARED_LIB)
      #define mi_decl_export   __declspec(dllimport)
    #else
      #define mi_decl_export
    #endif
  #else
    #define mi_decl_export     __attribute__((visibility("default")))
  #endif
  #define mi_decl_nodiscard    __attribute__((warn_unused_result))
  #define mi_decl_restrict
  #define mi_cdecl
  #define mi_attr_malloc       __attribute__((malloc))
  #if defined(__clang__) || (__GNUC__ >= 5) || mi_has_attribute_(alloc_size)
    #define mi_attr_alloc_size(i)     __attribute__((alloc_size(i)))
    #define mi_attr_alloc_size2(i,j)  __attribute__((alloc_size(i,j)))
  #else
    #define mi_attr_alloc_size(i)
    #define mi_attr_alloc_size2(i,j)
  #endif
  #if (!defined(__clang__) && (__GNUC__ > 4 || (__GNUC__ == 4 && __GNUC_MINOR__ >= 9))) || mi_has_attribute_(alloc_align)
    #define mi_attr_alloc_align(i)    __attribute__((alloc_align(i)))
  #else
    #define mi_attr_alloc_align(i)
  #endif
#else
  #define mi_decl_export
  #define mi_decl_nodiscard
  #define mi_decl_restrict
  #define mi_cdecl
  #define mi_attr_malloc
  #define mi_attr_alloc_size(i)
  #define mi_attr_alloc_size2(i,j)
  #define mi_attr_alloc_align(i)
#endif

/* ----------------------------------------------------------------------------
  Includes and public types
---------------------------------------------------------------------------- */
#include <stddef.h>    /* size_t, wchar_t */
#include <stdbool.h>   /* bool */
#include <stdint.h>    /* int64_t (mimalloc-stats.h) */

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks of at most this many words (bytes) can use mi_malloc_small / mi_heap_malloc_small. */
#define MI_SMALL_WSIZE_MAX  (128)
#define MI_SMALL_SIZE_MAX   (MI_SMALL_WSIZE_MAX*sizeof(void*))

/* A first-class heap: thread-affine (v2 semantics); opaque. */
typedef struct mi_heap_s mi_heap_t;

/* Public statistics record, defined in <mimalloc-stats.h>. */
typedef struct mi_stats_s mi_stats_t;

/* Called by the allocator at times it may free memory the program holds on to
   (force: free as much as possible; heartbeat: increases on each call). */
typedef void (mi_cdecl mi_deferred_free_fun)(bool force, unsigned long long heartbeat, void* arg);

/* Receives every message (statistics, warnings, errors); `msg` is a complete string. */
typedef void (mi_cdecl mi_output_fun)(const char* msg, void* arg);

/* Receives the errno-style code of every error: EAGAIN (double free), ENOMEM, EOVERFLOW,
   EINVAL (invalid pointer freed) and EFAULT (corrupted meta-data). */
typedef void (mi_cdecl mi_error_fun)(int err, void* arg);

/* One area of blocks of the same size, as passed to a block visitor. */
typedef struct mi_heap_area_s {
  void*  blocks;           /* start of the area's blocks */
  size_t reserved;         /* bytes of address space reserved for the area */
  size_t committed;        /* bytes of the area currently backed by memory */
  size_t used;             /* number of blocks in use */
  size_t block_size;       /* size of each block as seen by the program */
  size_t full_block_size;  /* size of each block including padding and meta-data */
  int    heap_tag;         /* tag of the heap that owns the area */
} mi_heap_area_t;

/* Visitor for mi_heap_visit_blocks / mi_abandoned_visit_blocks: called once per area with
   block==NULL, then (if requested) once per block in use. Return false to stop. */
typedef bool (mi_cdecl mi_block_visit_fun)(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size, void* arg);

typedef int   mi_arena_id_t;     /* identifies an arena (0: none) */
typedef void* mi_subproc_id_t;   /* identifies a sub-process (NULL: the main one) */

/* ----------------------------------------------------------------------------
  Standard allocation (malloc, calloc, realloc, free, strdup, ...)
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_calloc(size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1, 2);
mi_decl_nodiscard mi_decl_export void* mi_realloc(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_export void* mi_expand(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_export void mi_free(void* p) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_strdup(const char* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_strndup(const char* s, size_t n) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_realpath(const char* fname, char* resolved_name) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  Extended allocation
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc_small(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc_small(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_mallocn(size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1, 2);
mi_decl_nodiscard mi_decl_export void* mi_reallocn(void* p, size_t count, size_t size) mi_attr_noexcept mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export void* mi_reallocf(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export size_t mi_usable_size(const void* p) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_good_size(size_t size) mi_attr_noexcept;
mi_decl_export void mi_free_small(void* p) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  Callbacks, collection, statistics, process and thread life-time
---------------------------------------------------------------------------- */
mi_decl_export void mi_register_deferred_free(mi_deferred_free_fun* deferred_free, void* arg) mi_attr_noexcept;
mi_decl_export void mi_register_output(mi_output_fun* out, void* arg) mi_attr_noexcept;
mi_decl_export void mi_register_error(mi_error_fun* fun, void* arg);
mi_decl_export void mi_collect(bool force) mi_attr_noexcept;
mi_decl_export int mi_version(void) mi_attr_noexcept;
mi_decl_export void mi_stats_reset(void) mi_attr_noexcept;
mi_decl_export void mi_stats_merge(void) mi_attr_noexcept;
mi_decl_export void mi_stats_print(void* out) mi_attr_noexcept;
mi_decl_export void mi_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept;
mi_decl_export void mi_thread_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept;
mi_decl_export void mi_options_print(void) mi_attr_noexcept;
mi_decl_export void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs, size_t* current_rss, size_t* peak_rss, size_t* current_commit, size_t* peak_commit, size_t* page_faults) mi_attr_noexcept;
mi_decl_export void mi_process_init(void) mi_attr_noexcept;
mi_decl_export void mi_cdecl mi_process_done(void) mi_attr_noexcept;
mi_decl_export void mi_thread_init(void) mi_attr_noexcept;
mi_decl_export void mi_thread_done(void) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  Aligned allocation
  alignment: a power of two; offset: the address p+offset is aligned
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc_aligned(size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc_aligned(size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_calloc_aligned(size_t count, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1, 2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_calloc_aligned_at(size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1, 2);
mi_decl_nodiscard mi_decl_export void* mi_realloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export void* mi_realloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(2);

/* ----------------------------------------------------------------------------
  Allocation that also reports the usable size of the block ("u" API)
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_umalloc(size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_ucalloc(size_t count, size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1, 2);
mi_decl_nodiscard mi_decl_export void* mi_urealloc(void* p, size_t newsize, size_t* block_size_pre, size_t* block_size_post) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_export void mi_ufree(void* p, size_t* block_size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_umalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_uzalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_umalloc_small(size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_uzalloc_small(size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);

/* ----------------------------------------------------------------------------
  First-class heaps (thread-affine: only the creating thread allocates from a heap)
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export mi_heap_t* mi_heap_new(void);
mi_decl_export void mi_heap_delete(mi_heap_t* heap);
mi_decl_export void mi_heap_destroy(mi_heap_t* heap);
mi_decl_export mi_heap_t* mi_heap_set_default(mi_heap_t* heap);
mi_decl_export mi_heap_t* mi_heap_get_default(void);
mi_decl_export mi_heap_t* mi_heap_get_backing(void);
mi_decl_export void mi_heap_collect(mi_heap_t* heap, bool force) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_calloc(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_mallocn(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_heap_realloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export void* mi_heap_reallocn(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept mi_attr_alloc_size2(3, 4);
mi_decl_nodiscard mi_decl_export void* mi_heap_reallocf(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_heap_strdup(mi_heap_t* heap, const char* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_heap_strndup(mi_heap_t* heap, const char* s, size_t n) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_heap_realpath(mi_heap_t* heap, const char* fname, char* resolved_name) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_calloc_aligned(mi_heap_t* heap, size_t count, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2, 3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_calloc_aligned_at(mi_heap_t* heap, size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export void* mi_heap_realloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export void* mi_heap_realloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(3);

/* ----------------------------------------------------------------------------
  Zero-initialised re-allocation: the grown part of the block is zero
  (only valid for blocks that were allocated zero-initialised)
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export void* mi_rezalloc(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_recalloc(void* p, size_t newcount, size_t size) mi_attr_noexcept mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export void* mi_rezalloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export void* mi_rezalloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_recalloc_aligned(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept mi_attr_alloc_size2(2, 3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export void* mi_recalloc_aligned_at(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export void* mi_heap_rezalloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export void* mi_heap_recalloc(mi_heap_t* heap, void* p, size_t newcount, size_t size) mi_attr_noexcept mi_attr_alloc_size2(3, 4);
mi_decl_nodiscard mi_decl_export void* mi_heap_rezalloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export void* mi_heap_rezalloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export void* mi_heap_recalloc_aligned(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept mi_attr_alloc_size2(3, 4) mi_attr_alloc_align(5);
mi_decl_nodiscard mi_decl_export void* mi_heap_recalloc_aligned_at(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size2(3, 4);

/* ----------------------------------------------------------------------------
  Analysis and ownership
---------------------------------------------------------------------------- */
mi_decl_export bool mi_heap_contains_block(mi_heap_t* heap, const void* p);
mi_decl_export bool mi_heap_check_owned(mi_heap_t* heap, const void* p);
mi_decl_export bool mi_check_owned(const void* p);
mi_decl_export bool mi_heap_visit_blocks(const mi_heap_t* heap, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);
mi_decl_nodiscard mi_decl_export bool mi_is_in_heap_region(const void* p) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export bool mi_is_redirected(void) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  OS memory reservation and arenas
---------------------------------------------------------------------------- */
mi_decl_export int mi_reserve_huge_os_pages_interleave(size_t pages, size_t numa_nodes, size_t timeout_msecs) mi_attr_noexcept;
mi_decl_export int mi_reserve_huge_os_pages_at(size_t pages, int numa_node, size_t timeout_msecs) mi_attr_noexcept;
mi_decl_export int mi_reserve_os_memory(size_t size, bool commit, bool allow_large) mi_attr_noexcept;
mi_decl_export bool mi_manage_os_memory(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node) mi_attr_noexcept;
mi_decl_export void mi_debug_show_arenas(void) mi_attr_noexcept;
mi_decl_export void mi_arenas_print(void) mi_attr_noexcept;
mi_decl_export void* mi_arena_area(mi_arena_id_t arena_id, size_t* size);
mi_decl_export int mi_reserve_huge_os_pages_at_ex(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
mi_decl_export int mi_reserve_os_memory_ex(size_t size, bool commit, bool allow_large, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
mi_decl_export bool mi_manage_os_memory_ex(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_heap_t* mi_heap_new_in_arena(mi_arena_id_t arena_id);

/* ----------------------------------------------------------------------------
  Sub-processes
---------------------------------------------------------------------------- */
mi_decl_export mi_subproc_id_t mi_subproc_main(void);
mi_decl_export mi_subproc_id_t mi_subproc_new(void);
mi_decl_export void mi_subproc_delete(mi_subproc_id_t subproc);
mi_decl_export void mi_subproc_add_current_thread(mi_subproc_id_t subproc);
mi_decl_export bool mi_abandoned_visit_blocks(mi_subproc_id_t subproc_id, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);

/* ----------------------------------------------------------------------------
  Guarded allocation, thread pools, experimental
---------------------------------------------------------------------------- */
mi_decl_export void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed);
mi_decl_export void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max);
mi_decl_export void mi_thread_set_in_threadpool(void) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_heap_t* mi_heap_new_ex(int heap_tag, bool allow_destroy, mi_arena_id_t arena_id);
mi_decl_nodiscard mi_decl_export bool mi_unsafe_heap_page_is_under_utilized(mi_heap_t* heap, void* p, size_t perc_threshold) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  Deprecated
---------------------------------------------------------------------------- */
mi_decl_export int mi_reserve_huge_os_pages(size_t pages, double max_secs, size_t* pages_reserved) mi_attr_noexcept;
mi_decl_export void mi_collect_reduce(size_t target_thread_owned) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  Options (v2 numbering: append-only, the values are part of the ABI).
  Environment: MIMIC_<NAME>, else MIMALLOC_<NAME> (case-insensitive), e.g. MIMALLOC_VERBOSE=1.
---------------------------------------------------------------------------- */
typedef enum mi_option_e {
  mi_option_show_errors,                /*  0: print error messages */
  mi_option_show_stats,                 /*  1: print statistics at process exit */
  mi_option_verbose,                    /*  2: print verbose messages */
  mi_option_eager_commit,               /*  3: commit segments eagerly */
  mi_option_arena_eager_commit,         /*  4: commit arenas eagerly (2: only on overcommitting OSes) */
  mi_option_purge_decommits,            /*  5: purge by decommitting (0: by resetting) */
  mi_option_allow_large_os_pages,       /*  6: allow large (2 MiB) OS pages */
  mi_option_reserve_huge_os_pages,      /*  7: reserve N huge (1 GiB) OS pages at start-up */
  mi_option_reserve_huge_os_pages_at,   /*  8: NUMA node for the huge pages (-1: spread) */
  mi_option_reserve_os_memory,          /*  9: reserve this much OS memory at start-up (KiB) */
  mi_option_deprecated_segment_cache,   /* 10 */
  mi_option_deprecated_page_reset,      /* 11 */
  mi_option_abandoned_page_purge,       /* 12: purge the free pages of abandoned segments */
  mi_option_deprecated_segment_reset,   /* 13 */
  mi_option_eager_commit_delay,         /* 14: the first N segments of a thread are committed lazily */
  mi_option_purge_delay,                /* 15: ms before unused memory is purged (0: at once, -1: never) */
  mi_option_use_numa_nodes,             /* 16: number of NUMA nodes to use (0: detect) */
  mi_option_disallow_os_alloc,          /* 17: only allocate from reserved arenas, never from the OS */
  mi_option_os_tag,                     /* 18: macOS VM tag */
  mi_option_max_errors,                 /* 19: print at most N error messages */
  mi_option_max_warnings,               /* 20: print at most N warning messages */
  mi_option_max_segment_reclaim,        /* 21: % of abandoned segments visited per reclaim attempt */
  mi_option_destroy_on_exit,            /* 22: release all memory at process exit */
  mi_option_arena_reserve,              /* 23: arena reservation size (KiB) */
  mi_option_arena_purge_mult,           /* 24: arena purge delay = purge_delay * this */
  mi_option_purge_extend_delay,         /* 25: ms a pending purge is extended by on further frees */
  mi_option_abandoned_reclaim_on_free,  /* 26: a free into an abandoned segment may reclaim it */
  mi_option_disallow_arena_alloc,       /* 27: do not allocate from arenas */
  mi_option_retry_on_oom,               /* 28: ms to retry an allocation that ran out of memory (Windows) */
  mi_option_visit_abandoned,            /* 29: allow visiting abandoned blocks */
  mi_option_guarded_min,                /* 30: smallest size of a guarded allocation */
  mi_option_guarded_max,                /* 31: largest size of a guarded allocation */
  mi_option_guarded_precise,            /* 32: place guarded objects right before the guard page */
  mi_option_guarded_sample_rate,        /* 33: guard 1 in N allocations (0: none) */
  mi_option_guarded_sample_seed,        /* 34: seed of the sampling (0: random) */
  mi_option_target_segments_per_thread, /* 35: try to keep at most N segments per thread (0: off) */
  mi_option_generic_collect,            /* 36: collect the heap every N generic-path allocations */
  mi_option_allow_thp,                  /* 37: allow transparent huge pages (0: disable for the process) */
  _mi_option_last,
  /* legacy names */
  mi_option_large_os_pages        = mi_option_allow_large_os_pages,
  mi_option_eager_region_commit   = mi_option_arena_eager_commit,
  mi_option_reset_decommits       = mi_option_purge_decommits,
  mi_option_reset_delay           = mi_option_purge_delay,
  mi_option_abandoned_page_reset  = mi_option_abandoned_page_purge,
  mi_option_limit_os_alloc        = mi_option_disallow_os_alloc
} mi_option_t;

mi_decl_nodiscard mi_decl_export bool mi_option_is_enabled(mi_option_t option);
mi_decl_export void mi_option_enable(mi_option_t option);
mi_decl_export void mi_option_disable(mi_option_t option);
mi_decl_export void mi_option_set_enabled(mi_option_t option, bool enable);
mi_decl_export void mi_option_set_enabled_default(mi_option_t option, bool enable);
mi_decl_nodiscard mi_decl_export long mi_option_get(mi_option_t option);
mi_decl_nodiscard mi_decl_export long mi_option_get_clamp(mi_option_t option, long min, long max);
mi_decl_nodiscard mi_decl_export size_t mi_option_get_size(mi_option_t option);
mi_decl_export void mi_option_set(mi_option_t option, long value);
mi_decl_export void mi_option_set_default(mi_option_t option, long value);

/* ----------------------------------------------------------------------------
  POSIX and C-runtime compatible functions (for overriding)
---------------------------------------------------------------------------- */
mi_decl_export void mi_cfree(void* p) mi_attr_noexcept;
mi_decl_export void* mi__expand(void* p, size_t newsize) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_malloc_size(const void* p) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_malloc_good_size(size_t size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_malloc_usable_size(const void *p) mi_attr_noexcept;
mi_decl_export int mi_posix_memalign(void** p, size_t alignment, size_t size);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_memalign(size_t alignment, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_valloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_pvalloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_aligned_alloc(size_t alignment, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(1);
mi_decl_nodiscard mi_decl_export void* mi_reallocarray(void* p, size_t count, size_t size) mi_attr_noexcept mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export int mi_reallocarr(void* ptrp, size_t count, size_t size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export void* mi_aligned_recalloc(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export void* mi_aligned_offset_recalloc(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;
mi_decl_export void mi_free_size(void* p, size_t size) mi_attr_noexcept;
mi_decl_export void mi_free_size_aligned(void* p, size_t size, size_t alignment) mi_attr_noexcept;
mi_decl_export void mi_free_aligned(void* p, size_t alignment) mi_attr_noexcept;
mi_decl_export int mi_dupenv_s(char** buf, size_t* size, const char* name) mi_attr_noexcept;
mi_decl_export int mi_wdupenv_s(wchar_t** buf, size_t* size, const wchar_t* name) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict wchar_t* mi_wcsdup(const wchar_t* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict unsigned char* mi_mbsdup(const unsigned char* s) mi_attr_noexcept mi_attr_malloc;

/* ----------------------------------------------------------------------------
  C++ helpers: like mi_malloc, but call std::get_new_handler and raise
  std::bad_alloc on failure (the _nothrow variants return NULL)
---------------------------------------------------------------------------- */
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new(size_t size) mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_aligned(size_t size, size_t alignment) mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_nothrow(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_aligned_nothrow(size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_n(size_t count, size_t size) mi_attr_malloc mi_attr_alloc_size2(1, 2);
mi_decl_nodiscard mi_decl_export void* mi_new_realloc(void* p, size_t newsize) mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_new_reallocn(void* p, size_t newcount, size_t size) mi_attr_alloc_size2(2, 3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_alloc_new(mi_heap_t* heap, size_t size) mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size) mi_attr_malloc mi_attr_alloc_size2(2, 3);

/* ----------------------------------------------------------------------------
  Statistics record (mi_stats_t is defined in <mimalloc-stats.h>)
---------------------------------------------------------------------------- */
mi_decl_export bool mi_stats_get(mi_stats_t* stats) mi_attr_noexcept;
mi_decl_export char* mi_stats_get_json(size_t buf_size, char* buf) mi_attr_noexcept;

/* ----------------------------------------------------------------------------
  Typed allocation macros (v2 argument order)
---------------------------------------------------------------------------- */
#define mi_malloc_tp(tp)                  ((tp*)mi_malloc(sizeof(tp)))
#define mi_zalloc_tp(tp)                  ((tp*)mi_zalloc(sizeof(tp)))
#define mi_calloc_tp(tp,n)                ((tp*)mi_calloc(n,sizeof(tp)))
#define mi_mallocn_tp(tp,n)               ((tp*)mi_mallocn(n,sizeof(tp)))
#define mi_reallocn_tp(p,tp,n)            ((tp*)mi_reallocn(p,n,sizeof(tp)))
#define mi_recalloc_tp(p,tp,n)            ((tp*)mi_recalloc(p,n,sizeof(tp)))

#define mi_heap_malloc_tp(hp,tp)          ((tp*)mi_heap_malloc(hp,sizeof(tp)))
#define mi_heap_zalloc_tp(hp,tp)          ((tp*)mi_heap_zalloc(hp,sizeof(tp)))
#define mi_heap_calloc_tp(hp,tp,n)        ((tp*)mi_heap_calloc(hp,n,sizeof(tp)))
#define mi_heap_mallocn_tp(hp,tp,n)       ((tp*)mi_heap_mallocn(hp,n,sizeof(tp)))
#define mi_heap_reallocn_tp(hp,p,tp,n)    ((tp*)mi_heap_reallocn(hp,p,n,sizeof(tp)))
#define mi_heap_recalloc_tp(hp,p,tp,n)    ((tp*)mi_heap_recalloc(hp,p,n,sizeof(tp)))

/* ----------------------------------------------------------------------------
  v3 compatibility: in v3 the thread-local part of a heap is a `mi_theap_t`; in the v2
  API a heap is already thread-local, so these names map to the v2 heap functions.
---------------------------------------------------------------------------- */
#define mi_theap_t                        mi_heap_t
#define mi_theap_malloc                   mi_heap_malloc
#define mi_theap_zalloc                   mi_heap_zalloc
#define mi_theap_calloc                   mi_heap_calloc
#define mi_theap_malloc_small             mi_heap_malloc_small
#define mi_theap_zalloc_small             mi_heap_zalloc_small
#define mi_theap_malloc_aligned           mi_heap_malloc_aligned
#define mi_theap_realloc                  mi_heap_realloc
#define mi_theap_collect                  mi_heap_collect
#define mi_theap_set_default              mi_heap_set_default
#define mi_theap_get_default              mi_heap_get_default
#define mi_theap_visit_blocks             mi_heap_visit_blocks
#define mi_theap_guarded_set_sample_rate  mi_heap_guarded_set_sample_rate
#define mi_theap_guarded_set_size_bound   mi_heap_guarded_set_size_bound

#ifdef __cplusplus
}
#endif

#endif /* MIMIC_H */
