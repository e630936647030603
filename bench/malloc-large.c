/* malloc-large.c -- large blocks of 5-25 MiB.
 *
 * Keeps a few large blocks alive and keeps replacing them with new ones of a random size
 * between 5 and 25 MiB, writing one byte on every 4 KiB page of each new block (as a
 * program filling a buffer would).  An allocator that returns such blocks to the OS at
 * once pays for unmapping and for faulting every page in again; one that keeps them
 * mapped reuses the pages.
 *
 *   -n replacements (default 1000)   -s live blocks (default 4)
 */
#include "bench-common.h"

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "large blocks, 5-25 MiB (-n replacements, -s live blocks)",
              (bench_args_t){1, 1000, 4, false}, (bench_args_t){1, 100, 4, false}, &a);
  size_t live = (size_t)a.size;
  unsigned char** blk = (unsigned char**)calloc(live, sizeof(void*));
  size_t* len = (size_t*)calloc(live, sizeof(size_t));
  bench_rng_t rng;
  bench_rng_seed(&rng, 99);
  uint64_t check = 0;
  const size_t MiB = 1024 * 1024;
  double t0 = bench_now();
  for (long i = 0; i < a.iters; i++) {
    size_t k = (size_t)bench_below(&rng, live);
    if (blk[k]) {
      check = bench_mix(check, (uint64_t)blk[k][len[k] / 2] + blk[k][len[k] - 1]);
      free(blk[k]);
    }
    size_t sz = bench_range(&rng, 5 * MiB, 25 * MiB);
    unsigned char* p = (unsigned char*)bench_xmalloc(sz);
    for (size_t off = 0; off < sz; off += 4096) p[off] = (unsigned char)(off >> 12);
    p[sz - 1] = (unsigned char)i;
    blk[k] = p; len[k] = sz;
  }
  double t1 = bench_now();
  for (size_t k = 0; k < live; k++) free(blk[k]);
  free(blk); free(len);
  bench_report("malloc-large", &a, t1 - t0, (double)a.iters, check);
  return 0;
}
