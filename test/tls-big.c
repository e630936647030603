/* tls-big.c -- test-only shared library with a large (64 KiB) __thread block, loaded with
 * dlopen by test-thread-id so that every thread gets a new dynamic TLS block and its DTV may
 * move (mimalloc issue #851: a thread id read from the wrong TLS word changed at that point). */
#include <stddef.h>

#define TLS_BIG_SIZE (64 * 1024)

static __thread unsigned char tls_big[TLS_BIG_SIZE];

/* write to the whole block, return a checksum that depends on the thread's own values */
__attribute__((visibility("default"))) unsigned long tls_big_touch(unsigned long seed) {
  unsigned long sum = 0;
  for (size_t i = 0; i < TLS_BIG_SIZE; i += 64) tls_big[i] = (unsigned char)(seed + i / 64);
  for (size_t i = 0; i < TLS_BIG_SIZE; i += 64) sum += tls_big[i];
  return sum;
}

__attribute__((visibility("default"))) void* tls_big_address(void) { return tls_big; }
