/* rptest.c -- rptest-style mixed lifetimes across threads.
 *
 * From the description of rpmalloc's benchmark: each thread runs loops in which it
 * allocates a batch of blocks (sizes 16 B-8 KiB, log-distributed, a few up to 64 KiB),
 * frees part of the batch at once (short lives), keeps the rest in a ring of G
 * generations that is freed G loops later (long lives), and every fourth batch is handed
 * to the next thread through a mailbox, which frees it there (cross-thread lives).
 *
 *   -t threads (default 2)  -n loops per thread (default 100000)  -s blocks per batch (default 64)
 */
#include "bench-common.h"

#define GENS 32

typedef struct mailbox_s {
  pthread_mutex_t lock;
  void** pending;     /* a handed-over batch: `size` pointers, or NULL */
  char pad[64];
} mailbox_t;

static mailbox_t* boxes;
static long nthreads, batch;

typedef struct targ_s { long id, loops; uint64_t check; } targ_t;

static void free_batch(void** b, uint64_t* sum) {
  if (!b) return;
  for (long i = 0; i < batch; i++) { if (b[i]) { *sum += *(unsigned char*)b[i]; free(b[i]); } }
  free(b);
}

static void* worker(void* arg) {
  targ_t* t = (targ_t*)arg;
  bench_rng_t rng;
  bench_rng_seed(&rng, 31 + (uint64_t)t->id);
  void** ring[GENS] = {0};
  uint64_t sum = 0;
  for (long loop = 0; loop < t->loops; loop++) {
    void** b = (void**)bench_xmalloc(sizeof(void*) * (size_t)batch);
    for (long i = 0; i < batch; i++) {
      size_t sz = bench_below(&rng, 50) == 0 ? bench_size_log(&rng, 13, 16) : bench_size_log(&rng, 4, 13);
      b[i] = bench_xmalloc(sz);
      bench_touch(b[i], sz, (uint64_t)loop);
    }
    if ((loop & 3) == 3 && nthreads > 1) {           /* hand over to the next thread */
      mailbox_t* m = &boxes[(t->id + 1) % nthreads];
      pthread_mutex_lock(&m->lock);
      void** old = m->pending;
      m->pending = b;
      pthread_mutex_unlock(&m->lock);
      free_batch(old, &sum);    /* nobody took the previous one: free it ourselves */
    } else {
      for (long i = 0; i < batch; i += 2) {        /* half die young */
        sum += *(unsigned char*)b[i]; free(b[i]); b[i] = NULL;
      }
      size_t g = (size_t)(loop % GENS);            /* the other half live GENS loops */
      free_batch(ring[g], &sum);
      ring[g] = b;
    }
    mailbox_t* mine = &boxes[t->id];                /* collect what was handed to us */
    pthread_mutex_lock(&mine->lock);
    void** in = mine->pending;
    mine->pending = NULL;
    pthread_mutex_unlock(&mine->lock);
    free_batch(in, &sum);
  }
  for (int g = 0; g < GENS; g++) free_batch(ring[g], &sum);
  t->check = sum;
  return NULL;
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "rptest-style mixed lifetimes (-t threads, -n loops, -s batch size)",
              (bench_args_t){2, 100000, 64, false}, (bench_args_t){2, 10000, 64, false}, &a);
  nthreads = a.threads; batch = a.size;
  boxes = (mailbox_t*)calloc((size_t)nthreads, sizeof(mailbox_t));
  for (long i = 0; i < nthreads; i++) pthread_mutex_init(&boxes[i].lock, NULL);
  targ_t* args = (targ_t*)calloc((size_t)nthreads, sizeof(targ_t));
  for (long i = 0; i < nthreads; i++) { args[i].id = i; args[i].loops = a.iters; }
  double t0 = bench_now();
  bench_run_threads(nthreads, worker, args, sizeof(targ_t));
  uint64_t check = 0;
  for (long i = 0; i < nthreads; i++) { free_batch(boxes[i].pending, &check); check += args[i].check; }
  double t1 = bench_now();
  free(args); free(boxes);
  bench_report("rptest", &a, t1 - t0, (double)a.threads * (double)a.iters * (double)a.size, check);
  return 0;
}
