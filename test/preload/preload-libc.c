/* mimic preload test: a C program that uses only the C library's names (it does not include
   mimic.h and is not linked against mimic). Run it under LD_PRELOAD=libmimic.so, or link it with
   mimic.o / libmimic.a: either way every allocation — ours and the C library's own (strdup,
   getline's buffer, fopen's FILE, asprintf, open_memstream) — must come from mimic, which we
   check with mi_is_in_heap_region, looked up with dlsym.

   Also covered: allocation in a constructor, in an atexit handler after mi_process_done, in a
   thread-specific-data destructor after mimic's own thread exit hook, in a thread still running
   at exit; glibc's extras (mallinfo2, malloc_trim, mallopt, malloc_info, malloc_stats); and
   pointers from glibc's own malloc being freed through ours (they must go back to glibc). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(cond) do { if (!(cond)) { failures++; \
  fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

typedef bool (in_heap_fun)(const void*);
typedef bool (redirected_fun)(void);
typedef size_t (usable_fun)(const void*);
typedef void (done_fun)(void);
typedef void (error_fun)(int err, void* arg);
typedef void (register_error_fun)(error_fun* fun, void* arg);

static in_heap_fun* in_heap;

static void* need(const char* name) {
  void* f = dlsym(RTLD_DEFAULT, name);
  if (f == NULL) {
    fprintf(stderr, "preload-libc: %s not found: is mimic preloaded or linked (with -rdynamic)?\n", name);
    exit(1);
  }
  return f;
}

// an element count whose product with 4 overflows (volatile: the compiler cannot warn about it)
static volatile size_t overflow_count = SIZE_MAX / 2;

// keep the compiler from pairing up and removing allocations
static void* volatile sink;
static void* keep(void* p) { sink = p; return p; }

#define OURS(p) CHECK((p) != NULL && in_heap(p))

/* ---- before main and after the end ---- */

static void* early_block;
__attribute__((constructor(101))) static void early_alloc(void) {
  early_block = malloc(40);   // may run before mimic's own constructor (static link)
  if (early_block != NULL) memset(early_block, 1, 40);
}

static void late_alloc(void) {
  // runs at exit after mi_process_done (called just before): allocation must keep working
  for (int i = 0; i < 1000; i++) {
    char* s = strdup("late");
    void* p = malloc((size_t)i * 7 + 1);
    if (s == NULL || p == NULL || strcmp(s, "late") != 0) { fputs("late allocation failed\n", stderr); _exit(3); }
    free(p);
    free(s);
  }
}

static void call_process_done(void) {
  ((done_fun*)need("mi_process_done"))();
}

static pthread_key_t tsd_key;
static void tsd_destructor(void* value) {
  // thread-specific-data destructors run after mimic's own thread-exit hook (its key is older)
  free(value);
  void* p = malloc(100);
  memset(p, 2, 100);
  free(p);
}

static void* churn(void* arg) {
  (void)arg;
  pthread_setspecific(tsd_key, malloc(32));
  void* blocks[64] = { 0 };
  for (int i = 0; i < 20000; i++) {
    int k = i % 64;
    free(blocks[k]);
    blocks[k] = malloc((size_t)(i % 500) + 1);
    if (!in_heap(blocks[k])) return (void*)1;
  }
  for (int k = 0; k < 64; k++) free(blocks[k]);
  return NULL;
}

static void* forever(void* arg) {
  (void)arg;
  for (;;) { free(keep(malloc(64))); usleep(100); }
  return NULL;
}

/* ---- error funnel recorder ---- */

// volatile: glibc declares free() `leaf` (no calls back into this file), yet the error handler is
// called from inside it
static volatile int einval_count;
static void record_error(int err, void* arg) { (void)arg; if (err == EINVAL) einval_count++; }

static int cmp_int(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}

/* ---- foreign pointers: memory from glibc's own malloc, freed through ours ---- */

static void test_foreign(void) {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (libc == NULL) { fputs("preload-libc: libc.so.6 not loaded; foreign test skipped\n", stderr); return; }
  void* (*glibc_malloc)(size_t) = (void* (*)(size_t))dlsym(libc, "malloc");
  struct mallinfo2 (*glibc_mallinfo2)(void) = (struct mallinfo2 (*)(void))dlsym(libc, "mallinfo2");
  CHECK(glibc_malloc != NULL && glibc_mallinfo2 != NULL && (void*)glibc_malloc != (void*)&malloc);
  if (glibc_malloc == NULL || glibc_mallinfo2 == NULL) return;
  const size_t in_use0 = glibc_mallinfo2().uordblks;
  void* small = glibc_malloc(100);
  void* big = glibc_malloc(4u << 20);   // mmapped by glibc
  CHECK(small != NULL && !in_heap(small));
  CHECK(big != NULL && !in_heap(big));
  CHECK(glibc_mallinfo2().uordblks >= in_use0 + 100);
  CHECK(glibc_mallinfo2().hblkhd >= (4u << 20));
  free(small);   // ours: must hand them back to glibc
  free(big);
  CHECK(glibc_mallinfo2().hblkhd == 0);            // the mmapped chunk was unmapped by glibc
  void* again = glibc_malloc(100);                  // the small one sits in glibc's tcache
  CHECK(again == small);
  free(again);

  // a pointer nobody allocated: reported (EINVAL) and ignored, never a crash
  static _Alignas(64) size_t fake[16];
  int before = einval_count;
  free(&fake[4]);
  CHECK(einval_count == before + 1);
  dlclose(libc);
}

int main(void) {
  in_heap = (in_heap_fun*)need("mi_is_in_heap_region");
  redirected_fun* is_redirected = (redirected_fun*)need("mi_is_redirected");
  usable_fun* mi_usable = (usable_fun*)need("mi_usable_size");
  ((register_error_fun*)need("mi_register_error"))(&record_error, NULL);

  CHECK(is_redirected());
  OURS(early_block);
  free(early_block);

  /* ---- the malloc family ---- */
  char* p = keep(malloc(100));
  OURS(p);
  memset(p, 'x', 100);
  p = keep(realloc(p, 5000));
  OURS(p);
  CHECK(p[0] == 'x' && p[99] == 'x');
  free(p);

  int* z = keep(calloc(1000, sizeof(int)));
  OURS(z);
  int zsum = 0;
  for (int i = 0; i < 1000; i++) zsum |= z[i];
  CHECK(zsum == 0);
  free(z);

  void* a = NULL;
  CHECK(posix_memalign(&a, 64, 100) == 0);
  OURS(a);
  CHECK(((uintptr_t)a % 64) == 0);
  free(a);
  void* untouched = &a;
  a = untouched;
  CHECK(posix_memalign(&a, 24, 100) == EINVAL && a == untouched);

  a = keep(aligned_alloc(256, 512));
  OURS(a); CHECK(((uintptr_t)a % 256) == 0);
  free(a);
  a = keep(memalign(4096, 10));
  OURS(a); CHECK(((uintptr_t)a % 4096) == 0);
  free(a);
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  a = keep(valloc(10));
  OURS(a); CHECK(((uintptr_t)a % page) == 0);
  free(a);
  a = keep(pvalloc(10));
  OURS(a); CHECK(((uintptr_t)a % page) == 0 && malloc_usable_size(a) >= page);
  free(a);

  a = keep(reallocarray(NULL, 100, 8));
  OURS(a);
  errno = 0;
  CHECK(reallocarray(a, overflow_count, 4) == NULL && errno != 0);
  free(a);

  for (size_t n = 1; n < 100000; n = n * 3 + 1) {
    void* b = keep(malloc(n));
    OURS(b);
    CHECK(malloc_usable_size(b) >= n && malloc_usable_size(b) == mi_usable(b));
    free(b);
  }
  CHECK(malloc_usable_size(NULL) == 0);

  char* s = strdup("hello, mimic");
  OURS(s); CHECK(strcmp(s, "hello, mimic") == 0);
  free(s);
  s = strndup("hello, mimic", 5);
  OURS(s); CHECK(strcmp(s, "hello") == 0);
  free(s);

  /* ---- the C library's own allocations ---- */
  FILE* f = tmpfile();
  CHECK(f != NULL);
  if (f != NULL) {
    OURS(f);   // glibc allocates the FILE with malloc
    for (int i = 0; i < 100; i++) fprintf(f, "line %d %0*d\n", i, i * 10, 7);
    rewind(f);
    char* line = NULL; size_t cap = 0; ssize_t len; int lines = 0;
    while ((len = getline(&line, &cap, f)) > 0) lines++;
    OURS(line);
    CHECK(lines == 100 && cap >= 990);
    free(line);
    fclose(f);
  }
  char* msg = NULL;
  CHECK(asprintf(&msg, "%d-%s", 42, "answer") > 0);
  OURS(msg); free(msg);
  char* mbuf = NULL; size_t msize = 0;
  FILE* ms = open_memstream(&mbuf, &msize);
  CHECK(ms != NULL);
  if (ms != NULL) {
    for (int i = 0; i < 1000; i++) fprintf(ms, "%d,", i);
    fclose(ms);
    OURS(mbuf); CHECK(msize > 3000);
    free(mbuf);
  }
  int nums[20000];
  for (int i = 0; i < 20000; i++) nums[i] = (i * 7919) % 20011;
  qsort(nums, 20000, sizeof(int), &cmp_int);   // glibc's merge sort takes a malloc'd buffer
  for (int i = 1; i < 20000; i++) if (nums[i - 1] > nums[i]) { CHECK(!"qsort sorted"); break; }

  /* ---- glibc's own entry points ---- */
  extern void* __libc_malloc(size_t);
  extern void __libc_free(void*);
  void* lp = keep(__libc_malloc(77));
  OURS(lp);
  __libc_free(lp);

  /* ---- glibc's malloc extras ---- */
  void* blocks[1000];
  for (int i = 0; i < 1000; i++) blocks[i] = keep(malloc(1000));
  struct mallinfo2 mi = mallinfo2();
  CHECK(mi.uordblks >= 1000 * 1000);
  CHECK(mi.arena >= mi.uordblks);
  CHECK(mi.fordblks == mi.arena - mi.uordblks);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  struct mallinfo mi1 = mallinfo();   // the old int interface
#pragma GCC diagnostic pop
  CHECK(mi1.uordblks >= 1000 * 1000);
  for (int i = 0; i < 1000; i++) free(blocks[i]);
  CHECK(mallinfo2().uordblks < mi.uordblks);
  void* huge = keep(malloc(16u << 20));
  CHECK(mallinfo2().hblkhd >= (16u << 20) && mallinfo2().hblks >= 1);
  free(huge);
  int trimmed = malloc_trim(0);
  CHECK(trimmed == 0 || trimmed == 1);
  CHECK(mallopt(M_ARENA_MAX, 2) == 1);
  CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1);
  CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1);
  CHECK(mallopt(M_PERTURB, 0) == 1);
  CHECK(mallopt(12345, 1) == 0);
  FILE* xml = tmpfile();
  CHECK(xml != NULL);
  if (xml != NULL) {
    for (int i = 0; i < 100; i++) blocks[i] = keep(malloc((size_t)i * 16 + 8));
    for (int i = 0; i < 100; i += 2) free(blocks[i]);
    CHECK(malloc_info(0, xml) == 0);
    CHECK(malloc_info(1, xml) == -1 && errno == EINVAL);
    long n = ftell(xml);
    rewind(xml);
    char* text = calloc(1, (size_t)n + 1);
    CHECK(fread(text, 1, (size_t)n, xml) == (size_t)n);
    CHECK(strncmp(text, "<malloc version=\"1\">\n", 21) == 0);
    CHECK(strstr(text, "</malloc>\n") != NULL && strstr(text, "</malloc>\n")[10] == 0);
    CHECK(strstr(text, "<heap nr=\"0\">") != NULL && strstr(text, "</heap>") != NULL);
    CHECK(strstr(text, "<size from=") != NULL);
    free(text);
    fclose(xml);
    for (int i = 1; i < 100; i += 2) free(blocks[i]);
  }
  malloc_stats();   // prints mimic's statistics to stderr

  test_foreign();

  /* ---- threads, with a thread-specific-data destructor that allocates ---- */
  CHECK(pthread_key_create(&tsd_key, &tsd_destructor) == 0);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, &churn, NULL) == 0);
  for (int i = 0; i < 4; i++) { void* r = NULL; pthread_join(th[i], &r); CHECK(r == NULL); }
  pthread_t bg;
  CHECK(pthread_create(&bg, NULL, &forever, NULL) == 0);   // still allocating when we exit
  pthread_detach(bg);

  atexit(&late_alloc);             // runs second
  atexit(&call_process_done);      // runs first
  if (failures == 0) printf("preload-libc: all checks passed\n");
  fflush(stdout);
  return (failures == 0 ? 0 : 1);
}
