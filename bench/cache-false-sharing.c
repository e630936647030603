/* cache-false-sharing.c -- cache-scratch and cache-thrash (compiled twice).
 *
 * After the Hoard paper's descriptions of the two false-sharing tests.
 *   cache-thrash (active false sharing): every thread repeatedly allocates a small object,
 *     writes to it many times and frees it.  An allocator that gives concurrently running
 *     threads objects on the same cache line makes the writes bounce the line between cores.
 *   cache-scratch (passive false sharing): the main thread allocates one small object per
 *     thread, side by side, and hands them out; each thread first frees the object it was
 *     given and then runs the thrash loop.  An allocator that reuses the freed object for the
 *     freeing thread reintroduces the neighbouring objects' cache lines.
 *
 *   -t threads (default 2)  -n objects per thread (default 2M)  -s object size (default 8)
 *   the inner loop writes each object 200 times.
 */
#include "bench-common.h"

#define WRITES 200

typedef struct targ_s { long iters; size_t size; char* given; uint64_t check; char pad[64]; } targ_t;

static void* worker(void* arg) {
  targ_t* t = (targ_t*)arg;
#ifdef CACHE_SCRATCH
  free(t->given);
#endif
  uint64_t sum = 0;
  for (long i = 0; i < t->iters; i++) {
    volatile char* o = (volatile char*)bench_xmalloc(t->size);
    for (int w = 0; w < WRITES; w++) {
      for (size_t j = 0; j < t->size; j++) o[j] = (char)(o[j] + 1 + w);
    }
    sum += (unsigned char)o[0];
    free((void*)o);
  }
  t->check = sum;
  return NULL;
}

int main(int argc, char** argv) {
#ifdef CACHE_SCRATCH
  const char* name = "cache-scratch";
#else
  const char* name = "cache-thrash";
#endif
  bench_args_t a;
  bench_parse(argc, argv, "false sharing (-t threads, -n objects per thread, -s object size)",
              (bench_args_t){2, 2000000, 8, false}, (bench_args_t){2, 200000, 8, false}, &a);
  targ_t* args = (targ_t*)calloc((size_t)a.threads, sizeof(targ_t));
  for (long i = 0; i < a.threads; i++) {
    args[i].iters = a.iters; args[i].size = (size_t)a.size;
    args[i].given = (char*)bench_xmalloc((size_t)a.size);   /* adjacent small objects */
    memset(args[i].given, 0, (size_t)a.size);
  }
#ifndef CACHE_SCRATCH
  for (long i = 0; i < a.threads; i++) free(args[i].given);
#endif
  double t0 = bench_now();
  bench_run_threads(a.threads, worker, args, sizeof(targ_t));
  double t1 = bench_now();
  uint64_t check = 0;
  for (long i = 0; i < a.threads; i++) check = bench_mix(check, args[i].check);
  free(args);
  bench_report(name, &a, t1 - t0, (double)a.threads * (double)a.iters, check);
  return 0;
}
