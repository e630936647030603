/* test-heap-exit.c -- seed regression of issue 4 (mimalloc issue #904): a thread creates a heap,
 * allocates in it, deletes (or destroys) it and exits; then the process collects with
 * mi_collect(true) -- 200 times in a loop. Upstream crashed because the forced collect purged a
 * segment after freeing its last page and then read the unmapped segment.
 *
 *   test-heap-exit <variant> [loops]      (default 200 loops)
 *     delete     heap deleted with live blocks; main frees them after the collect
 *     single     the heap's page is the only used page of the thread's segment (the thread
 *                allocates nothing else); alternately freed before the delete or left live
 *     destroy    mi_heap_destroy instead of delete
 *     crossfree  blocks handed to a long-lived freer thread that frees them after the
 *                allocating thread has exited
 * CTest runs each variant with MIMALLOC_PURGE_DELAY=0, unset (default) and -1.
 */
#include "testutil.h"

#include <pthread.h>

#include "mimalloc.h"

#define NBLOCKS 64
typedef struct job_s {
  int variant;
  int loop;
  void* blocks[NBLOCKS];
  size_t sizes[NBLOCKS];
  int n;
} job_t;

enum { V_DELETE, V_SINGLE, V_DESTROY, V_CROSSFREE };

static void* thread_main(void* arg) {
  job_t* job = (job_t*)arg;
  mi_heap_t* h = mi_heap_new();
  if (!h) return NULL;
  if (job->variant == V_SINGLE) {
    /* one block, in one page: small on even loops, large on odd ones */
    size_t sz = (job->loop % 4 < 2) ? 100 : 300 * 1024;
    job->sizes[0] = sz;
    job->blocks[0] = mi_heap_malloc(h, sz);
    if (job->blocks[0]) tu_stamp(job->blocks[0], sz, (uint64_t)job->loop);
    job->n = 1;
    if (job->loop % 2 == 1) { /* freed before the delete: the page becomes empty */
      mi_free(job->blocks[0]);
      job->n = 0;
    }
    mi_heap_delete(h);
    return NULL;
  }
  for (int i = 0; i < NBLOCKS; i++) {
    size_t sz = (i % 8 == 7) ? (size_t)(100 + i) * 1024 : (size_t)(16 + i * 24);
    job->sizes[i] = sz;
    job->blocks[i] = mi_heap_malloc(h, sz);
    if (job->blocks[i]) tu_stamp(job->blocks[i], sz, (uint64_t)(job->loop * 1000 + i));
  }
  job->n = NBLOCKS;
  /* free some in the thread itself */
  for (int i = 0; i < NBLOCKS; i += 3) {
    mi_free(job->blocks[i]);
    job->blocks[i] = NULL;
  }
  if (job->variant == V_DESTROY) {
    mi_heap_destroy(h);
    job->n = 0; /* all gone */
  } else {
    mi_heap_delete(h);
  }
  return NULL;
}

static atomic_long bad_blocks;
static void free_job(job_t* job) {
  for (int i = 0; i < job->n; i++) {
    if (!job->blocks[i]) continue;
    uint64_t id = job->variant == V_SINGLE ? (uint64_t)job->loop : (uint64_t)(job->loop * 1000 + i);
    if (!tu_stamp_ok(job->blocks[i], job->sizes[i], id)) atomic_fetch_add(&bad_blocks, 1);
    mi_free(job->blocks[i]);
    job->blocks[i] = NULL;
  }
}

/* the long-lived freer of the crossfree variant */
static job_t* pending;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static bool quit;
static void* freer_main(void* arg) {
  TU_UNUSED(arg);
  pthread_mutex_lock(&lock);
  for (;;) {
    while (pending == NULL && !quit) pthread_cond_wait(&cond, &lock);
    if (pending == NULL && quit) break;
    job_t* j = pending;
    pthread_mutex_unlock(&lock);
    free_job(j);
    pthread_mutex_lock(&lock);
    pending = NULL;
    pthread_cond_signal(&done_cond);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(int argc, char** argv) {
  const char* vname = argc > 1 ? argv[1] : "delete";
  int variant;
  if (strcmp(vname, "delete") == 0) variant = V_DELETE;
  else if (strcmp(vname, "single") == 0) variant = V_SINGLE;
  else if (strcmp(vname, "destroy") == 0) variant = V_DESTROY;
  else if (strcmp(vname, "crossfree") == 0) variant = V_CROSSFREE;
  else {
    fprintf(stderr, "unknown variant %s\n", vname);
    CHECK(false);
    return tu_report();
  }
  int loops = (int)tu_arg(argc, argv, 2, 200);
  const char* pd = getenv("MIMALLOC_PURGE_DELAY");
  printf("test-heap-exit %s: %d loops, purge_delay %ld (env %s)\n", vname, loops,
         mi_option_get(mi_option_purge_delay), pd ? pd : "unset");
  if (pd) CHECK_EQ(mi_option_get(mi_option_purge_delay), strtol(pd, NULL, 10));

  pthread_t freer;
  if (variant == V_CROSSFREE) CHECK(pthread_create(&freer, NULL, freer_main, NULL) == 0);
  size_t start = tu_rss();
  static job_t job;
  for (int loop = 0; loop < loops; loop++) {
    memset(&job, 0, sizeof job);
    job.variant = variant;
    job.loop = loop;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, &job) == 0);
    pthread_join(t, NULL);
    if (variant == V_CROSSFREE) {
      pthread_mutex_lock(&lock);
      pending = &job;
      pthread_cond_signal(&cond);
      while (pending != NULL) pthread_cond_wait(&done_cond, &lock);
      pthread_mutex_unlock(&lock);
      mi_collect(true);
    } else {
      mi_collect(true); /* the crash site of #904 */
      free_job(&job);    /* blocks of the deleted heap, owned by a dead thread */
      mi_collect(true);
    }
  }
  if (variant == V_CROSSFREE) {
    pthread_mutex_lock(&lock);
    quit = true;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(freer, NULL);
  }
  mi_collect(true);
  size_t end = tu_rss();
  printf("rss start %zu MiB, end %zu MiB\n", start / TU_MiB, end / TU_MiB);
  CHECK_EQ(atomic_load(&bad_blocks), 0);
  /* 200 dead threads' heaps must not pile up: allow 64 MiB for caches and meta-data */
  CHECKF(end <= start + 64 * TU_MiB, "rss grew by %zu MiB", (end - start) / TU_MiB);
  return tu_report();
}
