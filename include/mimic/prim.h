/* mimic: the contract between the allocator and the operating system.
   Everything OS-specific lives behind these functions (src/prim/<os>/prim.c); the core never
   includes an OS header. Functions return 0 or an errno value; results come back in out-params. */
#pragma once
#ifndef MIMIC_PRIM_H
#define MIMIC_PRIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct mi_os_mem_config_s {
  size_t page_size;          // OS page size (4 KiB usually)
  size_t large_page_size;    // 2 MiB on x86-64 Linux; 0 if unknown
  size_t alloc_granularity;  // smallest mmap/VirtualAlloc unit
  bool   has_overcommit;     // Linux: reserved memory needs no explicit commit
  bool   has_virtual_reserve;// can reserve address space without committing
} mi_os_mem_config_t;

typedef struct mi_process_info_s {
  int64_t elapsed, utime, stime;   // milliseconds
  size_t current_rss, peak_rss, current_commit, peak_commit, page_faults;
} mi_process_info_t;

void   _mi_prim_mem_init(mi_os_mem_config_t* config);
// Reserve (and commit if `commit`) `size` bytes; `try_alignment` is a hint. *is_zero: memory is zeroed.
int    _mi_prim_alloc(size_t size, size_t try_alignment, bool commit, bool* is_zero, void** addr);
int    _mi_prim_free(void* addr, size_t size);
int    _mi_prim_commit(void* addr, size_t size, bool* is_zero);
// Give physical memory back; the range stays reserved. *needs_recommit: must call commit before use.
int    _mi_prim_decommit(void* addr, size_t size, bool* needs_recommit);
int    _mi_prim_reset(void* addr, size_t size);   // contents may be dropped lazily (MADV_FREE)
int    _mi_prim_protect(void* addr, size_t size, bool protect);
// Resize a mapping in place (newaddr == NULL) or move it onto the mapping at *newaddr (Linux
// mremap; the pages move, nothing is copied). ENOTSUP where impossible.
int    _mi_prim_remap(void* addr, size_t size, size_t newsize, void** newaddr);

int64_t _mi_prim_clock_now(void);                // monotonic milliseconds
void   _mi_prim_thread_yield(void);
void   _mi_prim_process_info(mi_process_info_t* pinfo);
void   _mi_prim_out_stderr(const char* msg);
bool   _mi_prim_getenv(const char* name, char* result, size_t result_size);  // never allocates
bool   _mi_prim_random_buf(void* buf, size_t buf_len);

// Thread exit detection: `done` is called with the thread's heap when a thread that called
// _mi_prim_thread_associate_default_heap with a non-NULL heap exits.
void   _mi_prim_thread_init_auto_done(void (*done)(void* heap));
void   _mi_prim_thread_done_auto_done(void);
void   _mi_prim_thread_associate_default_heap(void* heap);

// fork: run `prepare` before fork in the parent, `parent`/`child` after it.
void   _mi_prim_register_fork_handlers(void (*prepare)(void), void (*parent)(void), void (*child)(void));

// A tiny lock for slow paths only (segment cache, abandoned list); never held across an allocation.
typedef struct mi_lock_s { _Alignas(8) unsigned char opaque[48]; } mi_lock_t;
void   _mi_prim_lock_init(mi_lock_t* lock);
void   _mi_prim_lock_acquire(mi_lock_t* lock);
void   _mi_prim_lock_release(mi_lock_t* lock);

/* The thread id: unique and stable for the whole life of a thread, never 0.
   It is the thread pointer (TCB address) itself: on x86-64 %fs:0 holds the self pointer; on ARM64
   TPIDR_EL0 is the thread pointer (NOT the word it points at: that is the DTV, which moves — mimalloc
   issue #851). Where no safe register read is known we fall back to the address of a TLS variable. */
extern __thread int _mi_prim_tls_anchor;
static inline uintptr_t _mi_prim_thread_id(void) {
#if defined(MI_PRIM_THREAD_ID_TLS)
  return (uintptr_t)&_mi_prim_tls_anchor;
#elif defined(__x86_64__) && ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11))
  return (uintptr_t)__builtin_thread_pointer();
#elif defined(__x86_64__) && defined(__GNUC__)
  uintptr_t tp; __asm__("movq %%fs:0, %0" : "=r"(tp)); return tp;
#elif defined(__aarch64__) && ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 7)) && !defined(__APPLE__)
  return (uintptr_t)__builtin_thread_pointer();
#elif defined(__aarch64__) && defined(__GNUC__) && !defined(__APPLE__)
  uintptr_t tp; __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp)); return tp;
#elif defined(__i386__) && defined(__GNUC__) && defined(__linux__)
  uintptr_t tp; __asm__("movl %%gs:0, %0" : "=r"(tp)); return tp;
#else
  return (uintptr_t)&_mi_prim_tls_anchor;
#endif
}
// The portable fallback, used by tests to cross-check the register path.
static inline uintptr_t _mi_prim_thread_id_tls(void) { return (uintptr_t)&_mi_prim_tls_anchor; }

#endif
