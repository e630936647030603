/* alloc-test.c -- alloc-test-style size distribution.
 *
 * After the description of the alloc-test benchmark: each thread keeps a set of S slots
 * and performs random operations on it -- mostly "free a random slot and allocate a new
 * block there", sometimes only a free or only an allocation -- with block sizes drawn from
 * a distribution shaped like real programs: the probability of a size falls exponentially
 * with its magnitude (most blocks below 64 B, few above 1 KiB, rare ones up to 512 KiB).
 * Threads do not share blocks.
 *
 *   -t threads (default 2)  -n operations per thread (default 50M)  -s slots (default 8192)
 */
#include "bench-common.h"

typedef struct targ_s { long id, ops; size_t slots; uint64_t check; } targ_t;

/* exponentially decreasing band probability: band b (size 2^(b+3)..2^(b+4)) has weight 2^-b */
static size_t dist_size(bench_rng_t* r) {
  uint64_t x = bench_rand(r);
  unsigned band = (unsigned)__builtin_ctzll(x | (1ULL << 15));   /* P(band = b) = 2^-(b+1) */
  size_t lo = (size_t)8 << band;
  return lo + (size_t)bench_below(r, lo);
}

static void* worker(void* arg) {
  targ_t* t = (targ_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, 2024 + (uint64_t)t->id);
  void** slot = (void**)calloc(t->slots, sizeof(void*));
  uint64_t sum = 0;
  for (long i = 0; i < t->ops; i++) {
    size_t k = (size_t)bench_below(&rng, t->slots);
    uint64_t op = bench_below(&rng, 8);
    if (slot[k]) { sum += *(unsigned char*)slot[k]; free(slot[k]); slot[k] = NULL; }
    if (op != 0) {                 /* 7 in 8: allocate again, 1 in 8: leave the slot empty */
      size_t sz = dist_size(&rng);
      slot[k] = bench_xmalloc(sz);
      bench_touch(slot[k], sz, (uint64_t)i);
    }
  }
  for (size_t k = 0; k < t->slots; k++) free(slot[k]);
  free(slot);
  t->check = sum;
  return NULL;
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "alloc-test-style size distribution (-t threads, -n ops per thread, -s slots)",
              (bench_args_t){2, 50000000, 8192, false}, (bench_args_t){2, 5000000, 8192, false}, &a);
  targ_t* args = (targ_t*)calloc((size_t)a.threads, sizeof(targ_t));
  for (long i = 0; i < a.threads; i++) { args[i].id = i; args[i].ops = a.iters; args[i].slots = (size_t)a.size; }
  double t0 = bench_now();
  bench_run_threads(a.threads, worker, args, sizeof(targ_t));
  double t1 = bench_now();
  uint64_t check = 0;
  for (long i = 0; i < a.threads; i++) check = bench_mix(check, args[i].check);
  free(args);
  bench_report("alloc-test", &a, t1 - t0, (double)a.threads * (double)a.iters, check);
  return 0;
}
