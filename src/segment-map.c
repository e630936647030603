/* mimic: the segment map — one bit per MI_SEGMENT_SIZE unit of the address space, set while a
   segment starts there. It answers "is this ours?" without touching memory that may not be
   mapped: free of a foreign pointer, mi_is_in_heap_region, mi_check_owned.
   48-bit address space / 4 MiB = 2^26 bits = 8 MiB of zero-initialised BSS; only the words for
   ranges where segments live are ever touched, so the resident cost is a few KiB. */
#include "mimic/internal.h"

mi_atomic(uintptr_t) _mi_segment_map[MI_SEGMENT_MAP_WORDS];

// The largest segment ever mapped, in units: a pointer further than that above the nearest segment
// start cannot be inside it, which bounds the backwards scan for foreign pointers.
static mi_atomic(size_t) mi_segment_max_units = 1;

void _mi_segment_map_note_span(size_t segment_size) {
  size_t units = (segment_size + MI_SEGMENT_SIZE - 1) / MI_SEGMENT_SIZE;
  size_t cur = mi_atomic_load_relaxed(&mi_segment_max_units);
  while (units > cur && !mi_atomic_cas_weak_acq_rel(&mi_segment_max_units, &cur, units)) { }
}

#define MI_MAP_WBITS (8 * sizeof(uintptr_t))

static bool mi_segment_map_index(const void* p, size_t* word, uintptr_t* mask) {
  uintptr_t idx = (uintptr_t)p >> MI_SEGMENT_SHIFT;
  if (idx >= MI_SEGMENT_MAP_BITS) return false;
  *word = idx / MI_MAP_WBITS;
  *mask = (uintptr_t)1 << (idx % MI_MAP_WBITS);
  return true;
}

void _mi_segment_map_allocated(const mi_segment_t* segment) {
  size_t word; uintptr_t mask;
  if (!mi_segment_map_index(segment, &word, &mask)) return;   // above the mapped range: stays "foreign"
  mi_atomic_or_acq_rel(&_mi_segment_map[word], mask);
}

void _mi_segment_map_freed(const mi_segment_t* segment) {
  size_t word; uintptr_t mask;
  if (!mi_segment_map_index(segment, &word, &mask)) return;
  mi_atomic_and_acq_rel(&_mi_segment_map[word], ~mask);
}

/* Find the segment containing `p` even when `p` is beyond the first unit of a huge segment:
   walk back to the nearest segment start and check that the segment covers `p`. */
mi_segment_t* _mi_segment_of_interior(const void* p) {
  uintptr_t idx = (uintptr_t)p >> MI_SEGMENT_SHIFT;
  if (idx >= MI_SEGMENT_MAP_BITS) return NULL;
  size_t word = idx / MI_MAP_WBITS;
  size_t bit = idx % MI_MAP_WBITS;
  // mask of the bits at or below `bit`
  uintptr_t below = (bit == MI_MAP_WBITS - 1 ? ~(uintptr_t)0 : (((uintptr_t)1 << (bit + 1)) - 1));
  uintptr_t w = mi_atomic_load_relaxed(&_mi_segment_map[word]) & below;
  // no segment spans more than mi_segment_max_units units: look back no further than that
  size_t max_words = mi_atomic_load_relaxed(&mi_segment_max_units) / MI_MAP_WBITS + 1;
  while (w == 0) {
    if (word == 0 || max_words-- == 0) return NULL;
    word--;
    w = mi_atomic_load_relaxed(&_mi_segment_map[word]);
  }
  uintptr_t start_idx = word * MI_MAP_WBITS + mi_bsr(w);
  mi_segment_t* segment = (mi_segment_t*)(start_idx << MI_SEGMENT_SHIFT);
  // the header of a mapped segment is always readable
  if ((uintptr_t)p >= (uintptr_t)segment + segment->segment_size) return NULL;
  return segment;
}
