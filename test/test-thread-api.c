/* test-thread-api.c -- mi_process_init, mi_thread_init, mi_thread_done (twice is harmless),
 * mi_thread_set_in_threadpool, blocks that outlive mi_thread_done, and an exiting thread's batched
 * page counts reaching the statistics. */
#include "testutil.h"

#include <pthread.h>

#include "mimalloc.h"
#include "mimalloc-stats.h"

static int64_t threads_now(void) {
  mi_stats_t st;
  memset(&st, 0, sizeof st);
  MI_STATS_INIT(&st);
  if (!mi_stats_get(&st)) return -1;
  return st.threads.current;
}

static int64_t threads_base; /* threads with a heap before a worker starts */
static void* survivors[64];

static void* worker_init_done(void* arg) {
  int mode = (int)(uintptr_t)arg;
  mi_thread_init();
  mi_thread_init(); /* idempotent */
  int64_t with_us = threads_now();
  CHECKF(with_us == threads_base + 1, "threads.current %lld, expected %lld", (long long)with_us,
         (long long)threads_base + 1);
  mi_heap_t* b = mi_heap_get_backing();
  CHECK(b != NULL);
  char* p = (char*)mi_malloc(1000);
  CHECK(p != NULL && mi_heap_contains_block(b, p));
  memset(p, 0x61, 1000);
  /* a block that outlives mi_thread_done and is freed by the main thread */
  char* keep = (char*)mi_malloc(5000);
  memset(keep, 0x62, 5000);
  survivors[mode] = keep;
  mi_free(p);

  mi_thread_done();
  CHECK_EQ(threads_now(), threads_base);
  mi_thread_done(); /* twice: harmless, no double accounting */
  CHECK_EQ(threads_now(), threads_base);

  if (mode % 2 == 1) {
    /* allocating after mi_thread_done works (the thread is set up again lazily) */
    char* q = (char*)mi_malloc(300);
    CHECK(q != NULL);
    if (q) {
      memset(q, 0x63, 300);
      CHECK(tu_all_byte(q, 0x63, 300));
    }
    mi_free(q);
    CHECK(tu_all_byte(keep, 0x62, 5000));
    mi_thread_done();
  }
  return NULL; /* the thread-exit hook runs after our explicit mi_thread_done: harmless */
}

static void* worker_threadpool(void* arg) {
  TU_UNUSED(arg);
  mi_thread_set_in_threadpool();
  int bad = 0;
  void* ps[100];
  for (int i = 0; i < 100; i++) {
    ps[i] = mi_malloc((size_t)i * 33 + 1);
    if (!ps[i]) bad++;
  }
  for (int i = 0; i < 100; i++) mi_free(ps[i]);
  CHECK_EQ(bad, 0);
  return NULL;
}

static void* worker_plain(void* arg) {
  TU_UNUSED(arg);
  void* p = mi_malloc(64);
  CHECK(p != NULL);
  CHECK_EQ(threads_now(), threads_base + 1);
  mi_free(p);
  return NULL;
}

/* The page counts are batched per thread (MI_STATS_BATCH events): a thread that exits after a
   few page events must still have them in the process-wide record. */
static void* kept[5];
static void* worker_pages(void* arg) {
  TU_UNUSED(arg);
  static const size_t sizes[5] = {3000, 5000, 7000, 20000, 40000};   /* five size classes: five pages */
  for (int i = 0; i < 5; i++) { kept[i] = mi_malloc(sizes[i]); CHECK(kept[i] != NULL); }
  return NULL;
}

static void check_exit_flushes_page_counts(void) {
  mi_stats_t a, b;
  memset(&a, 0, sizeof a); MI_STATS_INIT(&a);
  memset(&b, 0, sizeof b); MI_STATS_INIT(&b);
  CHECK(mi_stats_get(&a));
  pthread_t t;
  CHECK(pthread_create(&t, NULL, worker_pages, NULL) == 0);
  pthread_join(t, NULL);
  CHECK(mi_stats_get(&b));
  CHECKF(b.pages.total - a.pages.total >= 5, "pages.total %lld -> %lld", (long long)a.pages.total, (long long)b.pages.total);
  CHECKF(b.pages.current - a.pages.current >= 5, "pages.current %lld -> %lld", (long long)a.pages.current, (long long)b.pages.current);
  CHECKF(b.pages_extended.total - a.pages_extended.total >= 5, "pages_extended %lld -> %lld",
         (long long)a.pages_extended.total, (long long)b.pages_extended.total);
  CHECK(b.pages.peak >= b.pages.current);
  for (int i = 0; i < 5; i++) mi_free(kept[i]);
}

int main(void) {
  mi_process_init();
  mi_process_init(); /* idempotent */
  mi_thread_init();
  void* m = mi_malloc(10);
  CHECK(m != NULL);
  mi_free(m);
  threads_base = threads_now();
  CHECKF(threads_base >= 1, "threads.current = %lld in a running thread", (long long)threads_base);

  for (int mode = 0; mode < 8; mode++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker_init_done, (void*)(uintptr_t)mode) == 0);
    pthread_join(t, NULL);
    CHECK_EQ(threads_now(), threads_base);
  }
  /* blocks of threads that called mi_thread_done are still valid and freeable here */
  int bad = 0;
  for (int mode = 0; mode < 8; mode++) {
    if (!survivors[mode] || !tu_all_byte(survivors[mode], 0x62, 5000)) bad++;
    mi_free(survivors[mode]);
  }
  CHECK_EQ(bad, 0);

  /* a thread that never calls the API explicitly is counted and released at exit */
  pthread_t t;
  CHECK(pthread_create(&t, NULL, worker_plain, NULL) == 0);
  pthread_join(t, NULL);
  CHECK_EQ(threads_now(), threads_base);

  pthread_t tp[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&tp[i], NULL, worker_threadpool, NULL) == 0);
  for (int i = 0; i < 4; i++) pthread_join(tp[i], NULL);
  CHECK_EQ(threads_now(), threads_base);

  check_exit_flushes_page_counts();

  /* the main thread keeps working */
  void* p = mi_malloc(100);
  CHECK(p != NULL);
  mi_free(p);
  mi_collect(true);
  return tu_report();
}
