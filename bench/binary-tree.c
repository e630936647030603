/* binary-tree.c -- build and tear down complete binary trees.
 *
 * After the well-known "binary-trees" benchmark: one long-lived tree of the maximal
 * depth stays alive the whole run while many short-lived trees of depth 4, 6, ...,
 * max are built, checked (node count) and freed again.  Each node is one small block
 * (two child pointers and a value), allocated depth-first.
 *
 *   -s max depth (default 18)   -n repetitions of the whole schedule (default 1)
 */
#include "bench-common.h"

typedef struct node_s { struct node_s* left; struct node_s* right; long value; } node_t;

static node_t* build(int depth, long v) {
  node_t* n = (node_t*)bench_xmalloc(sizeof(node_t));
  n->value = v;
  if (depth > 0) { n->left = build(depth - 1, 2 * v); n->right = build(depth - 1, 2 * v + 1); }
  else { n->left = n->right = NULL; }
  return n;
}

static long check(const node_t* n) {
  long c = 1 + (n->value & 1);
  if (n->left) c += check(n->left) + check(n->right);
  return c;
}

static void teardown(node_t* n) {
  if (n->left) { teardown(n->left); teardown(n->right); }
  free(n);
}

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "binary-tree: build/check/free trees (-s max depth, -n repetitions)",
              (bench_args_t){1, 1, 18, false}, (bench_args_t){1, 1, 15, false}, &a);
  const int min_depth = 4;
  int max_depth = (int)a.size < min_depth + 2 ? min_depth + 2 : (int)a.size;
  uint64_t sum = 0;
  double nodes = 0;
  double t0 = bench_now();
  for (long rep = 0; rep < a.iters; rep++) {
    node_t* stretch = build(max_depth + 1, 1);
    sum = bench_mix(sum, (uint64_t)check(stretch));
    teardown(stretch);
    node_t* longlived = build(max_depth, 1);
    for (int d = min_depth; d <= max_depth; d += 2) {
      long count = 1L << (max_depth - d + min_depth);
      long c = 0;
      for (long i = 0; i < count; i++) {
        node_t* t = build(d, i);
        c += check(t);
        teardown(t);
      }
      nodes += (double)count * (double)((2L << d) - 1);
      sum = bench_mix(sum, (uint64_t)c);
    }
    sum = bench_mix(sum, (uint64_t)check(longlived));
    teardown(longlived);
  }
  double t1 = bench_now();
  bench_report("binary-tree", &a, t1 - t0, nodes, sum);
  return 0;
}
