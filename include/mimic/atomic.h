/* mimic: atomic operations named by their memory order.
   Call sites never pass a memory_order: the order is in the name, so `grep _relaxed` audits every
   weak ordering at once. Only C11 <stdatomic.h> is used (MSVC-C backend: later, with Windows). */
#pragma once
#ifndef MIMIC_ATOMIC_H
#define MIMIC_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>

#define mi_atomic(T) _Atomic(T)

#define mi_atomic_load_relaxed(p)         atomic_load_explicit(p, memory_order_relaxed)
#define mi_atomic_load_acquire(p)         atomic_load_explicit(p, memory_order_acquire)
#define mi_atomic_store_relaxed(p, x)     atomic_store_explicit(p, x, memory_order_relaxed)
#define mi_atomic_store_release(p, x)     atomic_store_explicit(p, x, memory_order_release)
#define mi_atomic_exchange_acq_rel(p, x)  atomic_exchange_explicit(p, x, memory_order_acq_rel)
#define mi_atomic_exchange_acquire(p, x)  atomic_exchange_explicit(p, x, memory_order_acquire)
#define mi_atomic_add_relaxed(p, x)       atomic_fetch_add_explicit(p, x, memory_order_relaxed)
#define mi_atomic_sub_relaxed(p, x)       atomic_fetch_sub_explicit(p, x, memory_order_relaxed)
#define mi_atomic_add_acq_rel(p, x)       atomic_fetch_add_explicit(p, x, memory_order_acq_rel)
#define mi_atomic_sub_acq_rel(p, x)       atomic_fetch_sub_explicit(p, x, memory_order_acq_rel)
#define mi_atomic_or_acq_rel(p, x)        atomic_fetch_or_explicit(p, x, memory_order_acq_rel)
#define mi_atomic_and_acq_rel(p, x)       atomic_fetch_and_explicit(p, x, memory_order_acq_rel)
#define mi_atomic_or_relaxed(p, x)        atomic_fetch_or_explicit(p, x, memory_order_relaxed)
#define mi_atomic_and_relaxed(p, x)       atomic_fetch_and_explicit(p, x, memory_order_relaxed)

/* Compare-and-swap; `expected` is updated with the current value on failure. */
#define mi_atomic_cas_weak_release(p, expected, desired) \
  atomic_compare_exchange_weak_explicit(p, expected, desired, memory_order_release, memory_order_relaxed)
#define mi_atomic_cas_weak_acq_rel(p, expected, desired) \
  atomic_compare_exchange_weak_explicit(p, expected, desired, memory_order_acq_rel, memory_order_acquire)
#define mi_atomic_cas_strong_acq_rel(p, expected, desired) \
  atomic_compare_exchange_strong_explicit(p, expected, desired, memory_order_acq_rel, memory_order_acquire)
#define mi_atomic_cas_strong_relaxed(p, expected, desired) \
  atomic_compare_exchange_strong_explicit(p, expected, desired, memory_order_relaxed, memory_order_relaxed)

/* Spin-wait hint while another thread finishes a short critical step. */
static inline void mi_atomic_yield(void) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ volatile("pause" ::: "memory");
#elif defined(__aarch64__)
  __asm__ volatile("isb" ::: "memory");
#elif defined(__arm__)
  __asm__ volatile("yield" ::: "memory");
#else
  atomic_signal_fence(memory_order_seq_cst);
#endif
}

#endif
