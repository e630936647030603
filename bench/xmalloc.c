/* xmalloc.c -- xmalloc-style producer/consumer.
 *
 * After the description of xmalloc-test: half of the threads only allocate, the other half
 * only free what the producers made.  Blocks (random 16-256 B, one in 32 up to 2 KiB)
 * travel in batches of 128 pointers through a bounded shared queue, so nearly every
 * free is a cross-thread free into memory owned by another thread's heap.
 *
 *   -t threads (default 2: 1 producer + 1 consumer)  -n batches per producer (default 100000)
 *   -s queue depth in batches (default 64)
 */
#include "bench-common.h"

#define BATCH 128

typedef struct batch_s { void* p[BATCH]; } batch_t;

static batch_t** queue;
static size_t qcap, qhead, qtail, qcount;
static long producers_left;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qnot_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t qnot_empty = PTHREAD_COND_INITIALIZER;

typedef struct targ_s { long id; long batches; uint64_t check; } targ_t;

static void* producer(void* arg) {
  targ_t* t = (targ_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, 77 + (uint64_t)t->id);
  for (long b = 0; b < t->batches; b++) {
    batch_t* bt = (batch_t*)bench_xmalloc(sizeof(batch_t));
    for (int i = 0; i < BATCH; i++) {
      size_t sz = bench_below(&rng, 32) == 0 ? bench_range(&rng, 257, 2048) : bench_range(&rng, 16, 256);
      bt->p[i] = bench_xmalloc(sz);
      *(uint64_t*)bt->p[i] = (uint64_t)sz;
    }
    pthread_mutex_lock(&qlock);
    while (qcount == qcap) pthread_cond_wait(&qnot_full, &qlock);
    queue[qtail] = bt; qtail = (qtail + 1) % qcap; qcount++;
    pthread_cond_signal(&qnot_empty);
    pthread_mutex_unlock(&qlock);
  }
  pthread_mutex_lock(&qlock);
  producers_left--;
  pthread_cond_broadcast(&qnot_empty);
  pthread_mutex_unlock(&qlock);
  return NULL;
}

static void* consumer(void* arg) {
  targ_t* t = (targ_t*)arg;
  for (;;) {
    pthread_mutex_lock(&qlock);
    while (qcount == 0 && producers_left > 0) pthread_cond_wait(&qnot_empty, &qlock);
    if (qcount == 0) { pthread_mutex_unlock(&qlock); break; }
    batch_t* bt = queue[qhead]; qhead = (qhead + 1) % qcap; qcount--;
    pthread_cond_signal(&qnot_full);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < BATCH; i++) { t->check += *(uint64_t*)bt->p[i]; free(bt->p[i]); }
    free(bt);
  }
  return NULL;
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "xmalloc-style producer/consumer (-t threads, -n batches per producer, -s queue depth)",
              (bench_args_t){2, 100000, 64, false}, (bench_args_t){2, 10000, 64, false}, &a);
  long np = a.threads / 2 > 0 ? a.threads / 2 : 1;
  long nc = a.threads - np > 0 ? a.threads - np : 1;
  qcap = (size_t)a.size;
  queue = (batch_t**)calloc(qcap, sizeof(batch_t*));
  producers_left = np;
  targ_t* args = (targ_t*)calloc((size_t)(np + nc), sizeof(targ_t));
  pthread_t* tids = (pthread_t*)calloc((size_t)(np + nc), sizeof(pthread_t));
  double t0 = bench_now();
  for (long i = 0; i < np + nc; i++) {
    args[i].id = i; args[i].batches = a.iters;
    if (pthread_create(&tids[i], NULL, i < np ? producer : consumer, &args[i]) != 0) return 3;
  }
  for (long i = 0; i < np + nc; i++) pthread_join(tids[i], NULL);
  double t1 = bench_now();
  uint64_t check = 0;
  for (long i = np; i < np + nc; i++) check += args[i].check;
  free(args); free(tids); free(queue);
  bench_report("xmalloc", &a, t1 - t0, (double)np * (double)a.iters * BATCH, check);
  return 0;
}
