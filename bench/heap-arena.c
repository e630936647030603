/* heap-arena.c -- per-request arenas with first-class heaps (issue 4).
 *
 * A server handling a request allocates a few thousand small objects (16-512 B, a linked
 * structure of strings and nodes), uses them, and drops them all when the request ends.
 * With the mimalloc API the request gets its own heap: mi_heap_new(), mi_heap_malloc() for
 * every object, and a single mi_heap_destroy() at the end, which releases the heap's pages
 * in one go instead of freeing the objects one by one.
 *
 * Modes (-m): heap     mi_heap_new / mi_heap_malloc / mi_heap_destroy
 *             mi       mi_malloc / mi_free object by object (same library, no heap)
 *             malloc   malloc / free object by object (whatever malloc is in the process)
 *             all      the three in turn (default)
 * Built three ways: bench-heap-arena (linked to mimic), bench-heap-arena-mimalloc (linked to
 * Debian's libmimalloc.so.2) and bench-arena-malloc (ARENA_MALLOC_ONLY: no mimalloc API, for
 * LD_PRELOAD of any allocator).
 *
 *   -n requests (default 10000)  -s objects per request (default 4000)  -m mode
 */
#include "bench-common.h"
#ifndef ARENA_MALLOC_ONLY
#include "mimalloc.h"
#endif

typedef struct obj_s { struct obj_s* next; uint32_t len; char text[]; } obj_t;

enum { MODE_HEAP, MODE_MI, MODE_MALLOC };
static const char* mode_name[] = {"heap", "mi", "malloc"};

static void* req_alloc(int mode, void* heap, size_t n) {
#ifndef ARENA_MALLOC_ONLY
  if (mode == MODE_HEAP) return mi_heap_malloc((mi_heap_t*)heap, n);
  if (mode == MODE_MI) return mi_malloc(n);
#endif
  (void)mode; (void)heap;
  return malloc(n);
}

static void req_free(int mode, void* p) {
#ifndef ARENA_MALLOC_ONLY
  if (mode == MODE_MI) { mi_free(p); return; }
#endif
  (void)mode;
  free(p);
}

static uint64_t run(int mode, long requests, long objects, bench_rng_t* rng) {
  uint64_t sum = 0;
  for (long r = 0; r < requests; r++) {
    void* heap = NULL;
#ifndef ARENA_MALLOC_ONLY
    if (mode == MODE_HEAP) {
      heap = mi_heap_new();
      if (heap == NULL) { fprintf(stderr, "heap-arena: mi_heap_new failed\n"); exit(3); }
    }
#endif
    obj_t* head = NULL;
    for (long i = 0; i < objects; i++) {
      size_t len = bench_below(rng, 8) == 0 ? bench_range(rng, 64, 500) : bench_range(rng, 4, 48);
      obj_t* o = (obj_t*)req_alloc(mode, heap, sizeof(obj_t) + len);
      if (o == NULL) { fprintf(stderr, "heap-arena: out of memory\n"); exit(3); }
      o->len = (uint32_t)len;
      memset(o->text, 'a' + (int)(i % 26), len);
      o->next = head;
      head = o;
    }
    for (obj_t* o = head; o != NULL; o = o->next) sum += (unsigned char)o->text[o->len - 1] + o->len;
    if (mode == MODE_HEAP) {
#ifndef ARENA_MALLOC_ONLY
      mi_heap_destroy((mi_heap_t*)heap);    /* everything at once */
#endif
    } else {
      while (head) { obj_t* n = head->next; req_free(mode, head); head = n; }
    }
  }
  return sum;
}

int main(int argc, char** argv) {
  int only = -1;
  int m = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
      const char* v = argv[++i];
      if (strcmp(v, "heap") == 0) only = MODE_HEAP;
      else if (strcmp(v, "mi") == 0) only = MODE_MI;
      else if (strcmp(v, "malloc") == 0) only = MODE_MALLOC;
      else if (strcmp(v, "all") == 0) only = -1;
      else { fprintf(stderr, "heap-arena: unknown mode '%s' (heap, mi, malloc, all)\n", v); return 2; }
    } else argv[m++] = argv[i];
  }
  argc = m;
#ifdef ARENA_MALLOC_ONLY
  only = MODE_MALLOC;
  const char* name = "arena-malloc";
#else
  const char* name = "heap-arena";
#endif
  bench_args_t a;
  bench_parse(argc, argv, "per-request arenas (-n requests, -s objects per request, -m heap|mi|malloc|all)",
              (bench_args_t){1, 10000, 4000, false}, (bench_args_t){1, 1000, 4000, false}, &a);
  uint64_t check = 0;
  double total = 0;
  for (int mode = MODE_HEAP; mode <= MODE_MALLOC; mode++) {
    if (only >= 0 && mode != only) continue;
    bench_rng_t rng;
    bench_rng_seed(&rng, 4);                 /* identical object sizes in every mode */
    double t0 = bench_now();
    uint64_t s = run(mode, a.iters, a.size, &rng);
    double dt = bench_now() - t0;
    total += dt;
    printf("%s %-6s: %8.3f s  %8.2f us/request  checksum=%016llx\n", name, mode_name[mode], dt,
           dt * 1e6 / (double)a.iters, (unsigned long long)s);
    check = bench_mix(check, s);
  }
  bench_report(name, &a, total, (double)a.iters * (double)a.size, check);
  return 0;
}
