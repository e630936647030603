/* mstress.c -- mstress-style thread churn.
 *
 * Modelled on the description of mimalloc's stress test: R rounds; in each round T threads
 * are started, each allocates blocks of random size (mostly 8 B-1 KiB, some up to 64 KiB,
 * rarely 1 MiB), keeps a local set with random replacement, and exchanges blocks with the
 * other threads through a shared transfer array (atomic swap: the block it takes out is
 * freed later by this thread).  At the end of its round a thread frees its local set and
 * exits, leaving its blocks in the transfer array for the threads of later rounds.  Every
 * block is stamped with a pattern that is checked before it is freed.
 *
 *   -t threads per round (default 4)  -n rounds (default 150)  -s scale (default 100)
 */
#include "bench-common.h"
#include <stdatomic.h>

#define TRANSFER 1000

static _Atomic(uintptr_t) transfer[TRANSFER];
static atomic_ullong bad_stamps;

typedef struct targ_s { long id, scale, round; uint64_t check; } targ_t;

static void* stamped_alloc(bench_rng_t* r) {
  size_t words;
  uint64_t pick = bench_below(r, 1000);
  if (pick == 0) words = bench_range(r, 16 * 1024, 128 * 1024);   /* up to 1 MiB */
  else if (pick < 50) words = bench_range(r, 128, 8192);           /* up to 64 KiB */
  else words = bench_range(r, 1, 128);                             /* up to 1 KiB  */
  uint64_t* p = (uint64_t*)bench_xmalloc(words * sizeof(uint64_t));
  uint64_t cookie = (uint64_t)(uintptr_t)p ^ 0x5bd1e995u;
  p[0] = words;
  for (size_t i = 1; i < words && i < 16; i++) p[i] = cookie + i;
  if (words > 16) p[words - 1] = cookie;
  return p;
}

static uint64_t stamped_free(void* q) {
  if (q == NULL) return 0;
  uint64_t* p = (uint64_t*)q;
  uint64_t words = p[0];
  uint64_t cookie = (uint64_t)(uintptr_t)p ^ 0x5bd1e995u;
  bool ok = words > 0;
  for (size_t i = 1; ok && i < words && i < 16; i++) ok = p[i] == cookie + i;
  if (ok && words > 16) ok = p[words - 1] == cookie;
  if (!ok) atomic_fetch_add(&bad_stamps, 1);
  free(p);
  return words;
}

static void* worker(void* arg) {
  targ_t* t = (targ_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, (uint64_t)(t->round * 1000 + t->id + 1));
  size_t nlocal = (size_t)t->scale * 4;
  void** local = (void**)calloc(nlocal, sizeof(void*));
  long steps = t->scale * 200;
  uint64_t sum = 0;
  for (long i = 0; i < steps; i++) {
    uint64_t op = bench_below(&rng, 100);
    if (op < 60) {                                 /* replace a local block */
      size_t k = (size_t)bench_below(&rng, nlocal);
      sum += stamped_free(local[k]);
      local[k] = stamped_alloc(&rng);
    } else if (op < 80) {                          /* free a local block */
      size_t k = (size_t)bench_below(&rng, nlocal);
      sum += stamped_free(local[k]);
      local[k] = NULL;
    } else {                                       /* exchange with the transfer array */
      size_t k = (size_t)bench_below(&rng, TRANSFER);
      void* mine = stamped_alloc(&rng);
      void* got = (void*)atomic_exchange(&transfer[k], (uintptr_t)mine);
      sum += stamped_free(got);
    }
  }
  for (size_t k = 0; k < nlocal; k++) sum += stamped_free(local[k]);
  free(local);
  t->check = sum;
  return NULL;
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "mstress-style thread churn (-t threads per round, -n rounds, -s scale)",
              (bench_args_t){4, 150, 100, false}, (bench_args_t){4, 15, 100, false}, &a);
  targ_t* args = (targ_t*)calloc((size_t)a.threads, sizeof(targ_t));
  uint64_t check = 0;
  double t0 = bench_now();
  for (long r = 0; r < a.iters; r++) {
    for (long i = 0; i < a.threads; i++) { args[i].id = i; args[i].scale = a.size; args[i].round = r; }
    bench_run_threads(a.threads, worker, args, sizeof(targ_t));
    for (long i = 0; i < a.threads; i++) check = bench_mix(check, args[i].check);
  }
  for (size_t k = 0; k < TRANSFER; k++) check += stamped_free((void*)atomic_exchange(&transfer[k], 0));
  double t1 = bench_now();
  free(args);
  unsigned long long bad = atomic_load(&bad_stamps);
  printf("mstress: stamp mismatches: %llu\n", bad);
  bench_report("mstress", &a, t1 - t0, (double)a.iters * (double)a.threads * (double)a.size * 200, check);
  return bad == 0 ? 0 : 1;
}
