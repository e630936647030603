/* mimic start-up: the process's very first malloc arrives from inside the C library while it
   holds one of its own locks. glibc's pthread_atfork keeps 48 handlers in place and grows its
   list with malloc while holding its `atfork_lock`; if that malloc is the first one, mimic
   initialises right there — and its initialisation must not call back into pthread_atfork (or
   anything else that takes that lock), or the process deadlocks.
   Linked with mimic.o, so no constructor of mimic's has run before ours (same priority). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void nothing(void) {}

__attribute__((constructor(101))) static void register_many(void) {
  for (int i = 0; i < 60; i++) pthread_atfork(&nothing, &nothing, &nothing);
  void* p = malloc(10);
  free(p);
}

int main(void) {
  void* p = malloc(100);
  puts(p != NULL ? "preload-init-atfork: ok" : "preload-init-atfork: malloc failed");
  free(p);
  return (p != NULL ? 0 : 1);
}
