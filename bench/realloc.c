/* realloc.c -- realloc growth chains.
 *
 * S buffers grow side by side, as string builders and vectors do: each step appends a
 * random 1-64 bytes to one buffer, calling realloc with the exact new length (string
 * builder style) for most buffers and with a doubled capacity for every fourth buffer
 * (vector style).  A buffer that reaches its target length (log-uniform 256 B - 256 KiB)
 * is verified, freed and restarted.  The contents are checked, so a realloc that loses
 * data is caught.
 *
 *   -n appends (default 12M)   -s concurrent chains (default 64)
 */
#include "bench-common.h"

typedef struct chain_s { unsigned char* p; size_t len, cap, target; uint32_t sum; bool vec; } chain_t;

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "realloc growth chains (-n appends, -s chains)",
              (bench_args_t){1, 12000000, 64, false}, (bench_args_t){1, 1200000, 64, false}, &a);
  size_t n = (size_t)a.size;
  chain_t* ch = (chain_t*)calloc(n, sizeof(chain_t));
  bench_rng_t rng;
  bench_rng_seed(&rng, 5);
  for (size_t i = 0; i < n; i++) { ch[i].target = bench_size_log(&rng, 8, 18); ch[i].vec = (i % 4) == 0; }
  uint64_t check = 0, reallocs = 0;
  double t0 = bench_now();
  for (long step = 0; step < a.iters; step++) {
    chain_t* c = &ch[bench_below(&rng, n)];
    size_t add = 1 + (size_t)bench_below(&rng, 64);
    size_t need = c->len + add;
    if (need > c->cap) {
      size_t ncap = c->vec ? (c->cap ? c->cap * 2 : 16) : need;
      while (ncap < need) ncap *= 2;
      unsigned char* q = (unsigned char*)realloc(c->p, ncap);
      if (!q) { fprintf(stderr, "realloc: oom\n"); return 3; }
      c->p = q; c->cap = ncap; reallocs++;
    }
    for (size_t i = 0; i < add; i++) { unsigned char b = (unsigned char)(c->len + i); c->p[c->len + i] = b; }
    c->sum += (uint32_t)add;
    c->len = need;
    if (c->len >= c->target) {
      /* verify contents survived all the moves: byte i must be (unsigned char)i */
      for (size_t i = 0; i < c->len; i += 97) {
        if (c->p[i] != (unsigned char)i) { fprintf(stderr, "realloc: data lost at %zu\n", i); return 1; }
      }
      check = bench_mix(check, c->len);
      free(c->p);
      c->p = NULL; c->len = c->cap = 0;
      c->target = bench_size_log(&rng, 8, 18);
    }
  }
  double t1 = bench_now();
  for (size_t i = 0; i < n; i++) { check = bench_mix(check, ch[i].len); free(ch[i].p); }
  free(ch);
  bench_report("realloc", &a, t1 - t0, (double)reallocs, check);
  return 0;
}
