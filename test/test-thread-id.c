/* test-thread-id.c -- thread identity is unique among live threads and stable for a thread's
 * whole life, also across dlopen of a library with a large __thread block (mimalloc #851).
 *
 *   test-thread-id /path/to/libmi-tls-big.so
 *
 * There is no public thread-id API; the observable identity is the thread's backing heap
 * (mi_heap_get_backing), and the allocator's own ownership decisions: a heap may only be
 * allocated from by the thread that created it (misuse is reported with EINVAL). If a
 * thread's id changed after the dlopen, allocating from its own heap would be reported as
 * misuse and local frees would be treated as foreign.
 */
#include "testutil.h"

#include <dlfcn.h>
#include <pthread.h>

#include "mimalloc.h"

#define NEARLY 8 /* threads alive across the dlopen */
#define NLATE 4  /* threads started after the dlopen */
#define NALL (NEARLY + NLATE)

typedef unsigned long (*touch_fn)(unsigned long);
typedef void* (*addr_fn)(void);
static touch_fn tls_touch;
static addr_fn tls_address;

static pthread_barrier_t b_early, b_all, b_done;
static mi_heap_t* backing[NALL];
static void* tls_addrs[NALL];
static atomic_int errors_seen;
static atomic_int last_error;

static void on_error(int err, void* arg) {
  TU_UNUSED(arg);
  atomic_fetch_add(&errors_seen, 1);
  atomic_store(&last_error, err);
}

static unsigned long expected_sum(unsigned long seed) {
  unsigned long sum = 0;
  for (unsigned long k = 0; k < 64 * 1024 / 64; k++) sum += (unsigned char)(seed + k);
  return sum;
}

static void* worker(void* arg) {
  int i = (int)(uintptr_t)arg;
  bool late = i >= NEARLY;
  mi_heap_t* b0 = mi_heap_get_backing();
  CHECK(b0 != NULL);
  CHECK(mi_heap_get_default() == b0);
  backing[i] = b0;
  char* p = (char*)mi_malloc(100);
  memset(p, i, 100);
  mi_heap_t* h = mi_heap_new();
  CHECK(h != NULL && h != b0);
  char* q = (char*)mi_heap_malloc(h, 200);
  CHECK(q != NULL);
  CHECK(mi_heap_contains_block(b0, p));
  CHECK(mi_heap_contains_block(h, q));
  CHECK(!mi_heap_contains_block(h, p));
  if (!late) pthread_barrier_wait(&b_early);
  pthread_barrier_wait(&b_all); /* the library is loaded now */

  unsigned long sum = tls_touch((unsigned long)i);
  CHECK_EQ(sum, expected_sum((unsigned long)i));
  tls_addrs[i] = tls_address();

  /* same identity as before */
  CHECK(mi_heap_get_backing() == b0);
  CHECK(mi_heap_get_default() == b0);
  CHECK(mi_heap_contains_block(b0, p));
  CHECK(mi_heap_contains_block(h, q));
  CHECK(tu_all_byte(p, i, 100));
  /* our own heap still accepts allocations from us (no misuse report) */
  int e0 = atomic_load(&errors_seen);
  char* r = (char*)mi_heap_malloc(h, 300);
  CHECK(r != NULL);
  CHECK(mi_heap_contains_block(h, r));
  CHECK_EQ(atomic_load(&errors_seen), e0);
  /* local churn after the dlopen: every new block belongs to our backing heap */
  int bad = 0;
  void* blocks[256];
  for (int k = 0; k < 256; k++) {
    blocks[k] = mi_malloc((size_t)(16 + k * 8));
    if (!blocks[k] || !mi_heap_contains_block(b0, blocks[k])) bad++;
  }
  for (int k = 0; k < 256; k++) mi_free(blocks[k]);
  CHECK_EQ(bad, 0);
  mi_free(p);
  mi_free(q);
  mi_free(r);
  mi_heap_delete(h);
  CHECK(mi_heap_get_backing() == b0);
  /* still a second touch gives the same TLS block for this thread */
  CHECK(tls_address() == tls_addrs[i]);
  pthread_barrier_wait(&b_done); /* all threads still alive here */
  return NULL;
}

/* control: allocating from another thread's heap is detected (so the checks above can fail) */
static mi_heap_t* foreign_heap;
static void* misuse_thread(void* arg) {
  TU_UNUSED(arg);
  int e0 = atomic_load(&errors_seen);
  void* p = mi_heap_malloc(foreign_heap, 64); /* NULL, or a fallback block; either way reported */
  CHECKF(atomic_load(&errors_seen) == e0 + 1, "misuse reported %d times",
         atomic_load(&errors_seen) - e0);
  CHECK_EQ(atomic_load(&last_error), EINVAL);
  mi_free(p);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test-thread-id /path/to/libmi-tls-big.so\n");
    CHECK(false);
    return tu_report();
  }
  mi_register_error(on_error, NULL);

  foreign_heap = mi_heap_new();
  pthread_t mt;
  CHECK(pthread_create(&mt, NULL, misuse_thread, NULL) == 0);
  pthread_join(mt, NULL);
  void* fp = mi_heap_malloc(foreign_heap, 64); /* the owner may */
  CHECK(fp != NULL);
  mi_free(fp);
  mi_heap_delete(foreign_heap);
  int errors_after_control = atomic_load(&errors_seen);

  mi_heap_t* main_backing = mi_heap_get_backing();
  mi_heap_t* main_heap = mi_heap_new();
  for (int round = 0; round < 3; round++) {
    pthread_barrier_init(&b_early, NULL, NEARLY + 1);
    pthread_barrier_init(&b_all, NULL, NALL + 1);
    pthread_barrier_init(&b_done, NULL, NALL + 1);
    memset(backing, 0, sizeof backing);
    pthread_t th[NALL];
    for (int i = 0; i < NEARLY; i++)
      CHECK(pthread_create(&th[i], NULL, worker, (void*)(uintptr_t)i) == 0);
    pthread_barrier_wait(&b_early);

    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CHECKF(lib != NULL, "dlopen: %s", dlerror());
    if (!lib) return tu_report();
    tls_touch = (touch_fn)(uintptr_t)dlsym(lib, "tls_big_touch");
    tls_address = (addr_fn)(uintptr_t)dlsym(lib, "tls_big_address");
    CHECK(tls_touch != NULL && tls_address != NULL);
    if (!tls_touch || !tls_address) return tu_report();
    for (int i = NEARLY; i < NALL; i++)
      CHECK(pthread_create(&th[i], NULL, worker, (void*)(uintptr_t)i) == 0);
    pthread_barrier_wait(&b_all);

    /* backing heaps of live threads are distinct (and not the main thread's) */
    int dups = 0;
    for (int i = 0; i < NALL; i++) {
      if (backing[i] == main_backing || backing[i] == NULL) dups++;
      for (int j = i + 1; j < NALL; j++)
        if (backing[i] == backing[j]) dups++;
    }
    CHECKF(dups == 0, "round %d: %d duplicate/missing backing heaps among live threads", round, dups);

    /* the main thread too */
    CHECK_EQ(tls_touch(1000), expected_sum(1000));
    CHECK(mi_heap_get_backing() == main_backing);
    void* mp = mi_heap_malloc(main_heap, 128);
    CHECK(mp != NULL && mi_heap_contains_block(main_heap, mp));
    mi_free(mp);

    pthread_barrier_wait(&b_done);
    for (int i = 0; i < NALL; i++) pthread_join(th[i], NULL);
    int tls_dups = 0;
    for (int i = 0; i < NALL; i++)
      for (int j = i + 1; j < NALL; j++)
        if (tls_addrs[i] == tls_addrs[j]) tls_dups++;
    CHECK_EQ(tls_dups, 0); /* sanity: the TLS block really is per thread */
    CHECK(dlclose(lib) == 0);
    pthread_barrier_destroy(&b_early);
    pthread_barrier_destroy(&b_all);
    pthread_barrier_destroy(&b_done);
  }
  CHECKF(atomic_load(&errors_seen) == errors_after_control,
         "%d unexpected allocator errors after the dlopen", atomic_load(&errors_seen) - errors_after_control);
  mi_heap_delete(main_heap);
  mi_register_error(NULL, NULL);
  return tu_report();
}
