/* ----------------------------------------------------------------------------
  mimic: a mimalloc-compatible allocator. MIT license, see LICENSE.

  include/mimic-new-delete.h: definitions of every replaceable C++ operator
  new / delete on top of mimic, for programs that link mimic statically and
  want C++ allocation in mimic without overriding malloc (or that link a
  libmimic.a built with MI_OVERRIDE=OFF).

  Include it in exactly ONE source file of the program: it defines (does not
  just declare) the operators, and the C++ standard forbids declaring them
  inline. Programs that preload libmimic.so or link mimic.o do not need it:
  those already export the operators. Its definitions take precedence over
  the (weak) ones in an override build of libmimic.a / mimic.o.

  Semantics: the throwing forms call the new-handler while allocation fails
  and throw std::bad_alloc when there is none (mi_new*); the nothrow forms
  return NULL instead; the deletes accept NULL and any pointer from the new
  forms (the size and alignment arguments are hints).
---------------------------------------------------------------------------- */
#pragma once
#ifndef MIMIC_NEW_DELETE_H
#define MIMIC_NEW_DELETE_H

#if defined(__cplusplus)
#include <new>
#include "mimic.h"

void operator delete(void* p) noexcept                              { mi_free(p); }
void operator delete[](void* p) noexcept                            { mi_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept       { mi_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept     { mi_free(p); }

void* operator new(std::size_t n) noexcept(false)      { return mi_new(n); }
void* operator new[](std::size_t n) noexcept(false)    { return mi_new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept   { return mi_new_nothrow(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return mi_new_nothrow(n); }

#if (__cplusplus >= 201402L) || defined(__cpp_sized_deallocation) || (defined(_MSC_VER) && _MSC_VER >= 1916)
void operator delete(void* p, std::size_t n) noexcept               { mi_free_size(p, n); }
void operator delete[](void* p, std::size_t n) noexcept             { mi_free_size(p, n); }
#endif

#if (__cplusplus > 201402L) || defined(__cpp_aligned_new)
void operator delete(void* p, std::align_val_t al) noexcept         { mi_free_aligned(p, static_cast<std::size_t>(al)); }
void operator delete[](void* p, std::align_val_t al) noexcept       { mi_free_aligned(p, static_cast<std::size_t>(al)); }
void operator delete(void* p, std::size_t n, std::align_val_t al) noexcept   { mi_free_size_aligned(p, n, static_cast<std::size_t>(al)); }
void operator delete[](void* p, std::size_t n, std::align_val_t al) noexcept { mi_free_size_aligned(p, n, static_cast<std::size_t>(al)); }
void operator delete(void* p, std::align_val_t al, const std::nothrow_t&) noexcept   { mi_free_aligned(p, static_cast<std::size_t>(al)); }
void operator delete[](void* p, std::align_val_t al, const std::nothrow_t&) noexcept { mi_free_aligned(p, static_cast<std::size_t>(al)); }

void* operator new(std::size_t n, std::align_val_t al) noexcept(false)   { return mi_new_aligned(n, static_cast<std::size_t>(al)); }
void* operator new[](std::size_t n, std::align_val_t al) noexcept(false) { return mi_new_aligned(n, static_cast<std::size_t>(al)); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept   { return mi_new_aligned_nothrow(n, static_cast<std::size_t>(al)); }
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return mi_new_aligned_nothrow(n, static_cast<std::size_t>(al)); }
#endif

#endif  /* __cplusplus */
#endif  /* MIMIC_NEW_DELETE_H */
