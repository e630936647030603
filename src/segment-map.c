/* mimic: the segment map -- one byte per MI_SEGMENT_SIZE unit of the address space, non-zero while
   a segment starts there: the segment's page shift, which free() needs next. It answers "is this
   ours?" without touching memory that may not be mapped: free of a foreign pointer,
   mi_is_in_heap_region, mi_check_owned.
   A byte rather than a bit because free() asks on every call: one byte load answers both
   questions, where a bit cost a second shift, a word load, a bit test and a header read. 47-bit user address space
   (x86-64) / 4 MiB = 2^25 bytes = 32 MiB of zero-initialised BSS (64 MiB for 48-bit ARM64):
   virtual only -- the kernel backs just the pages for ranges where segments live (4 KiB of map
   per 16 GiB of address space), so the resident cost is a few KiB. */
#include "mimic/internal.h"

mi_atomic(uint8_t) _mi_segment_map[MI_SEGMENT_MAP_SIZE];

// The largest segment ever mapped, in units: a pointer further than that above the nearest segment
// start cannot be inside it, which bounds the backwards scan for foreign pointers.
static mi_atomic(size_t) mi_segment_max_units = 1;

void _mi_segment_map_note_span(size_t segment_size) {
  size_t units = (segment_size + MI_SEGMENT_SIZE - 1) / MI_SEGMENT_SIZE;
  size_t cur = mi_atomic_load_relaxed(&mi_segment_max_units);
  while (units > cur && !mi_atomic_cas_weak_acq_rel(&mi_segment_max_units, &cur, units)) { }
}

bool _mi_segment_map_covers(const void* start, size_t size) {
  uintptr_t end = (uintptr_t)start + size;
  return (end >= (uintptr_t)start && ((end - 1) >> MI_SEGMENT_SHIFT) < MI_SEGMENT_MAP_SIZE);
}

// The byte is the page shift (never 0). Release: a thread that finds it set (through a block it
// was handed) sees the header.
void _mi_segment_map_allocated(const mi_segment_t* segment) {
  uintptr_t idx = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  mi_assert_internal(segment->page_shift > 0 && segment->page_shift < 256);
  if (idx < MI_SEGMENT_MAP_SIZE) mi_atomic_store_release(&_mi_segment_map[idx], (uint8_t)segment->page_shift);
}

void _mi_segment_map_freed(const mi_segment_t* segment) {
  uintptr_t idx = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (idx < MI_SEGMENT_MAP_SIZE) mi_atomic_store_release(&_mi_segment_map[idx], 0);
}

/* Find the segment containing `p` even when `p` is beyond the first unit of a huge segment:
   walk back to the nearest segment start and check that the segment covers `p`. */
mi_segment_t* _mi_segment_of_interior(const void* p) {
  uintptr_t idx = (uintptr_t)p >> MI_SEGMENT_SHIFT;
  if (idx >= MI_SEGMENT_MAP_SIZE) return NULL;
  // no segment spans more than mi_segment_max_units units: look back no further than that
  size_t steps = mi_atomic_load_relaxed(&mi_segment_max_units);
  while (mi_atomic_load_relaxed(&_mi_segment_map[idx]) == 0) {
    if (idx == 0 || steps-- == 0) return NULL;
    idx--;
  }
  uintptr_t start_idx = idx;
  mi_segment_t* segment = (mi_segment_t*)(start_idx << MI_SEGMENT_SHIFT);
  // the header of a mapped segment is always readable
  if ((uintptr_t)p >= (uintptr_t)segment + segment->segment_size) return NULL;
  return segment;
}
