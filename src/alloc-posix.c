/* mimic: POSIX, BSD and Windows-CRT style entry points, expressed with the mi_ API.
   Error conventions follow each function's own standard (return code vs errno). */
#include "mimic/internal.h"
#include <stdlib.h>
#include <wchar.h>

size_t mi_malloc_size(const void* p) mi_attr_noexcept { return mi_usable_size(p); }
size_t mi_malloc_usable_size(const void* p) mi_attr_noexcept { return mi_usable_size(p); }
size_t mi_malloc_good_size(size_t size) mi_attr_noexcept { return mi_good_size(size); }
void mi_cfree(void* p) mi_attr_noexcept { if (mi_is_in_heap_region(p)) mi_free(p); }

int mi_posix_memalign(void** p, size_t alignment, size_t size) mi_attr_noexcept {
  // *p is left untouched on every error (POSIX)
  if (p == NULL) return EINVAL;
  if (alignment == 0 || (alignment % sizeof(void*)) != 0 || !_mi_is_power_of_two(alignment)) return EINVAL;
  void* q = mi_malloc_aligned(size, alignment);
  if (q == NULL && size != 0) return ENOMEM;
  if (q == NULL) { q = mi_malloc_aligned(0, alignment); if (q == NULL) return ENOMEM; }
  *p = q;
  return 0;
}

void* mi_memalign(size_t alignment, size_t size) mi_attr_noexcept { return mi_malloc_aligned(size, alignment); }
void* mi_valloc(size_t size) mi_attr_noexcept { return mi_malloc_aligned(size, _mi_os_page_size()); }

void* mi_pvalloc(size_t size) mi_attr_noexcept {
  size_t psize = _mi_os_page_size();
  if (size > MI_MAX_ALLOC_SIZE - psize) { errno = ENOMEM; return NULL; }
  size_t asize = _mi_align_up(size == 0 ? 1 : size, psize);
  return mi_malloc_aligned(asize, psize);
}

void* mi_aligned_alloc(size_t alignment, size_t size) mi_attr_noexcept {
  // C11 asks size to be a multiple of alignment; like glibc we do not enforce it
  return mi_malloc_aligned(size, alignment);
}

void* mi_reallocarray(void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_mul_overflow(count, size, &total)) {
    _mi_error_message(EOVERFLOW, "mi_reallocarray: %zu * %zu bytes overflows\n", count, size);
    errno = EOVERFLOW;
    return NULL;
  }
  void* newp = mi_realloc(p, total);
  if (newp == NULL) errno = ENOMEM;
  return newp;
}

int mi_reallocarr(void* ptrp, size_t count, size_t size) mi_attr_noexcept {
  // NetBSD: returns an errno value; *ptrp is updated only on success
  if (ptrp == NULL) { errno = EINVAL; return EINVAL; }
  void** op = (void**)ptrp;
  size_t total;
  if (mi_mul_overflow(count, size, &total)) { errno = EOVERFLOW; return EOVERFLOW; }
  if (total == 0) { mi_free(*op); *op = NULL; return 0; }
  int err = errno;
  void* newp = mi_realloc(*op, total);
  if (newp == NULL) { errno = ENOMEM; return ENOMEM; }
  *op = newp;
  errno = err;
  return 0;
}

void* mi__expand(void* p, size_t newsize) mi_attr_noexcept {
  void* res = mi_expand(p, newsize);
  if (res == NULL) errno = ENOMEM;
  return res;
}

void* mi_aligned_recalloc(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_recalloc_aligned(p, newcount, size, alignment);
}
void* mi_aligned_offset_recalloc(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_recalloc_aligned_at(p, newcount, size, alignment, offset);
}

void mi_free_size(void* p, size_t size) mi_attr_noexcept {
  (void)size;   // checked against the usable size in debug builds
#if (MI_DEBUG > 0)
  if (p != NULL && size > mi_usable_size(p)) _mi_error_message(EINVAL, "mi_free_size: size %zu is larger than the block (%p)\n", size, p);
#endif
  mi_free(p);
}
void mi_free_size_aligned(void* p, size_t size, size_t alignment) mi_attr_noexcept {
  (void)alignment;
#if (MI_DEBUG > 0)
  if (p != NULL && alignment > 0 && ((uintptr_t)p % alignment) != 0) _mi_error_message(EINVAL, "mi_free_size_aligned: %p is not aligned to %zu\n", p, alignment);
#endif
  mi_free_size(p, size);
}
void mi_free_aligned(void* p, size_t alignment) mi_attr_noexcept { mi_free_size_aligned(p, 0, alignment); }

/* ---- strings ---- */

unsigned char* mi_mbsdup(const unsigned char* s) mi_attr_noexcept { return (unsigned char*)mi_strdup((const char*)s); }

wchar_t* mi_wcsdup(const wchar_t* s) mi_attr_noexcept {
  if (s == NULL) return NULL;
  size_t len = wcslen(s);
  wchar_t* t = (wchar_t*)mi_mallocn(len + 1, sizeof(wchar_t));
  if (t != NULL) memcpy(t, s, (len + 1) * sizeof(wchar_t));
  return t;
}

int mi_dupenv_s(char** buf, size_t* size, const char* name) mi_attr_noexcept {
  if (buf == NULL || name == NULL) return EINVAL;
  if (size != NULL) *size = 0;
  const char* p = getenv(name);
  if (p == NULL) { *buf = NULL; return 0; }
  *buf = mi_strdup(p);
  if (*buf == NULL) return ENOMEM;
  if (size != NULL) *size = strlen(p) + 1;
  return 0;
}

mi_decl_cold int mi_wdupenv_s(wchar_t** buf, size_t* size, const wchar_t* name) mi_attr_noexcept {
  // POSIX has no wide environment: convert the name, look it up, convert the value back
  if (buf == NULL || name == NULL) return EINVAL;
  if (size != NULL) *size = 0;
  *buf = NULL;
  char cname[256];
  size_t i = 0;
  for (; name[i] != 0; i++) {
    if (i + 1 >= sizeof(cname) || name[i] > 0x7F) return EINVAL;   // ASCII names only
    cname[i] = (char)name[i];
  }
  cname[i] = 0;
  const char* p = getenv(cname);
  if (p == NULL) return 0;
  size_t len = strlen(p);
  wchar_t* w = (wchar_t*)mi_mallocn(len + 1, sizeof(wchar_t));
  if (w == NULL) return ENOMEM;
  for (size_t k = 0; k <= len; k++) w[k] = (wchar_t)(unsigned char)p[k];
  *buf = w;
  if (size != NULL) *size = len + 1;
  return 0;
}
