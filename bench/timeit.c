/* timeit.c -- run a command and report wall time, user+sys time and peak RSS.
 *
 *   bench-timeit [-p PRELOAD] [-o FILE] [-l LABEL] -- command [args...]
 *
 * Forks, optionally sets LD_PRELOAD=PRELOAD in the child only (so this helper itself
 * stays on the system allocator), execs the command and waits with wait4(), whose rusage
 * covers the child and every descendant it waited for.  One line is written to FILE
 * (appended) or to stderr:
 *
 *   LABEL wall=<s> user=<s> sys=<s> maxrss_kb=<KiB> status=<exit code or 128+signal>
 *
 * The exit status of bench-timeit is the command's.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

static double tv_secs(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void) {
  fprintf(stderr, "usage: bench-timeit [-p preload.so] [-o file] [-l label] -- command [args...]\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char* preload = NULL;
  const char* out = NULL;
  const char* label = "";
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "-p") == 0) preload = argv[++i];
    else if (strcmp(argv[i], "-o") == 0) out = argv[++i];
    else if (strcmp(argv[i], "-l") == 0) label = argv[++i];
    else usage();
  }
  if (i >= argc) usage();

  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) { perror("bench-timeit: fork"); return 127; }
  if (pid == 0) {
    if (preload != NULL && preload[0] != 0) setenv("LD_PRELOAD", preload, 1);
    execvp(argv[i], &argv[i]);
    fprintf(stderr, "bench-timeit: cannot run %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof(ru));
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) { perror("bench-timeit: wait4"); return 127; }
  }
  double wall = now() - t0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 127);

  FILE* f = stderr;
  if (out != NULL) {
    f = fopen(out, "a");
    if (f == NULL) { perror("bench-timeit: open output"); f = stderr; }
  }
  fprintf(f, "%s%swall=%.4f user=%.4f sys=%.4f maxrss_kb=%ld status=%d\n", label, label[0] ? " " : "",
          wall, tv_secs(ru.ru_utime), tv_secs(ru.ru_stime), ru.ru_maxrss, code);
  if (f != stderr) fclose(f);
  return code;
}
