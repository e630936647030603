/* fastpath.c -- the allocation fast path, in isolation.
 *
 * Fixed size: a ring of 64 live blocks of one size; each step frees the oldest block and
 * allocates a new one in its place (one malloc+free pair), writing one byte into it.
 * Random churn (--random): 4096 live slots; each step frees a random slot and allocates a
 * block of random size (8 B-4 KiB, uniform) into it.
 *
 * Without -s all cases run in turn (16 B, 128 B, 1 KiB, 8000 B, 100 KB, random) and the
 * time per pair is printed in ns.  `-s SIZE` runs one size only and `--random` only the
 * churn case: that is how bench/callgrind.sh counts instructions per pair.
 *
 *   -n pairs per case (default 20M)  -s size  --random
 */
#include "bench-common.h"

#define RING 64
#define CHURN_LIVE 4096

static void* volatile sink;   /* keeps the last block observable */

static BENCH_NOINLINE uint64_t run_ring(size_t size, long n) {
  void* ring[RING];
  uint64_t sum = 0;
  for (int i = 0; i < RING; i++) { ring[i] = bench_xmalloc(size); *(unsigned char*)ring[i] = (unsigned char)i; }
  for (long i = 0; i < n; i++) {
    unsigned k = (unsigned)i & (RING - 1);
    sum += *(unsigned char*)ring[k];
    free(ring[k]);
    void* p = malloc(size);
    *(unsigned char*)p = (unsigned char)i;
    ring[k] = p;
  }
  sink = ring[0];
  for (int i = 0; i < RING; i++) free(ring[i]);
  return sum;
}

static BENCH_NOINLINE uint64_t run_random(long n) {
  void** slot = (void**)bench_xmalloc(sizeof(void*) * CHURN_LIVE);
  bench_rng_t rng;
  bench_rng_seed(&rng, 8);
  uint64_t sum = 0;
  for (int i = 0; i < CHURN_LIVE; i++) {
    slot[i] = bench_xmalloc(8 + (size_t)bench_below(&rng, 4096 - 8 + 1));
    *(unsigned char*)slot[i] = (unsigned char)i;
  }
  for (long i = 0; i < n; i++) {
    unsigned k = (unsigned)bench_below(&rng, CHURN_LIVE);
    sum += *(unsigned char*)slot[k];
    free(slot[k]);
    void* p = malloc(8 + (size_t)bench_below(&rng, 4096 - 8 + 1));
    *(unsigned char*)p = (unsigned char)i;
    slot[k] = p;
  }
  sink = slot[0];
  for (int i = 0; i < CHURN_LIVE; i++) free(slot[i]);
  free(slot);
  return sum;
}

int main(int argc, char** argv) {
  bool random_only = false;
  /* strip our own flag before the common parser sees argv */
  int m = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--random") == 0) random_only = true;
    else argv[m++] = argv[i];
  }
  argc = m;
  bench_args_t a;
  bench_parse(argc, argv, "fast path: malloc/free pairs (-n pairs per case, -s one size only, --random: churn only)",
              (bench_args_t){1, 20000000, 0, false}, (bench_args_t){1, 2000000, 0, false}, &a);
  static const size_t sizes[5] = {16, 128, 1024, 8000, 100000};
  uint64_t check = 0;
  double total = 0;
  if (a.size > 0 && !random_only) {
    double t0 = bench_now();
    check = run_ring((size_t)a.size, a.iters);
    total = bench_now() - t0;
    printf("fastpath %7ld B: %6.2f ns/pair\n", a.size, total * 1e9 / (double)a.iters);
  } else if (random_only) {
    double t0 = bench_now();
    check = run_random(a.iters);
    total = bench_now() - t0;
    printf("fastpath  random: %6.2f ns/pair\n", total * 1e9 / (double)a.iters);
  } else {
    for (int s = 0; s < 5; s++) {
      double t0 = bench_now();
      check = bench_mix(check, run_ring(sizes[s], a.iters));
      double dt = bench_now() - t0;
      total += dt;
      printf("fastpath %7zu B: %6.2f ns/pair\n", sizes[s], dt * 1e9 / (double)a.iters);
    }
    double t0 = bench_now();
    check = bench_mix(check, run_random(a.iters / 4));
    double dt = bench_now() - t0;
    total += dt;
    printf("fastpath  random: %6.2f ns/pair\n", dt * 1e9 / (double)(a.iters / 4));
  }
  bench_report("fastpath", &a, total, 0, check);
  return 0;
}
