/* larson.c -- larson-style server churn with thread hand-over.
 *
 * After the description by Larson and Krishnan (1998) of a server simulation: each of
 * T worker lineages owns an array of S slots holding blocks of random size (16-1000 B).
 * A worker performs K replacements (free a random slot, allocate a new random-size block
 * into it) and then hands its whole array to a freshly created successor thread and
 * exits, so every block is eventually freed by a thread other than the one that
 * allocated it, often after that thread has died.  The run ends after R generations per
 * lineage; the work is fixed, so time is comparable across allocators.
 *
 *   -t lineages (default 2)  -n generations per lineage (default 5000)  -s slots (default 1000)
 */
#include "bench-common.h"
#include <stdatomic.h>

#define MIN_SZ 16
#define MAX_SZ 1000
#define OPS_PER_GEN 4000

typedef struct lineage_s {
  void** slot;
  size_t slots;
  long gen, gens;
  bench_rng_t rng;
  uint64_t check;
} lineage_t;

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static long done_count = 0;
static atomic_llong threads_started;

static void* worker(void* arg) {
  lineage_t* L = (lineage_t*)arg;
  for (long i = 0; i < OPS_PER_GEN; i++) {
    size_t k = (size_t)bench_below(&L->rng, L->slots);
    if (L->slot[k]) { L->check += *(unsigned char*)L->slot[k]; free(L->slot[k]); }
    size_t sz = bench_range(&L->rng, MIN_SZ, MAX_SZ);
    L->slot[k] = bench_xmalloc(sz);
    bench_touch(L->slot[k], sz, (uint64_t)i);
  }
  if (++L->gen < L->gens) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&threads_started, 1);
    if (pthread_create(&t, &attr, worker, L) != 0) { fprintf(stderr, "larson: pthread_create\n"); exit(3); }
    pthread_attr_destroy(&attr);
  } else {
    pthread_mutex_lock(&done_lock);
    done_count++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
  }
  return NULL;
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "larson-style server churn (-t lineages, -n generations, -s slots)",
              (bench_args_t){2, 5000, 1000, false}, (bench_args_t){2, 500, 1000, false}, &a);
  lineage_t* L = (lineage_t*)calloc((size_t)a.threads, sizeof(lineage_t));
  for (long i = 0; i < a.threads; i++) {
    L[i].slots = (size_t)a.size;
    L[i].slot = (void**)calloc(L[i].slots, sizeof(void*));
    L[i].gens = a.iters;
    bench_rng_seed(&L[i].rng, 1000 + (uint64_t)i);
    for (size_t k = 0; k < L[i].slots; k++) L[i].slot[k] = bench_xmalloc(bench_range(&L[i].rng, MIN_SZ, MAX_SZ));
  }
  double t0 = bench_now();
  for (long i = 0; i < a.threads; i++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&threads_started, 1);
    if (pthread_create(&t, &attr, worker, &L[i]) != 0) { fprintf(stderr, "larson: pthread_create\n"); return 3; }
    pthread_attr_destroy(&attr);
  }
  pthread_mutex_lock(&done_lock);
  while (done_count < a.threads) pthread_cond_wait(&done_cond, &done_lock);
  pthread_mutex_unlock(&done_lock);
  double t1 = bench_now();
  uint64_t check = 0;
  for (long i = 0; i < a.threads; i++) {
    check = bench_mix(check, L[i].check);
    for (size_t k = 0; k < L[i].slots; k++) free(L[i].slot[k]);
    free(L[i].slot);
  }
  free(L);
  printf("larson: %lld threads created\n", (long long)atomic_load(&threads_started));
  bench_report("larson", &a, t1 - t0, (double)a.threads * (double)a.iters * OPS_PER_GEN, check);
  return 0;
}
