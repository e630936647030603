/* test-rss.c -- freeing memory returns it: allocate and free 1 GiB in small blocks several
 * times; RSS must not grow from one iteration to the next, and after freeing everything and
 * a forced collect it must come back down close to where it started.
 *
 *   test-rss [iterations] [MiB per iteration]     (default 4 x 1024 MiB; 256 MiB under ASan,
 *                                                  128 MiB under TSan)
 */
#include "testutil.h"

#include <sys/mman.h>

#include "mimalloc.h"

static size_t rss_now(void) {
  size_t rss = 0;
  mi_process_info(NULL, NULL, NULL, &rss, NULL, NULL, NULL, NULL);
  size_t statm = tu_rss();
  return statm != 0 ? statm : rss;
}

int main(int argc, char** argv) {
  int iters = (int)tu_arg(argc, argv, 1, 4);
  size_t total = (size_t)tu_arg(argc, argv, 2, TU_TSAN ? 128 : TU_ASAN ? 256 : 1024) * TU_MiB;
  /* block sizes 16..1024 (average ~520 B) */
  size_t max_blocks = total / 256 + 16; /* 2x the expected count */
  void** ptrs = (void**)mmap(NULL, max_blocks * sizeof(void*), PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(ptrs != MAP_FAILED);
  if (ptrs == MAP_FAILED) return tu_report();
  memset(ptrs, 0, max_blocks * sizeof(void*)); /* make the array resident up front */

  size_t start = rss_now();
  printf("test-rss: %d iterations of %zu MiB, start rss %zu MiB\n", iters, total / TU_MiB,
         start / TU_MiB);
  size_t first_peak = 0, first_after = 0;
  size_t slack = 32 * TU_MiB; /* allocator meta-data, partially used pages, a small cache */
  /* right after the frees, memory waiting for its purge delay is still resident, and how much
     depends on timing: that figure gets a larger allowance (1/8 of the volume) */
  size_t free_slack = slack + total / 8;
  int bad_content = 0;
  uint64_t rng = 99;
  for (int it = 0; it < iters; it++) {
    size_t n = 0, bytes = 0;
    double t0 = tu_now();
    while (bytes < total && n < max_blocks) {
      size_t sz = 16 + tu_rand_below(&rng, 1009);
      char* p = (char*)mi_malloc(sz);
      if (!p) break;
      memset(p, (int)(n & 0xff), sz);
      ptrs[n++] = p;
      bytes += sz;
    }
    CHECK(bytes >= total);
    size_t peak = rss_now();
    /* free in two interleaved passes (odd, then even) so pages empty late */
    for (size_t i = 1; i < n; i += 2) {
      if (((char*)ptrs[i])[0] != (char)(i & 0xff)) bad_content++;
      mi_free(ptrs[i]);
    }
    for (size_t i = 0; i < n; i += 2) {
      if (((char*)ptrs[i])[0] != (char)(i & 0xff)) bad_content++;
      mi_free(ptrs[i]);
    }
    usleep(200 * 1000); /* beyond the default purge delays (10 ms, arenas 10x) */
    mi_free(mi_malloc(16)); /* a little activity lets a lazy purge run */
    size_t after = rss_now();
    mi_collect(true);
    size_t collected = rss_now();
    printf("  iteration %d: %zu blocks, rss after alloc %zu MiB, after free %zu MiB, after "
           "collect %zu MiB (%.2f s)\n",
           it, n, peak / TU_MiB, after / TU_MiB, collected / TU_MiB, tu_now() - t0);
    CHECKF(peak >= start + total / 2, "rss %zu MiB did not reflect %zu MiB touched",
           peak / TU_MiB, total / TU_MiB);
    if (it == 0) {
      first_peak = peak;
      first_after = after;
    } else {
      CHECKF(peak <= first_peak + slack, "iteration %d: peak rss grew %zu -> %zu MiB", it,
             first_peak / TU_MiB, peak / TU_MiB);
      /* (not under TSan: its shadow memory, ~2/3 of the RSS here, is released by its own
         background thread at times of its choosing, so "after free" can drop by 100 MiB in one
         iteration and not the next; the after-collect bound below still holds there) */
      if (!TU_TSAN)
        CHECKF(after <= first_after + free_slack, "iteration %d: rss after free grew %zu -> %zu MiB",
               it, first_after / TU_MiB, after / TU_MiB);
    }
    /* everything freed and collected: at most a small cache may stay resident */
    CHECKF(collected <= start + total / 8 + slack,
           "iteration %d: rss after free + collect is %zu MiB (start %zu MiB)", it,
           collected / TU_MiB, start / TU_MiB);
  }
  CHECK_EQ(bad_content, 0);
  munmap(ptrs, max_blocks * sizeof(void*));
  return tu_report();
}
