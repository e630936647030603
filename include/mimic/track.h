/* mimic: hooks for memory checkers (valgrind, ASan). Empty for now: the roadmap's tracking issue fills
   them in. Every allocation and free in the library goes through these so the checkers see blocks. */
#pragma once
#ifndef MIMIC_TRACK_H
#define MIMIC_TRACK_H

#define mi_track_malloc(p, reqsize, zero)       ((void)(p), (void)(reqsize), (void)(zero))
#define mi_track_free(p)                        ((void)(p))
#define mi_track_mem_defined(p, size)           ((void)(p), (void)(size))
#define mi_track_mem_undefined(p, size)         ((void)(p), (void)(size))
#define mi_track_mem_noaccess(p, size)          ((void)(p), (void)(size))

#endif
