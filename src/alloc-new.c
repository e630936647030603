/* mimic: the mi_new family (C++ operator new semantics). */
#include "mimic/internal.h"
#include <stdlib.h>

static void* mi_new_fail(size_t size, bool nothrow) {
  if (nothrow) return NULL;
  _mi_error_message(ENOMEM, "mi_new: out of memory (%zu bytes)\n", size);
  abort();
}
void* mi_new(size_t size) { void* p = mi_malloc(size); return (p != NULL ? p : mi_new_fail(size, false)); }
void* mi_new_aligned(size_t size, size_t alignment) { void* p = mi_malloc_aligned(size, alignment); return (p != NULL ? p : mi_new_fail(size, false)); }
void* mi_new_nothrow(size_t size) mi_attr_noexcept { return mi_malloc(size); }
void* mi_new_aligned_nothrow(size_t size, size_t alignment) mi_attr_noexcept { return mi_malloc_aligned(size, alignment); }
void* mi_new_n(size_t count, size_t size) { size_t total; if (mi_count_size_overflow(count, size, &total)) return mi_new_fail(SIZE_MAX, false); return mi_new(total); }
void* mi_new_realloc(void* p, size_t newsize) { void* q = mi_realloc(p, newsize); return (q != NULL ? q : mi_new_fail(newsize, false)); }
void* mi_new_reallocn(void* p, size_t newcount, size_t size) { size_t total; if (mi_count_size_overflow(newcount, size, &total)) return mi_new_fail(SIZE_MAX, false); return mi_new_realloc(p, total); }
void* mi_heap_alloc_new(mi_heap_t* heap, size_t size) { void* p = mi_heap_malloc(heap, size); return (p != NULL ? p : mi_new_fail(size, false)); }
void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size) { size_t total; if (mi_count_size_overflow(count, size, &total)) return mi_new_fail(SIZE_MAX, false); return mi_heap_alloc_new(heap, total); }
