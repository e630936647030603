/* mimic: the mi_new family (C++ `operator new` semantics) and, in override builds, the replaceable
   C++ `operator new` / `operator delete` exported under their Itanium-ABI mangled names.

   Written in C so the library builds with a C compiler alone and never depends on a C++ runtime:
   - std::get_new_handler and the throwing of std::bad_alloc are reached through weak references
     to the C++ runtime's own symbols. A C program that preloads mimic has no C++ runtime loaded:
     the references stay NULL and nothing C++ is ever touched. A C++ program has libstdc++ (or
     libc++abi) loaded, so the references resolve when the dynamic linker relocates us; a runtime
     dlopen'ed later is looked up with dlsym when an allocation fails.
   - The throw starts in this file and unwinds through C frames (this file's functions, and the
     operator new symbols that alias them). That needs unwind tables for those frames, which GCC
     and clang emit by default on x86-64 and AArch64 (-fasynchronous-unwind-tables); when a build
     turns them off (__GCC_HAVE_DWARF2_CFI_ASM undefined) we report and abort instead of throwing.

   Failure protocol of the throwing forms (C++ [new.delete.single]): while allocation fails, call
   the installed new-handler and retry; with no handler installed, throw std::bad_alloc. The
   nothrow forms do the same but return NULL instead of throwing. A handler that throws propagates
   its exception through the throwing forms; from a nothrow form it propagates too (C cannot catch
   it) — the only deviation from the standard, and only for handlers that throw. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // RTLD_DEFAULT
#endif
#include "mimic/internal.h"
#include <stdlib.h>
#include <limits.h>
#include <dlfcn.h>

/* ---- the C++ runtime, reached weakly ---- */

typedef void (mi_new_handler_t)(void);

// std::get_new_handler() (C++11): libstdc++ and libc++abi both export it under this name.
extern mi_new_handler_t* _ZSt15get_new_handlerv(void) __attribute__((weak));
// std::__throw_bad_alloc(): libstdc++ (noreturn).
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));
// The generic route (libc++abi, or a libstdc++ without the helper): build the exception object
// ourselves. A std::bad_alloc is a single vtable pointer, which points 2 words into its vtable.
extern void* __cxa_allocate_exception(size_t thrown_size) __attribute__((weak));
extern void  __cxa_throw(void* obj, void* tinfo, void (*dtor)(void*)) __attribute__((weak, noreturn));
extern char  _ZTISt9bad_alloc[] __attribute__((weak));      // typeinfo for std::bad_alloc
extern char  _ZTVSt9bad_alloc[] __attribute__((weak));      // vtable for std::bad_alloc
extern void  _ZNSt9bad_allocD1Ev(void* self) __attribute__((weak));  // std::bad_alloc::~bad_alloc()

// The weak references are bound when mimic is loaded. A C++ runtime loaded later (a C program,
// e.g. an interpreter, that dlopens a C++ module) is found on the failure path: in the global
// scope, or — the module was loaded RTLD_LOCAL, as Python does — by asking the dynamic linker
// for the runtime library if it is already loaded (RTLD_NOLOAD; the handle is kept).
#pragma weak dlsym
#pragma weak dlopen
static void* mi_cxx_symbol(void* bound, const char* name) {
  if (bound != NULL || dlsym == NULL) return bound;
  void* sym = dlsym(RTLD_DEFAULT, name);
  if (sym != NULL || dlopen == NULL) return sym;
  static const char* const runtimes[] = { "libstdc++.so.6", "libc++abi.so.1", "libc++.so.1" };
  for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]) && sym == NULL; i++) {
    void* lib = dlopen(runtimes[i], RTLD_LAZY | RTLD_NOLOAD);
    if (lib != NULL) sym = dlsym(lib, name);
  }
  return sym;
}

typedef mi_new_handler_t* (mi_get_new_handler_fun)(void);
typedef void (mi_throw_fun)(void);
typedef void* (mi_cxa_allocate_fun)(size_t);
typedef void (mi_cxa_throw_fun)(void*, void*, void (*)(void*));
typedef void (mi_dtor_fun)(void*);

static mi_new_handler_t* mi_get_new_handler(void) {
  mi_get_new_handler_fun* get = (mi_get_new_handler_fun*)mi_cxx_symbol((void*)&_ZSt15get_new_handlerv, "_ZSt15get_new_handlerv");
  return (get != NULL ? get() : NULL);
}

static mi_decl_cold __attribute__((noreturn)) void mi_throw_bad_alloc(size_t size) {
#if defined(__GCC_HAVE_DWARF2_CFI_ASM)
  mi_throw_fun* throw_bad_alloc = (mi_throw_fun*)mi_cxx_symbol((void*)&_ZSt17__throw_bad_allocv, "_ZSt17__throw_bad_allocv");
  if (throw_bad_alloc != NULL) {
    throw_bad_alloc();
    abort();   // not reached
  }
  mi_cxa_allocate_fun* allocate = (mi_cxa_allocate_fun*)mi_cxx_symbol((void*)&__cxa_allocate_exception, "__cxa_allocate_exception");
  mi_cxa_throw_fun* throw_it = (mi_cxa_throw_fun*)mi_cxx_symbol((void*)&__cxa_throw, "__cxa_throw");
  char* tinfo = (char*)mi_cxx_symbol((void*)_ZTISt9bad_alloc, "_ZTISt9bad_alloc");
  char* vtable = (char*)mi_cxx_symbol((void*)_ZTVSt9bad_alloc, "_ZTVSt9bad_alloc");
  mi_dtor_fun* dtor = (mi_dtor_fun*)mi_cxx_symbol((void*)&_ZNSt9bad_allocD1Ev, "_ZNSt9bad_allocD1Ev");
  if (allocate != NULL && throw_it != NULL && tinfo != NULL && vtable != NULL && dtor != NULL) {
    void** obj = (void**)allocate(sizeof(void*));
    *obj = (void*)(vtable + 2 * sizeof(void*));
    throw_it(obj, tinfo, dtor);
    abort();   // not reached
  }
#endif
  // No C++ runtime (a C program called mi_new) or no unwind tables: there is no one to catch it.
  _mi_error_message(ENOMEM, "mi_new: out of memory (%zu bytes) and std::bad_alloc cannot be thrown: aborting\n", size);
  abort();
}

/* One round of the failure protocol: true if a new-handler ran (retry); false to give up (only
   when `nothrow`; the throwing forms throw std::bad_alloc instead of returning). */
static mi_decl_cold bool mi_new_handle_failure(size_t size, bool nothrow) {
  mi_new_handler_t* handler = mi_get_new_handler();
  if (handler != NULL) { handler(); return true; }
  if (nothrow) return false;
  mi_throw_bad_alloc(size);
}

/* ---- the mi_new family ---- */

static mi_decl_noinline void* mi_new_retry(size_t size, bool nothrow) {
  void* p = NULL;
  while (p == NULL && mi_new_handle_failure(size, nothrow)) p = mi_malloc(size);
  return p;
}

static mi_decl_noinline void* mi_new_aligned_retry(size_t size, size_t alignment, bool nothrow) {
  void* p = NULL;
  while (p == NULL && mi_new_handle_failure(size, nothrow)) p = mi_malloc_aligned(size, alignment);
  return p;
}

void* mi_new(size_t size) {
  void* p = mi_malloc(size);
  if (mi_unlikely(p == NULL)) return mi_new_retry(size, false);
  return p;
}

void* mi_new_nothrow(size_t size) mi_attr_noexcept {
  void* p = mi_malloc(size);
  if (mi_unlikely(p == NULL)) return mi_new_retry(size, true);
  return p;
}

void* mi_new_aligned(size_t size, size_t alignment) {
  void* p = mi_malloc_aligned(size, alignment);
  if (mi_unlikely(p == NULL)) return mi_new_aligned_retry(size, alignment, false);
  return p;
}

void* mi_new_aligned_nothrow(size_t size, size_t alignment) mi_attr_noexcept {
  void* p = mi_malloc_aligned(size, alignment);
  if (mi_unlikely(p == NULL)) return mi_new_aligned_retry(size, alignment, true);
  return p;
}

void* mi_new_n(size_t count, size_t size) {
  size_t total;
  if (mi_unlikely(mi_count_size_overflow(count, size, &total))) {
    // no handler can make an overflowing request succeed
    mi_throw_bad_alloc(SIZE_MAX);
  }
  return mi_new(total);
}

void* mi_new_realloc(void* p, size_t newsize) {
  void* q = mi_realloc(p, newsize);
  while (mi_unlikely(q == NULL) && mi_new_handle_failure(newsize, false)) q = mi_realloc(p, newsize);
  return q;
}

void* mi_new_reallocn(void* p, size_t newcount, size_t size) {
  size_t total;
  if (mi_unlikely(mi_count_size_overflow(newcount, size, &total))) mi_throw_bad_alloc(SIZE_MAX);
  return mi_new_realloc(p, total);
}

void* mi_heap_alloc_new(mi_heap_t* heap, size_t size) {
  void* p = mi_heap_malloc(heap, size);
  while (mi_unlikely(p == NULL) && mi_new_handle_failure(size, false)) p = mi_heap_malloc(heap, size);
  return p;
}

void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (mi_unlikely(mi_count_size_overflow(count, size, &total))) mi_throw_bad_alloc(SIZE_MAX);
  return mi_heap_alloc_new(heap, total);
}

/* ---------------------------------------------------------------------------------------------
   Replaceable operator new / delete (override builds on ELF with GCC or clang).

   Mangled names: `m` is size_t on LP64 (unsigned long), `j` on ILP32 (unsigned int).
   std::align_val_t is an enum of size_t: passed like a size_t. std::nothrow_t const& is a pointer.
   Where the C signature equals that of an mi_ function defined in the same translation unit the
   operator is an alias (no extra jump); otherwise it is a one-line forwarder (a tail jump).
   All are weak definitions (see MI_NEW_ALIAS).
   Static C++ programs that do not link mimic.o can include <mimic-new-delete.h> instead.
--------------------------------------------------------------------------------------------- */
#if defined(MI_MALLOC_OVERRIDE) && defined(__ELF__) && defined(__GNUC__)

#if (SIZE_MAX == UINT64_MAX) && (UINT64_MAX == ULONG_MAX)
#define MI_MANGLE_SIZE "m"
#elif (SIZE_MAX == UINT32_MAX) && (UINT32_MAX == UINT_MAX)
#define MI_MANGLE_SIZE "j"
#else
#error "unknown size_t mangling: add it here"
#endif

// In the single-TU build (src/static.c) every mi_ function is in this translation unit.
#if (__INCLUDE_LEVEL__ > 0)
#define MI_NEW_ALL_LOCAL 1
#else
#define MI_NEW_ALL_LOCAL 0
#endif

// Weak: a program's own operators (e.g. from <mimic-new-delete.h>) win over these at static link
// time without a duplicate-symbol error; the dynamic linker does not distinguish weak definitions.
#if defined(__clang__) || (__GNUC__ < 9)
#define MI_NEW_ALIAS(target)  __attribute__((weak, alias(#target), used, visibility("default")))
#else
#define MI_NEW_ALIAS(target)  __attribute__((weak, alias(#target), used, visibility("default"), copy(target)))
#endif
#define MI_NEW_EXPORT  __attribute__((weak, used, visibility("default")))

// Declarations binding the C identifiers to the mangled assembler names.
#define MI_OPNAME(s) __asm__(s)
void* mi_op_new(size_t n)                                        MI_OPNAME("_Znw" MI_MANGLE_SIZE) MI_NEW_ALIAS(mi_new);
void* mi_op_new_array(size_t n)                                  MI_OPNAME("_Zna" MI_MANGLE_SIZE) MI_NEW_ALIAS(mi_new);
void* mi_op_new_aligned(size_t n, size_t al)                     MI_OPNAME("_Znw" MI_MANGLE_SIZE "St11align_val_t") MI_NEW_ALIAS(mi_new_aligned);
void* mi_op_new_array_aligned(size_t n, size_t al)               MI_OPNAME("_Zna" MI_MANGLE_SIZE "St11align_val_t") MI_NEW_ALIAS(mi_new_aligned);

void* mi_op_new_nothrow(size_t n, const void* tag)               MI_OPNAME("_Znw" MI_MANGLE_SIZE "RKSt9nothrow_t") MI_NEW_EXPORT;
void* mi_op_new_array_nothrow(size_t n, const void* tag)         MI_OPNAME("_Zna" MI_MANGLE_SIZE "RKSt9nothrow_t") MI_NEW_EXPORT;
void* mi_op_new_aligned_nothrow(size_t n, size_t al, const void* tag)       MI_OPNAME("_Znw" MI_MANGLE_SIZE "St11align_val_tRKSt9nothrow_t") MI_NEW_EXPORT;
void* mi_op_new_array_aligned_nothrow(size_t n, size_t al, const void* tag) MI_OPNAME("_Zna" MI_MANGLE_SIZE "St11align_val_tRKSt9nothrow_t") MI_NEW_EXPORT;

void* mi_op_new_nothrow(size_t n, const void* tag) { (void)tag; return mi_new_nothrow(n); }
void* mi_op_new_array_nothrow(size_t n, const void* tag) { (void)tag; return mi_new_nothrow(n); }
void* mi_op_new_aligned_nothrow(size_t n, size_t al, const void* tag) { (void)tag; return mi_new_aligned_nothrow(n, al); }
void* mi_op_new_array_aligned_nothrow(size_t n, size_t al, const void* tag) { (void)tag; return mi_new_aligned_nothrow(n, al); }

// delete(void*), delete(void*, size_t), delete(void*, align_val_t), delete(void*, size_t, align_val_t)
// have exactly the signatures of mi_free, mi_free_size, mi_free_aligned, mi_free_size_aligned.
#if MI_NEW_ALL_LOCAL
void mi_op_delete(void* p)                                       MI_OPNAME("_ZdlPv") MI_NEW_ALIAS(mi_free);
void mi_op_delete_array(void* p)                                 MI_OPNAME("_ZdaPv") MI_NEW_ALIAS(mi_free);
void mi_op_delete_sized(void* p, size_t n)                       MI_OPNAME("_ZdlPv" MI_MANGLE_SIZE) MI_NEW_ALIAS(mi_free_size);
void mi_op_delete_array_sized(void* p, size_t n)                 MI_OPNAME("_ZdaPv" MI_MANGLE_SIZE) MI_NEW_ALIAS(mi_free_size);
void mi_op_delete_aligned(void* p, size_t al)                    MI_OPNAME("_ZdlPvSt11align_val_t") MI_NEW_ALIAS(mi_free_aligned);
void mi_op_delete_array_aligned(void* p, size_t al)              MI_OPNAME("_ZdaPvSt11align_val_t") MI_NEW_ALIAS(mi_free_aligned);
void mi_op_delete_sized_aligned(void* p, size_t n, size_t al)    MI_OPNAME("_ZdlPv" MI_MANGLE_SIZE "St11align_val_t") MI_NEW_ALIAS(mi_free_size_aligned);
void mi_op_delete_array_sized_aligned(void* p, size_t n, size_t al) MI_OPNAME("_ZdaPv" MI_MANGLE_SIZE "St11align_val_t") MI_NEW_ALIAS(mi_free_size_aligned);
#else
void mi_op_delete(void* p)                                       MI_OPNAME("_ZdlPv") MI_NEW_EXPORT;
void mi_op_delete_array(void* p)                                 MI_OPNAME("_ZdaPv") MI_NEW_EXPORT;
void mi_op_delete_sized(void* p, size_t n)                       MI_OPNAME("_ZdlPv" MI_MANGLE_SIZE) MI_NEW_EXPORT;
void mi_op_delete_array_sized(void* p, size_t n)                 MI_OPNAME("_ZdaPv" MI_MANGLE_SIZE) MI_NEW_EXPORT;
void mi_op_delete_aligned(void* p, size_t al)                    MI_OPNAME("_ZdlPvSt11align_val_t") MI_NEW_EXPORT;
void mi_op_delete_array_aligned(void* p, size_t al)              MI_OPNAME("_ZdaPvSt11align_val_t") MI_NEW_EXPORT;
void mi_op_delete_sized_aligned(void* p, size_t n, size_t al)    MI_OPNAME("_ZdlPv" MI_MANGLE_SIZE "St11align_val_t") MI_NEW_EXPORT;
void mi_op_delete_array_sized_aligned(void* p, size_t n, size_t al) MI_OPNAME("_ZdaPv" MI_MANGLE_SIZE "St11align_val_t") MI_NEW_EXPORT;

void mi_op_delete(void* p) { mi_free(p); }
void mi_op_delete_array(void* p) { mi_free(p); }
void mi_op_delete_sized(void* p, size_t n) { mi_free_size(p, n); }
void mi_op_delete_array_sized(void* p, size_t n) { mi_free_size(p, n); }
void mi_op_delete_aligned(void* p, size_t al) { mi_free_aligned(p, al); }
void mi_op_delete_array_aligned(void* p, size_t al) { mi_free_aligned(p, al); }
void mi_op_delete_sized_aligned(void* p, size_t n, size_t al) { mi_free_size_aligned(p, n, al); }
void mi_op_delete_array_sized_aligned(void* p, size_t n, size_t al) { mi_free_size_aligned(p, n, al); }
#endif

// The nothrow deletes (called when a constructor throws after a nothrow new).
void mi_op_delete_nothrow(void* p, const void* tag)              MI_OPNAME("_ZdlPvRKSt9nothrow_t") MI_NEW_EXPORT;
void mi_op_delete_array_nothrow(void* p, const void* tag)        MI_OPNAME("_ZdaPvRKSt9nothrow_t") MI_NEW_EXPORT;
void mi_op_delete_aligned_nothrow(void* p, size_t al, const void* tag)       MI_OPNAME("_ZdlPvSt11align_val_tRKSt9nothrow_t") MI_NEW_EXPORT;
void mi_op_delete_array_aligned_nothrow(void* p, size_t al, const void* tag) MI_OPNAME("_ZdaPvSt11align_val_tRKSt9nothrow_t") MI_NEW_EXPORT;

void mi_op_delete_nothrow(void* p, const void* tag) { (void)tag; mi_free(p); }
void mi_op_delete_array_nothrow(void* p, const void* tag) { (void)tag; mi_free(p); }
void mi_op_delete_aligned_nothrow(void* p, size_t al, const void* tag) { (void)tag; mi_free_aligned(p, al); }
void mi_op_delete_array_aligned_nothrow(void* p, size_t al, const void* tag) { (void)tag; mi_free_aligned(p, al); }

#endif  // MI_MALLOC_OVERRIDE
