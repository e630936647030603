/* mimic: the whole library as one translation unit (mimic.o): link it first to override malloc in
   a static program, or use it for whole-program optimisation. The only file that includes .c files. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "prim/prim.c"
#include "os.c"
#include "segment-map.c"
#include "segment.c"
#include "page-queue.c"
#include "page.c"
#include "heap.c"
#include "alloc.c"
#include "alloc-aligned.c"
#include "alloc-posix.c"
#include "alloc-new.c"
#include "free.c"
#include "init.c"
#include "options.c"
#include "stats.c"
#include "arena.c"
#include "alloc-override.c"
