/* test-fork.c -- fork while other threads allocate: the child can allocate and free at once.
 *
 *   test-fork [forks]     (default 200; 50 under sanitizers; at most 60 s of forking, at least 20)
 *
 * 4 threads allocate and free continuously (also cross-thread, through a shared array) while
 * the main thread forks. Each child allocates blocks of every size kind, checks them, frees
 * them, creates and destroys a heap, collects, and _exit(0)s; any other exit status, a
 * signal, or a child still running after 20 s is a failure.
 */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "mimalloc.h"

#define NTHREADS 4
#define NSHARED 256
static atomic_bool stop;
static _Atomic(void*) shared[NSHARED];
static atomic_long thread_ops;

static void* churn(void* arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg;
  void* local[32] = {0};
  long ops = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    size_t k = tu_rand_below(&rng, 32);
    mi_free(local[k]);
    size_t r = tu_rand_below(&rng, 100);
    size_t sz = r < 90 ? tu_rand_below(&rng, 512) : r < 99 ? tu_rand_below(&rng, 100000) : 3 * TU_MiB;
    local[k] = mi_malloc(sz);
    if (local[k]) memset(local[k], 0x5c, sz < 64 ? sz : 64);
    if ((ops & 7) == 0) {
      void* old = atomic_exchange(&shared[tu_rand_below(&rng, NSHARED)], mi_malloc(64));
      mi_free(old);
    }
    if ((ops & 1023) == 0) mi_collect(false);
    ops++;
  }
  for (int k = 0; k < 32; k++) mi_free(local[k]);
  atomic_fetch_add(&thread_ops, ops);
  return NULL;
}

/* runs in the child: returns the exit code */
static int child_work(int n) {
  int bad = 0;
  const size_t sizes[] = {1, 16, 100, 1000, 10000, 100000, 1000000, 5 * TU_MiB, 40 * TU_MiB};
  void* ps[9];
  for (int i = 0; i < 9; i++) {
    ps[i] = mi_malloc(sizes[i]);
    if (!ps[i]) { bad++; continue; }
    tu_stamp(ps[i], sizes[i], (uint64_t)(n * 16 + i));
  }
  /* blocks inherited from the parent's threads can be freed by the child too */
  for (int s = 0; s < NSHARED; s += 7) mi_free(atomic_exchange(&shared[s], NULL));
  void* a = mi_malloc_aligned(1000, 4096);
  if (!a || !tu_is_aligned(a, 4096)) bad++;
  mi_heap_t* h = mi_heap_new();
  if (!h) bad++;
  else {
    for (int i = 0; i < 100; i++)
      if (!mi_heap_malloc(h, 48)) bad++;
    mi_heap_destroy(h);
  }
  for (int i = 0; i < 9; i++) {
    if (ps[i] && !tu_stamp_ok(ps[i], sizes[i], (uint64_t)(n * 16 + i))) bad++;
    mi_free(ps[i]);
  }
  mi_free(a);
  mi_collect(true);
  return bad == 0 ? 0 : 3;
}

int main(int argc, char** argv) {
  int forks = (int)tu_arg(argc, argv, 1, TU_SANITIZED ? 50 : 200);
  pthread_t th[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    CHECK(pthread_create(&th[i], NULL, churn, (void*)(uintptr_t)(i * 1000 + 1)) == 0);
  usleep(10000);
  int ok = 0, bad_status = 0, hung = 0;
  double t0 = tu_now();
  // a time budget as well as a count: with 4 busy threads on 2 cores a fork and its child's 45 MiB
  // of page faults took 0.7 s on a slow-faulting host, and 200 of them ran into the CTest timeout
  int done = 0;
  for (int n = 0; n < forks; n++) {
    if (n >= 20 && tu_now() - t0 > 60.0) break;
    done++;
    void* before = mi_malloc(1000); /* the parent is allocating right up to the fork */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
      _exit(child_work(n));
    }
    mi_free(before);
    CHECK(pid > 0);
    if (pid < 0) break;
    int status = 0;
    double deadline = tu_now() + 20.0;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && tu_now() < deadline) usleep(1000);
    if (w == 0) {
      hung++;
      fprintf(stderr, "  fork %d: child %d still running after 20 s (deadlock?)\n", n, (int)pid);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ok++;
    } else {
      if (bad_status++ < 5) {
        if (WIFSIGNALED(status)) fprintf(stderr, "  fork %d: child killed by signal %d\n", n, WTERMSIG(status));
        else fprintf(stderr, "  fork %d: child exit status %d\n", n, WEXITSTATUS(status));
      }
    }
  }
  double t = tu_now() - t0;
  atomic_store(&stop, true);
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  for (int s = 0; s < NSHARED; s++) mi_free(atomic_exchange(&shared[s], NULL));
  printf("test-fork: %d forks in %.2f s: %d ok, %d bad exit, %d hung; %ld thread ops meanwhile\n",
         done, t, ok, bad_status, hung, atomic_load(&thread_ops));
  CHECK(done >= 20);
  CHECK_EQ(ok, done);
  CHECK_EQ(bad_status, 0);
  CHECK_EQ(hung, 0);
  CHECK(atomic_load(&thread_ops) > 0);
  return tu_report();
}
