/* sh-bench.c -- sh6bench- and sh8bench-style batches (compiled twice).
 *
 * After the published descriptions of MicroQuill's SmartHeap benchmarks: every thread
 * repeatedly allocates a batch of blocks whose sizes sweep up and down a range
 * (here 8 B-1 KiB, plus every 64th block up to 16 KiB), then frees the batch in a varying
 * order -- LIFO, FIFO, or interleaved halves -- while part of the previous batch is still
 * alive.
 *   sh6bench: all frees happen in the allocating thread.
 *   sh8bench (SH8): every other batch is passed to the next thread, which frees it, so half
 *     of all frees are cross-thread.
 *
 *   -t threads (default 2)  -n batches per thread (default sh6 100000, sh8 20000)
 *   -s batch size (default 500)
 */
#include "bench-common.h"

static long nthreads, batch;

typedef struct slot_s { pthread_mutex_t lock; void** pending; char pad[64]; } slot_t;
static slot_t* handoff;

typedef struct targ_s { long id, batches; uint64_t check; } targ_t;

static void free_order(void** b, long n, int order, uint64_t* sum) {
  if (order == 0) { for (long i = n - 1; i >= 0; i--) { *sum += *(unsigned char*)b[i]; free(b[i]); } }
  else if (order == 1) { for (long i = 0; i < n; i++) { *sum += *(unsigned char*)b[i]; free(b[i]); } }
  else {
    for (long i = 0; i < n; i += 2) { *sum += *(unsigned char*)b[i]; free(b[i]); }
    for (long i = 1; i < n; i += 2) { *sum += *(unsigned char*)b[i]; free(b[i]); }
  }
  free(b);
}

static void* worker(void* arg) {
  targ_t* t = (targ_t*)arg;
  uint64_t sum = 0;
  void** prev = NULL;
  for (long r = 0; r < t->batches; r++) {
    void** b = (void**)bench_xmalloc(sizeof(void*) * (size_t)batch);
    size_t lo = 8, hi = 1024, sz = (r & 1) ? hi : lo;
    for (long i = 0; i < batch; i++) {
      size_t s = (i % 64 == 63) ? 16384 - (size_t)(i % 4096) : sz;
      b[i] = bench_xmalloc(s);
      *(unsigned char*)b[i] = (unsigned char)(i + r);
      /* sweep up on odd batches, down on even ones */
      if (r & 1) { sz = sz > lo + 24 ? sz - 24 : hi; } else { sz = sz + 24 < hi ? sz + 24 : lo; }
    }
    if (prev) { free_order(prev, batch, (int)(r % 3), &sum); prev = NULL; }
#ifdef SH8
    if ((r & 1) && nthreads > 1) {
      slot_t* s = &handoff[(t->id + 1) % nthreads];
      pthread_mutex_lock(&s->lock);
      void** old = s->pending;
      s->pending = b;
      pthread_mutex_unlock(&s->lock);
      if (old) free_order(old, batch, 2, &sum);
      b = NULL;
    }
    slot_t* mine = &handoff[t->id];
    pthread_mutex_lock(&mine->lock);
    void** in = mine->pending;
    mine->pending = NULL;
    pthread_mutex_unlock(&mine->lock);
    if (in) free_order(in, batch, (int)(r % 2), &sum);
#endif
    prev = b;   /* lives on through the next batch */
  }
  if (prev) free_order(prev, batch, 0, &sum);
  t->check = sum;
  return NULL;
}

int main(int argc, char** argv) {
#ifdef SH8
  const char* name = "sh8bench";
#else
  const char* name = "sh6bench";
#endif
#ifdef SH8
  const long full = 20000;
#else
  const long full = 100000;
#endif
  bench_args_t a;
  bench_parse(argc, argv, "SmartHeap-style batches (-t threads, -n batches per thread, -s batch size)",
              (bench_args_t){2, full, 500, false}, (bench_args_t){2, full / 10, 500, false}, &a);
  nthreads = a.threads; batch = a.size;
  handoff = (slot_t*)calloc((size_t)nthreads, sizeof(slot_t));
  for (long i = 0; i < nthreads; i++) pthread_mutex_init(&handoff[i].lock, NULL);
  targ_t* args = (targ_t*)calloc((size_t)nthreads, sizeof(targ_t));
  for (long i = 0; i < nthreads; i++) { args[i].id = i; args[i].batches = a.iters; }
  double t0 = bench_now();
  bench_run_threads(nthreads, worker, args, sizeof(targ_t));
  uint64_t check = 0;
  for (long i = 0; i < nthreads; i++) {
    if (handoff[i].pending) free_order(handoff[i].pending, batch, 1, &check);
    check += args[i].check;
  }
  double t1 = bench_now();
  free(args); free(handoff);
  bench_report(name, &a, t1 - t0, (double)a.threads * (double)a.iters * (double)a.size, check);
  return 0;
}
