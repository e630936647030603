/* churn.c -- random-size churn in one thread.
 *
 * A working set of S slots is filled with blocks; then, repeatedly, a random slot is
 * freed and refilled with a block of a new random size.  Sizes are log-uniform from 8 B
 * to 4 KiB, with one allocation in 64 drawn from 4-64 KiB.  Models the steady state of
 * a long-running program whose objects die in no particular order.
 *
 *   -n replacements (default 25M)   -s slots (default 20000)
 */
#include "bench-common.h"

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "random-size churn (-n replacements, -s live slots)",
              (bench_args_t){1, 25000000, 20000, false}, (bench_args_t){1, 2500000, 20000, false}, &a);
  size_t slots = (size_t)a.size;
  void** slot = (void**)calloc(slots, sizeof(void*));
  size_t* len = (size_t*)calloc(slots, sizeof(size_t));
  bench_rng_t rng;
  bench_rng_seed(&rng, 1234);
  uint64_t check = 0;
  double t0 = bench_now();
  for (long i = 0; i < a.iters; i++) {
    size_t k = (size_t)bench_below(&rng, slots);
    if (slot[k]) { check += ((unsigned char*)slot[k])[0]; free(slot[k]); }
    size_t sz = (bench_below(&rng, 64) == 0) ? bench_size_log(&rng, 12, 16) : bench_size_log(&rng, 3, 12);
    slot[k] = bench_xmalloc(sz);
    len[k] = sz;
    bench_touch(slot[k], sz, (uint64_t)i);
  }
  double t1 = bench_now();
  for (size_t k = 0; k < slots; k++) { if (slot[k]) check = bench_mix(check, len[k]); free(slot[k]); }
  free(slot); free(len);
  bench_report("churn", &a, t1 - t0, (double)a.iters, check);
  return 0;
}
