/* espresso.c -- "espresso-like": mixed sizes with long and short lifetimes.
 *
 * espresso minimises boolean functions; its data are covers (growable arrays of pointers)
 * holding cubes (bit vectors).  Covers live long and are replaced now and then, cubes are
 * created by intersections and mostly discarded again, and scratch vectors live for one
 * comparison.  This program repeats those steps on random covers:
 *   intersect two covers cube by cube (scratch cube per pair), keep the non-empty results
 *   that are not contained in an earlier one, and let the result replace a random cover.
 *
 *   -n rounds (default 60000)   -s cube width in 64-bit words (default 4)
 */
#include "bench-common.h"

typedef struct cover_s {
  size_t n, cap;
  uint64_t** cube;
} cover_t;

static size_t W;   /* words per cube */

static uint64_t* cube_new(void) { return (uint64_t*)bench_xmalloc(W * sizeof(uint64_t)); }

static void cover_push(cover_t* c, uint64_t* q) {
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 4;
    c->cube = (uint64_t**)realloc(c->cube, c->cap * sizeof(uint64_t*));
    if (!c->cube) { fprintf(stderr, "espresso: oom\n"); exit(3); }
  }
  c->cube[c->n++] = q;
}

static void cover_free(cover_t* c) {
  for (size_t i = 0; i < c->n; i++) free(c->cube[i]);
  free(c->cube);
  c->cube = NULL; c->n = c->cap = 0;
}

static cover_t* cover_random(bench_rng_t* r, size_t n) {
  cover_t* c = (cover_t*)calloc(1, sizeof(cover_t));
  for (size_t i = 0; i < n; i++) {
    uint64_t* q = cube_new();
    for (size_t w = 0; w < W; w++) q[w] = bench_rand(r) | bench_rand(r) | bench_rand(r); /* dense */
    cover_push(c, q);
  }
  return c;
}

static bool contained(const uint64_t* a, const uint64_t* b) {  /* a subset of b */
  for (size_t w = 0; w < W; w++) if ((a[w] & ~b[w]) != 0) return false;
  return true;
}

#define COVERS 24
#define MAXCUBES 40

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "espresso-like: covers of cubes, mixed lifetimes (-n rounds, -s words per cube)",
              (bench_args_t){1, 60000, 4, false}, (bench_args_t){1, 6000, 4, false}, &a);
  W = (size_t)a.size;
  bench_rng_t rng;
  bench_rng_seed(&rng, 7);
  cover_t* cov[COVERS];
  for (int i = 0; i < COVERS; i++) cov[i] = cover_random(&rng, 8 + bench_below(&rng, MAXCUBES - 8));

  uint64_t check = 0, ops = 0;
  double t0 = bench_now();
  for (long round = 0; round < a.iters; round++) {
    cover_t* x = cov[bench_below(&rng, COVERS)];
    cover_t* y = cov[bench_below(&rng, COVERS)];
    cover_t* res = (cover_t*)calloc(1, sizeof(cover_t));
    for (size_t i = 0; i < x->n && res->n < MAXCUBES; i++) {
      for (size_t j = 0; j < y->n && res->n < MAXCUBES; j++) {
        uint64_t* s = cube_new();                    /* scratch: one comparison */
        uint64_t any = 0;
        for (size_t w = 0; w < W; w++) { s[w] = x->cube[i][w] & y->cube[j][w]; any |= s[w]; }
        ops++;
        bool keep = any != 0;
        for (size_t k = 0; keep && k < res->n; k++) if (contained(s, res->cube[k])) keep = false;
        if (keep) cover_push(res, s); else free(s);
      }
    }
    /* refill with fresh random cubes so covers do not converge to nothing */
    size_t want = 8 + bench_below(&rng, MAXCUBES - 8);
    while (res->n < want) {
      uint64_t* q = cube_new();
      for (size_t w = 0; w < W; w++) q[w] = bench_rand(&rng) | bench_rand(&rng) | bench_rand(&rng);
      cover_push(res, q);
    }
    unsigned victim = (unsigned)bench_below(&rng, COVERS);
    check = bench_mix(check, res->n ^ res->cube[0][0]);
    cover_free(cov[victim]);
    free(cov[victim]);
    cov[victim] = res;
  }
  double t1 = bench_now();
  for (int i = 0; i < COVERS; i++) { check = bench_mix(check, cov[i]->n); cover_free(cov[i]); free(cov[i]); }
  bench_report("espresso", &a, t1 - t0, (double)ops, check);
  return 0;
}
