/* glibc-bench.c -- glibc-simple and glibc-thread loops (compiled twice).
 *
 * After the descriptions of glibc's own malloc micro benchmarks.
 *   glibc-simple: for each of a few small sizes (16, 64, 256, 1024 B) allocate a batch of
 *     N blocks, then free them all; repeat.  Pure fast-path throughput with a working set
 *     that fits the thread caches, in one thread.
 *   glibc-thread (GLIBC_THREAD): every thread owns a working set of 2048 slots and keeps
 *     replacing a random slot with a new block whose size follows a distribution that is
 *     heavy on small sizes (4 B-32 KiB); throughput per thread with all threads at once.
 *
 *   glibc-simple:  -n rounds (default 15000)  -s batch size (default 1000)
 *   glibc-thread:  -t threads (default 2)  -n replacements per thread (default 40M)  -s slots (default 2048)
 */
#include "bench-common.h"

#ifndef GLIBC_THREAD

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "glibc-simple: batches of malloc then free (-n rounds, -s batch)",
              (bench_args_t){1, 15000, 1000, false}, (bench_args_t){1, 1500, 1000, false}, &a);
  static const size_t sizes[4] = {16, 64, 256, 1024};
  size_t n = (size_t)a.size;
  void** blk = (void**)calloc(n, sizeof(void*));
  uint64_t check = 0;
  double t0 = bench_now();
  for (long r = 0; r < a.iters; r++) {
    size_t sz = sizes[r & 3];
    for (size_t i = 0; i < n; i++) { blk[i] = bench_xmalloc(sz); *(unsigned char*)blk[i] = (unsigned char)i; }
    for (size_t i = 0; i < n; i++) { check += *(unsigned char*)blk[i]; free(blk[i]); }
  }
  double t1 = bench_now();
  free(blk);
  bench_report("glibc-simple", &a, t1 - t0, (double)a.iters * (double)n, check);
  return 0;
}

#else

typedef struct targ_s { long id, ops; size_t slots; uint64_t check; } targ_t;

/* sizes: 4 B-32 KiB with the probability falling off roughly as 1/size */
static size_t thread_size(bench_rng_t* r) {
  unsigned e = 2 + (unsigned)bench_below(r, 13);           /* band 4 B .. 32 KiB  */
  unsigned f = 2 + (unsigned)bench_below(r, 13);
  if (f < e) e = f;                                        /* min of two: skew small */
  size_t lo = (size_t)1 << e;
  return lo + (size_t)bench_below(r, lo);
}

static void* worker(void* arg) {
  targ_t* t = (targ_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, 555 + (uint64_t)t->id);
  void** slot = (void**)calloc(t->slots, sizeof(void*));
  uint64_t sum = 0;
  for (long i = 0; i < t->ops; i++) {
    size_t k = (size_t)bench_below(&rng, t->slots);
    if (slot[k]) { sum += *(unsigned char*)slot[k]; free(slot[k]); }
    size_t sz = thread_size(&rng);
    slot[k] = bench_xmalloc(sz);
    *(unsigned char*)slot[k] = (unsigned char)i;
  }
  for (size_t k = 0; k < t->slots; k++) free(slot[k]);
  free(slot);
  t->check = sum;
  return NULL;
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "glibc-thread: per-thread working set replacement (-t threads, -n ops, -s slots)",
              (bench_args_t){2, 40000000, 2048, false}, (bench_args_t){2, 4000000, 2048, false}, &a);
  targ_t* args = (targ_t*)calloc((size_t)a.threads, sizeof(targ_t));
  for (long i = 0; i < a.threads; i++) { args[i].id = i; args[i].ops = a.iters; args[i].slots = (size_t)a.size; }
  double t0 = bench_now();
  bench_run_threads(a.threads, worker, args, sizeof(targ_t));
  double t1 = bench_now();
  uint64_t check = 0;
  for (long i = 0; i < a.threads; i++) check = bench_mix(check, args[i].check);
  free(args);
  bench_report("glibc-thread", &a, t1 - t0, (double)a.threads * (double)a.iters, check);
  return 0;
}

#endif
