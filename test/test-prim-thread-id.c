/* test-prim-thread-id.c -- the thread id the allocator uses (src/prim, include/mimic/prim.h) is
 * right on this architecture: the thread pointer itself, not a word it points to (mimalloc issue
 * #851: on ARM64 slot 0 is the DTV pointer, which moves when dlopen grows the TLS). Checks:
 *  - the compiled path (builtin or asm) equals every independent way of reading the thread
 *    pointer available here (the builtin, the raw register, glibc's self pointer at tp[0] on x86-64);
 *  - non-zero, distinct for concurrent threads, stable across the life of a thread, also after
 *    dlopen of a library with a large __thread block (passed as argv[1]);
 *  - the TLS fallback is distinct per thread too. */
#include "testutil.h"
#include "mimic/prim.h"
#include <pthread.h>
#include <dlfcn.h>

#define THREADS 8

static uintptr_t raw_thread_pointer(void) {
#if defined(__x86_64__)
  uintptr_t tp; __asm__ volatile("movq %%fs:0, %0" : "=r"(tp)); return tp;   /* TCB self pointer */
#elif defined(__aarch64__)
  uintptr_t tp; __asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp)); return tp;
#else
  return _mi_prim_thread_id();
#endif
}

static uintptr_t ids[THREADS], ids_later[THREADS], tls_ids[THREADS];
static pthread_barrier_t barrier;
static const char* big_tls_lib;

static void* worker(void* arg) {
  size_t i = (size_t)arg;
  ids[i] = _mi_prim_thread_id();
  tls_ids[i] = _mi_prim_thread_id_tls();
  CHECK(ids[i] != 0);
  CHECK_EQ(ids[i], raw_thread_pointer());
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && (defined(__x86_64__) || defined(__aarch64__))
  CHECK_EQ(ids[i], (uintptr_t)__builtin_thread_pointer());
#endif
  pthread_barrier_wait(&barrier);          /* all alive at once: ids must differ */
  if (i == 0 && big_tls_lib != NULL) {
    void* h = dlopen(big_tls_lib, RTLD_NOW);   /* grows the TLS of every thread (new DTV) */
    CHECKF(h != NULL, "dlopen %s: %s", big_tls_lib, dlerror());
  }
  pthread_barrier_wait(&barrier);
  ids_later[i] = _mi_prim_thread_id();
  return NULL;
}

int main(int argc, char** argv) {
  big_tls_lib = (argc > 1 ? argv[1] : NULL);
  uintptr_t main_id = _mi_prim_thread_id();
  CHECK(main_id != 0);
  CHECK_EQ(main_id, raw_thread_pointer());
  pthread_barrier_init(&barrier, NULL, THREADS);
  pthread_t t[THREADS];
  for (size_t i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, (void*)i) == 0);
  for (size_t i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  size_t dup = 0, moved = 0, tls_dup = 0;
  for (size_t i = 0; i < THREADS; i++) {
    if (ids[i] == main_id) dup++;
    if (ids_later[i] != ids[i]) moved++;
    for (size_t j = i + 1; j < THREADS; j++) {
      if (ids[i] == ids[j]) dup++;
      if (tls_ids[i] == tls_ids[j]) tls_dup++;
    }
  }
  CHECK_EQ(dup, 0);
  CHECK_EQ(moved, 0);
  CHECK_EQ(tls_dup, 0);
  CHECK_EQ(_mi_prim_thread_id(), main_id);
  printf("thread ids: %d threads distinct and stable (main 0x%zx)\n", THREADS, (size_t)main_id);
  return tu_report();
}
