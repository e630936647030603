/* mimic: segments — carving pages, the segment cache, purging free pages, and abandoning/reclaiming
   the segments of exited threads.

   A segment is MI_SEGMENT_SIZE bytes aligned to its size (huge segments: larger, one page) and is
   owned by one thread (`thread_id`). Small and medium segments with a free page sit in the owning
   thread's free queue. When a thread exits, segments with live blocks are *abandoned* (thread_id 0,
   put on a global list) and later *reclaimed* by a thread that needs pages or frees into them. */
#include "mimic/internal.h"

/* ------------------------------------------------------------------------------------------------
   Geometry
------------------------------------------------------------------------------------------------ */

static size_t mi_segment_info_size(size_t capacity) {
  size_t size = sizeof(mi_segment_t) + (capacity - 1) * sizeof(mi_page_t);
  return _mi_align_up(size, _mi_os_page_size());   // page 0 starts on an OS page: it can be purged alone
}

uint8_t* _mi_segment_page_area(const mi_segment_t* segment, const mi_page_t* page, size_t* size) {
  uint8_t* start;
  size_t psize;
  if (segment->capacity > 1) {
    psize = (size_t)1 << segment->page_shift;
    size_t index = (size_t)(page - segment->pages);
    start = (uint8_t*)segment + index * psize;
    if (index == 0) { start += segment->page0_offset; psize -= segment->page0_offset; }
  }
  else {
    start = (uint8_t*)segment + segment->page0_offset;
    psize = segment->segment_size - segment->page0_offset;
  }
  if (size != NULL) *size = psize;
  return start;
}

// A free page stops waiting for its purge (taken again, purged, or its segment freed/abandoned).
static void mi_page_purge_unschedule(mi_segment_t* segment, mi_page_t* page, mi_tld_t* tld) {
  if (page->purge_expire == 0) return;
  (void)segment;
  page->purge_expire = 0;
  if (tld == NULL) return;   // a page of an abandoned segment: counted in mi_abandoned_unpurged instead
  if (tld->pending_purges > 0) tld->pending_purges--;
  size_t bytes = page->resident;
  tld->pending_purge_bytes = (tld->pending_purge_bytes > bytes ? tld->pending_purge_bytes - bytes : 0);
}

// Bytes at the start of a page's area that its blocks so far reach (only blocks below
// `capacity` were ever written, by us or the program), in whole OS pages.
static size_t mi_page_extent(mi_segment_t* segment, const mi_page_t* page, uint8_t** area) {
  size_t psize;
  uint8_t* start = _mi_segment_page_area(segment, page, &psize);
  if (area != NULL) *area = start;
  size_t end = (size_t)(page->page_start - start) + (size_t)page->capacity * page->block_size;
  end = _mi_align_up(end, _mi_os_page_size());
  return (end > psize ? psize : end);
}

// A page is being freed: extend its resident extent by the blocks it handed out.
static void mi_page_note_resident(mi_segment_t* segment, mi_page_t* page) {
  if (page->page_start == NULL || page->capacity == 0 || segment->page_kind == MI_PAGE_HUGE) return;
  size_t end = mi_page_extent(segment, page, NULL);
  if (end > page->resident) page->resident = (uint32_t)end;
}

/* ------------------------------------------------------------------------------------------------
   Segment cache: recently freed segments stay mapped for `purge_delay` ms so a program that frees
   and re-allocates (large blocks especially) does not pay for unmapping and page faults each round.
------------------------------------------------------------------------------------------------ */

#define MI_CACHE_MAX_ENTRIES  32

#define MI_CACHE_MAX_BYTES    (256 * MI_MiB)   // address space held (cheap)
#define MI_CACHE_MAX_SEGMENT  (64 * MI_MiB)
#define MI_CACHE_MAX_RESIDENT (64 * MI_MiB)    // memory held (what RSS sees), estimated
#define MI_CACHE_DELAY_MULT   10          // cached segments live 10x purge_delay (100 ms by default)
#define MI_PURGE_PENDING_MAX  (64 * MI_MiB)   // most freed-but-unpurged page memory an allocating thread keeps
#define MI_PURGE_PENDING_IDLE_MAX (4 * MI_MiB) // ... and a thread that only frees (it never reuses its free pages)

typedef struct mi_cache_entry_s {
  mi_segment_t* segment;
  mi_memid_t    memid;
  size_t        size;
  size_t        resident;   // bytes of it that may be resident (touched and not purged since)
  mi_page_kind_t kind;      // what it was used for (its resident memory is laid out for that kind)
  int64_t       expire;
} mi_cache_entry_t;

static mi_lock_t        mi_cache_lock;
static mi_cache_entry_t mi_cache[MI_CACHE_MAX_ENTRIES];
static size_t           mi_cache_count;
static size_t           mi_cache_bytes;
static size_t           mi_cache_resident;
static mi_atomic(size_t) mi_cache_count_hint;   // read without the lock to skip empty-cache work

static long mi_purge_delay(void) { return mi_option_get(mi_option_purge_delay); }

// A free page's purge deadline takes 32 bits of its descriptor (128 bytes with both of its cache
// lines laid out): milliseconds on a wrapping clock, compared by difference. Delays are capped far below the 24 days at which
// that would become ambiguous; 0 means "no deadline".
#define MI_PURGE_DEADLINE_MAX  ((int64_t)1 << 30)
static uint32_t mi_deadline_after(int64_t now, long delay) {
  uint32_t d = (uint32_t)(now + (delay > MI_PURGE_DEADLINE_MAX ? MI_PURGE_DEADLINE_MAX : delay));
  return (d == 0 ? 1 : d);
}
static bool mi_deadline_passed(uint32_t deadline, int64_t now) { return (int32_t)((uint32_t)now - deadline) >= 0; }

/* ------------------------------------------------------------------------------------------------
   Stale tails. A free page is taken again with what its last use touched still resident (that is
   the point: no page faults), but a page of another size class, or one that stays small, may
   never reach most of it, and memory inside a page in use is otherwise never given back: that
   excess was most of the peak RSS of size churn and thread churn (alloc-test 12 MiB for 2 MiB
   live). So the owner remembers such a page and trims the tail once the purge delay has passed,
   unless the page grew into it or was freed meanwhile. Only the owner changes `capacity`, and it
   trims between its own calls, so nothing races with the trim.
------------------------------------------------------------------------------------------------ */

#define MI_TRIM_MIN (16 * 1024)   // smaller tails are not worth a system call

static void mi_segment_page_trim(mi_page_t* page) {
  mi_segment_t* segment = _mi_page_segment(page);
  uint8_t* area;
  size_t ext = mi_page_extent(segment, page, &area);
  if (page->resident <= ext) return;
  if (_mi_os_purge_in_use(area + ext, page->resident - ext)) page->resident = (uint32_t)ext;
}

void _mi_segment_page_trim_schedule(mi_page_t* page, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  if (page->resident < MI_TRIM_MIN || segment->page_kind == MI_PAGE_HUGE) return;
  if (page->resident < mi_page_extent(segment, page, NULL) + MI_TRIM_MIN) return;
  long delay = mi_purge_delay();
  if (delay < 0) return;
  if (delay == 0) { mi_segment_page_trim(page); return; }
  if (tld->trim_count >= MI_TRIM_SLOTS) _mi_segments_trim_expired(tld, false);
  if (tld->trim_count >= MI_TRIM_SLOTS) return;   // (all still waiting: this tail stays)
  mi_trim_entry_t* e = &tld->trim[tld->trim_count++];
  e->page = page;
  e->deadline = mi_deadline_after(_mi_prim_clock_now(), delay);
}

void _mi_segments_trim_expired(mi_tld_t* tld, bool force) {
  if (tld->trim_count == 0) return;
  int64_t now = _mi_prim_clock_now();
  size_t kept = 0;
  for (size_t i = 0; i < tld->trim_count; i++) {
    mi_trim_entry_t e = tld->trim[i];
    if (force || mi_deadline_passed(e.deadline, now)) mi_segment_page_trim(e.page);
    else tld->trim[kept++] = e;
  }
  tld->trim_count = kept;
}

// The page is freed or handed to another thread: its entry (if any) goes.
static void mi_page_trim_forget(mi_page_t* page, mi_tld_t* tld) {
  for (size_t i = 0; i < tld->trim_count; i++) {
    if (tld->trim[i].page == page) { tld->trim[i] = tld->trim[--tld->trim_count]; return; }
  }
}

static void mi_cache_remove_at(size_t i, mi_cache_entry_t* out) {   // lock held
  *out = mi_cache[i];
  mi_cache_bytes -= out->size;
  mi_cache_resident -= out->resident;
  mi_cache[i] = mi_cache[--mi_cache_count];
  mi_atomic_store_relaxed(&mi_cache_count_hint, mi_cache_count);
}

// Unmap expired entries (all if `force`); called with the lock held; returns entries to unmap.
static size_t mi_cache_take_expired(bool force, int64_t now, mi_cache_entry_t* out) {
  size_t n = 0;
  for (size_t i = 0; i < mi_cache_count; ) {
    if (force || mi_cache[i].expire <= now) mi_cache_remove_at(i, &out[n++]);
    else i++;
  }
  return n;
}

static void mi_cache_release(mi_cache_entry_t* entries, size_t n) {
  for (size_t i = 0; i < n; i++) {
    _mi_stat_decrease(&_mi_stats_main.segments_cached, 1);
    _mi_os_free(entries[i].segment, entries[i].size, entries[i].memid);
  }
}

static void mi_abandoned_purge_expired(bool force);

void _mi_segment_cache_collect(bool force) {
  mi_abandoned_purge_expired(force);
  if (mi_atomic_load_relaxed(&mi_cache_count_hint) == 0) return;
  mi_cache_entry_t expired[MI_CACHE_MAX_ENTRIES];
  int64_t now = _mi_prim_clock_now();
  _mi_prim_lock_acquire(&mi_cache_lock);
  size_t n = mi_cache_take_expired(force, now, expired);
  _mi_prim_lock_release(&mi_cache_lock);
  mi_cache_release(expired, n);
}

static bool mi_cache_full_for(size_t size, size_t resident) {   // lock held
  return (mi_cache_count >= MI_CACHE_MAX_ENTRIES || mi_cache_bytes + size > MI_CACHE_MAX_BYTES ||
          mi_cache_resident + resident > MI_CACHE_MAX_RESIDENT);
}

// Keep a freed segment mapped for a while. The budget is what it holds resident, not its size:
// thread churn frees many ordinary segments that are mostly untouched, and mapping those afresh
// would fault in the same memory again and again.
static bool mi_cache_push(mi_segment_t* segment, size_t size, size_t resident, mi_page_kind_t kind, mi_memid_t memid) {
  long delay = mi_purge_delay();
  if (delay == 0 || size > MI_CACHE_MAX_SEGMENT || memid.base != (void*)segment || memid.size != size) return false;
  if (resident > MI_CACHE_MAX_RESIDENT) return false;
  mi_cache_entry_t expired[MI_CACHE_MAX_ENTRIES + 1];
  int64_t now = _mi_prim_clock_now();
  bool pushed = false;
  _mi_prim_lock_acquire(&mi_cache_lock);
  size_t n = mi_cache_take_expired(false, now, expired);
  // make room by evicting the oldest entries
  while (mi_cache_count > 0 && mi_cache_full_for(size, resident)) {
    size_t oldest = 0;
    for (size_t i = 1; i < mi_cache_count; i++) if (mi_cache[i].expire < mi_cache[oldest].expire) oldest = i;
    mi_cache_remove_at(oldest, &expired[n++]);
  }
  if (!mi_cache_full_for(size, resident)) {
    mi_cache_entry_t* e = &mi_cache[mi_cache_count++];
    e->segment = segment; e->memid = memid; e->size = size; e->resident = resident; e->kind = kind;
    e->expire = (delay < 0 ? INT64_MAX : now + delay * MI_CACHE_DELAY_MULT);
    mi_cache_bytes += size;
    mi_cache_resident += resident;
    mi_atomic_store_relaxed(&mi_cache_count_hint, mi_cache_count);
    pushed = true;
  }
  _mi_prim_lock_release(&mi_cache_lock);
  mi_cache_release(expired, n);
  if (pushed) _mi_stat_increase(&_mi_stats_main.segments_cached, 1);
  return pushed;
}

// Take a cached segment for a `size`-byte segment: the smallest one that fits; one up to 4 times
// the size is used whole (its memory is resident already), a larger one is trimmed; if none fits,
// the largest one is grown with mremap (its pages stay, only the tail is new).
// `min_resident` > 0: only an ordinary segment of `kind` holding at least that much resident.
static mi_segment_t* mi_cache_pop(size_t size, mi_page_kind_t kind, size_t min_resident, mi_memid_t* memid) {
  if (mi_atomic_load_relaxed(&mi_cache_count_hint) == 0) return NULL;
  mi_segment_t* segment = NULL;
  size_t found_size = 0;
  _mi_prim_lock_acquire(&mi_cache_lock);
  size_t best = SIZE_MAX, largest = SIZE_MAX;
  for (size_t i = 0; i < mi_cache_count; i++) {
    const mi_cache_entry_t* e = &mi_cache[i];
    if (min_resident > 0 && (e->kind != kind || e->size != size || e->resident < min_resident)) continue;
    if (e->size >= size) {
      if (best == SIZE_MAX || e->size < mi_cache[best].size) best = i;
      else if (e->size == mi_cache[best].size && size <= MI_SEGMENT_SIZE) {
        // among ordinary segments: the one most likely to be resident where this kind writes
        const mi_cache_entry_t* b = &mi_cache[best];
        bool same = (e->kind == kind), bsame = (b->kind == kind);
        if ((same && !bsame) || (same == bsame && e->resident > b->resident)) best = i;
      }
    }
    if (largest == SIZE_MAX || e->size > mi_cache[largest].size) largest = i;
  }
  // growing only pays for huge requests (a normal segment is exactly MI_SEGMENT_SIZE)
  if (best == SIZE_MAX && size > MI_SEGMENT_SIZE && largest != SIZE_MAX && mi_cache[largest].size > MI_SEGMENT_SIZE) best = largest;
  if (best != SIZE_MAX) {
    mi_cache_entry_t e;
    mi_cache_remove_at(best, &e);
    segment = e.segment;
    *memid = e.memid;
    found_size = e.size;
  }
  _mi_prim_lock_release(&mi_cache_lock);
  if (segment == NULL) return NULL;
  _mi_stat_decrease(&_mi_stats_main.segments_cached, 1);
  memid->is_zero = false;
  if (found_size < size) {
    mi_segment_t* grown = (mi_segment_t*)_mi_os_remap(segment, size, MI_SEGMENT_SIZE, memid);
    if (grown == NULL) { _mi_os_free(segment, found_size, *memid); return NULL; }
    memid->is_zero = false;
    return grown;
  }
  if (found_size > 4 * size || (size <= MI_SEGMENT_SIZE && found_size > size)) {
    mi_memid_t tail = *memid;
    tail.base = (uint8_t*)segment + size;
    tail.size = found_size - size;
    _mi_os_free(tail.base, tail.size, tail);
    memid->size = size;
  }
  return segment;
}

/* ------------------------------------------------------------------------------------------------
   Allocating and freeing segments
------------------------------------------------------------------------------------------------ */

static mi_segment_queue_t* mi_segment_free_queue(mi_page_kind_t kind, mi_tld_t* tld) {
  if (kind == MI_PAGE_SMALL) return &tld->small_free;
  if (kind == MI_PAGE_MEDIUM) return &tld->medium_free;
  return NULL;
}

static void mi_segment_queue_remove(mi_segment_queue_t* q, mi_segment_t* segment) {
  if (segment->prev != NULL) segment->prev->next = segment->next;
  if (segment->next != NULL) segment->next->prev = segment->prev;
  if (segment == q->first) q->first = segment->next;
  if (segment == q->last) q->last = segment->prev;
  segment->next = segment->prev = NULL;
}

static void mi_segment_queue_push(mi_segment_queue_t* q, mi_segment_t* segment) {
  segment->next = NULL;
  segment->prev = q->last;
  if (q->last != NULL) q->last->next = segment;
  else q->first = segment;
  q->last = segment;
}

static void mi_segment_remove_from_free_queue(mi_segment_t* segment, mi_tld_t* tld) {
  if (!segment->in_free_queue) return;
  mi_segment_queue_remove(mi_segment_free_queue(segment->page_kind, tld), segment);
  segment->in_free_queue = false;
}

static void mi_segment_insert_in_free_queue(mi_segment_t* segment, mi_tld_t* tld) {
  if (segment->in_free_queue) return;
  mi_segment_queue_t* q = mi_segment_free_queue(segment->page_kind, tld);
  if (q == NULL) return;
  mi_segment_queue_push(q, segment);
  segment->in_free_queue = true;
}

static bool mi_segment_reclaim_oldest(mi_heap_t* heap);
static mi_segment_t* mi_segment_reclaim_resident(mi_heap_t* heap, mi_page_kind_t kind);

#define MI_RESIDENT_SCAN  32   // segments looked at for a resident free page (bounds the slow path)

static mi_segment_t* mi_segment_queue_find_resident(mi_segment_queue_t* q) {
  size_t n = 0;
  for (mi_segment_t* s = q->first; s != NULL && n < MI_RESIDENT_SCAN; s = s->next, n++) {
    if (s->free_resident > 0) return s;
  }
  return NULL;
}

// `min_resident` > 0: only from the cache, a segment holding that much resident (else NULL).
static mi_segment_t* mi_segment_alloc(size_t required, mi_page_kind_t kind, size_t page_alignment, size_t min_resident, mi_tld_t* tld) {
  size_t capacity, page_shift;
  if (kind == MI_PAGE_SMALL)       { capacity = MI_SMALL_PAGES_PER_SEGMENT;  page_shift = MI_SMALL_PAGE_SHIFT; }
  else if (kind == MI_PAGE_MEDIUM) { capacity = MI_MEDIUM_PAGES_PER_SEGMENT; page_shift = MI_MEDIUM_PAGE_SHIFT; }
  else                             { capacity = 1; page_shift = MI_INTPTR_SIZE * 8 - 1; }   // every offset maps to page 0
  size_t info_size = mi_segment_info_size(capacity);
  size_t page0_offset = info_size;
  size_t os_alignment = MI_SEGMENT_SIZE;
  size_t segment_size = MI_SEGMENT_SIZE;
  if (kind == MI_PAGE_HUGE) {
    if (page_alignment > 0) {
      if (page_alignment <= MI_SEGMENT_SIZE) page0_offset = _mi_align_up(info_size, page_alignment);
      else { page0_offset = page_alignment; os_alignment = page_alignment; }
    }
    if (required > SIZE_MAX - page0_offset - _mi_os_page_size()) return NULL;
    segment_size = _mi_align_up(page0_offset + required, _mi_os_page_size());
  }

  mi_memid_t memid;
  mi_segment_t* segment = NULL;
  const long delay = mi_purge_delay();
  const int64_t now = (delay > 0 ? _mi_prim_clock_now() : 0);
  // a cached ordinary segment tells which ranges of it are still resident (its old header is intact)
  uint32_t old_start[MI_SMALL_PAGES_PER_SEGMENT], old_end[MI_SMALL_PAGES_PER_SEGMENT];
  size_t old_count = SIZE_MAX;   // SIZE_MAX: unknown (fresh memory, or a huge segment before)
  if (os_alignment == MI_SEGMENT_SIZE) segment = mi_cache_pop(segment_size, kind, min_resident, &memid);
  if (segment == NULL && min_resident > 0) return NULL;
  if (segment != NULL && segment->page_kind != MI_PAGE_HUGE && segment->capacity <= MI_SMALL_PAGES_PER_SEGMENT) {
    old_count = segment->capacity;
    for (size_t j = 0; j < old_count; j++) {
      uint8_t* start = _mi_segment_page_area(segment, &segment->pages[j], NULL);
      old_start[j] = (uint32_t)(start - (uint8_t*)segment);
      old_end[j] = old_start[j] + segment->pages[j].resident;
    }
  }
  if (segment == NULL) {
    segment = (mi_segment_t*)_mi_os_alloc_aligned(segment_size, os_alignment, &memid);
    if (segment == NULL) return NULL;
    if (!_mi_segment_map_covers(segment, memid.size)) {
      // beyond the map (an OS handing out addresses above MI_MAX_VABITS): its blocks could not be
      // told from foreign ones and would leak on free -- refuse the memory instead
      _mi_os_free(memid.base, memid.size, memid);
      _mi_warning_message("segment at %p is beyond the address range mimic tracks\n", (void*)segment);
      return NULL;
    }
  }
  if (!memid.is_zero) memset(segment, 0, info_size);
  if (kind == MI_PAGE_HUGE) segment_size = memid.size;   // a cached segment may be larger: use it all

  segment->memid = memid;
  segment->segment_size = segment_size;
  segment->segment_info_size = info_size;
  segment->page0_offset = page0_offset;
  segment->cookie = (uintptr_t)segment ^ _mi_process_key;
  segment->page_kind = kind;
  segment->page_shift = page_shift;
  segment->capacity = capacity;
  segment->used = 0;
  segment->abandoned = 0;
  segment->abandoned_visits = 0;
  segment->abandoned_unpurged = 0;
  segment->free_resident = 0;
  segment->next = segment->prev = NULL;
  segment->in_free_queue = false;
  segment->in_abandoned_list = false;
  for (size_t i = 0; i < capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    mi_atomic_store_relaxed(&page->xowner, tld->thread_id);   // no flags
    page->is_committed = 1;
    page->is_zero_init = memid.is_zero;
    page->segment_in_use = 0;
    page->purge_expire = 0;
    page->resident = 0;
    if (!memid.is_zero && kind != MI_PAGE_HUGE) {
      size_t psize;
      size_t start = (size_t)(_mi_segment_page_area(segment, page, &psize) - (uint8_t*)segment);
      if (old_count == SIZE_MAX) page->resident = (uint32_t)psize;
      else for (size_t j = 0; j < old_count; j++) {   // the furthest old touched byte inside this page
        size_t end = (old_end[j] < start + psize ? old_end[j] : start + psize);
        if (old_start[j] < start + psize && end > start && end - start > page->resident) page->resident = (uint32_t)(end - start);
      }
      if (page->resident > 0) segment->free_resident++;
      if (page->resident > 0 && delay > 0) {   // resident but free: purged after the delay unless taken
        page->purge_expire = mi_deadline_after(now, delay);
        tld->pending_purges++;
        tld->pending_purge_bytes += page->resident;
      }
    }
  }
  mi_atomic_store_release(&segment->thread_id, tld->thread_id);
  _mi_segment_map_note_span(segment_size);
  _mi_segment_map_allocated(segment);
  tld->segment_count++;
  _mi_stat_increase(&_mi_stats_main.segments, 1);
  return segment;
}

// Statistics: count the purged pages as committed again, so unmapping (or caching) the whole
// segment balances the books.
static void mi_segment_uncount_purged(mi_segment_t* segment) {
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->is_committed) {
      size_t psize;
      (void)_mi_segment_page_area(segment, page, &psize);
      _mi_os_recommit(NULL, psize);
      page->is_committed = 1;
    }
  }
}

// Every page carries a copy of the owner's id (free() compares it with one load): it changes with
// the segment's owner, before the owner is published in `thread_id`.
static void mi_segment_set_owner(mi_segment_t* segment, uintptr_t thread_id) {
  for (size_t i = 0; i < segment->capacity; i++) mi_page_set_owner(&segment->pages[i], thread_id);
}

static void mi_segment_free(mi_segment_t* segment, mi_tld_t* tld) {
  mi_segment_remove_from_free_queue(segment, tld);
  mi_segment_uncount_purged(segment);
  // pending purges of this segment are moot now
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_purge_unschedule(segment, &segment->pages[i], tld);
  }
  _mi_segment_map_freed(segment);
  mi_segment_set_owner(segment, 0);
  mi_atomic_store_relaxed(&segment->thread_id, 0);
  tld->segment_count--;
  _mi_stat_decrease(&_mi_stats_main.segments, 1);
  size_t size = segment->segment_size;
  mi_memid_t memid = segment->memid;
  // what it holds resident, by our estimate: every block handed out written all over (asking
  // the OS with mincore was exact but cost ~8% of a thread-churn run)
  size_t resident = size;
  if (segment->page_kind != MI_PAGE_HUGE) {
    resident = segment->segment_info_size;
    for (size_t i = 0; i < segment->capacity; i++) resident += segment->pages[i].resident;
  }
  if (!mi_cache_push(segment, size, resident, segment->page_kind, memid)) _mi_os_free(segment, size, memid);
}

/* ------------------------------------------------------------------------------------------------
   Pages inside segments
------------------------------------------------------------------------------------------------ */

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld);

static void mi_segments_purge_queue(mi_segment_queue_t* q, bool force, int64_t now, mi_tld_t* tld);

// Purge `touched` bytes at `start` that stand for `area` bytes of page areas: the statistics count
// the whole areas as decommitted (they count them committed again when a page is taken).
static void mi_segment_purge_range(uint8_t* start, size_t touched, size_t area) {
  size_t purged = 0;
  if (touched > 0) {
    (void)_mi_os_purge(start, touched);
    purged = _mi_align_down(touched, _mi_os_page_size());
  }
  if (area > purged) _mi_stat_decrease(&_mi_stats_main.committed, area - purged);
}

static void mi_segment_page_purge(mi_segment_t* segment, mi_page_t* page) {
  size_t psize;
  uint8_t* start = _mi_segment_page_area(segment, page, &psize);
  mi_segment_purge_range(start, page->resident, psize);
  if (page->resident > 0 && !page->segment_in_use) segment->free_resident--;
  page->resident = 0;
  page->is_zero_init = true;   // purged memory reads back as zero
  page->is_committed = 0;      // (statistics: recommitted when the page is taken again)
  page->purge_expire = 0;
}

// Purge the expired (all if `force`) free pages of a segment: one madvise per run of adjacent
// pages, covering only what was touched (an untouched gap inside a run costs the kernel nothing).
static void mi_segment_purge_pending(mi_segment_t* segment, bool force, int64_t now, mi_tld_t* tld) {
  uint8_t* run_start = NULL;
  uint8_t* run_end = NULL;        // end of the touched bytes in the run
  uint8_t* run_area_end = NULL;   // end of the last page area in the run
  for (size_t i = 0; i <= segment->capacity; i++) {
    mi_page_t* page = (i < segment->capacity ? &segment->pages[i] : NULL);
    bool expired = (page != NULL && !page->segment_in_use && page->purge_expire != 0 && (force || mi_deadline_passed(page->purge_expire, now)));
    if (expired) {
      size_t psize;
      uint8_t* start = _mi_segment_page_area(segment, page, &psize);
      if (page->resident == 0) mi_segment_purge_range(start, 0, psize);
      else {
        if (run_start != NULL && run_area_end != start) {
          mi_segment_purge_range(run_start, (size_t)(run_end - run_start), (size_t)(run_area_end - run_start));
          run_start = NULL;
        }
        if (run_start == NULL) run_start = start;
        run_end = start + page->resident;
        run_area_end = start + psize;
      }
      page->is_zero_init = true;   // purged (or never touched) memory reads back as zero
      page->is_committed = 0;      // (statistics: recommitted when the page is taken again)
      mi_page_purge_unschedule(segment, page, tld);
      if (page->resident > 0) segment->free_resident--;
      page->resident = 0;
    }
    else if (run_start != NULL) {
      mi_segment_purge_range(run_start, (size_t)(run_end - run_start), (size_t)(run_area_end - run_start));
      run_start = NULL;
    }
  }
}

static void mi_segments_purge_queue(mi_segment_queue_t* q, bool force, int64_t now, mi_tld_t* tld) {
  for (mi_segment_t* segment = q->first; segment != NULL && tld->pending_purges > 0; segment = segment->next) {
    mi_segment_purge_pending(segment, force, now, tld);
  }
}

void _mi_segments_collect(mi_tld_t* tld, bool force) {
  _mi_segments_trim_expired(tld, force);
  if (tld->pending_purges == 0) return;
  int64_t now = _mi_prim_clock_now();
  mi_segments_purge_queue(&tld->small_free, force, now, tld);
  mi_segments_purge_queue(&tld->medium_free, force, now, tld);
  if (force) { tld->pending_purges = 0; tld->pending_purge_bytes = 0; }   // (exact already; keeps drift out)
}

static mi_page_t* mi_segment_take_free_page(mi_segment_t* segment, mi_tld_t* tld) {
  // prefer the free page with the most resident memory: reusing it costs the fewest page faults
  size_t first = 0;
  if (segment->free_resident > 0) {
    uint32_t best = 0;
    const uint32_t full = (uint32_t)(((size_t)1 << segment->page_shift) - segment->page0_offset);
    for (size_t i = 0; i < segment->capacity && best < full; i++) {
      const mi_page_t* page = &segment->pages[i];
      if (!page->segment_in_use && page->resident > best) { first = i; best = page->resident; }
    }
  }
  for (size_t k = 0; k < segment->capacity; k++) {
    size_t i = (k + first < segment->capacity ? k + first : k + first - segment->capacity);
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) {
      page->segment_in_use = 1;
      if (page->resident > 0) segment->free_resident--;
      tld->purge_postpone = true;
      tld->took_page = true;
      mi_page_purge_unschedule(segment, page, tld);
      if (!page->is_committed) {
        size_t psize; uint8_t* start = _mi_segment_page_area(segment, page, &psize);
        if (!_mi_os_recommit(start, psize)) { page->segment_in_use = 0; return NULL; }
        page->is_committed = 1;
      }
      segment->used++;
      if (segment->used == segment->capacity) mi_segment_remove_from_free_queue(segment, tld);
      return page;
    }
  }
  return NULL;
}

static mi_page_t* mi_segment_page_alloc_in_queue(mi_heap_t* heap, mi_page_kind_t kind) {
  mi_tld_t* tld = heap->tld;
  mi_segment_queue_t* q = mi_segment_free_queue(kind, tld);
  if (q->first == NULL) {
    // adopt segments of exited threads, oldest first, until one has a free page of this kind
    for (int i = 0; i < 8 && q->first == NULL; i++) {
      if (!mi_segment_reclaim_oldest(heap)) break;
    }
    if (q->first == NULL) {
      mi_segment_t* segment = mi_segment_alloc(0, kind, 0, 0, tld);
      if (segment == NULL) return NULL;
      mi_segment_insert_in_free_queue(segment, tld);
    }
  }
  // Reuse resident memory before faulting purged pages in: a resident free page of this thread
  // (adopted segments queue behind its own), else the free pages an exited thread left, else a
  // cached segment that still holds memory. Faulting in purged pages instead made thread churn
  // hold free memory in one place while it faulted fresh memory in another.
  mi_segment_t* segment = mi_segment_queue_find_resident(q);
  if (segment == NULL) segment = mi_segment_reclaim_resident(heap, kind);
  if (segment == NULL) {
    segment = mi_segment_alloc(0, kind, 0, MI_SEGMENT_SIZE / 8, tld);
    if (segment != NULL) mi_segment_insert_in_free_queue(segment, tld);
  }
  if (segment == NULL) segment = q->first;
  return mi_segment_take_free_page(segment, tld);
}

mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment, size_t huge_size) {
  if (huge_size > 0 || page_alignment > 0 || block_size > MI_LARGE_OBJ_SIZE_MAX) {
    mi_segment_t* segment = mi_segment_alloc(huge_size > 0 ? huge_size : block_size, MI_PAGE_HUGE, page_alignment, 0, heap->tld);
    if (segment == NULL) return NULL;
    return mi_segment_take_free_page(segment, heap->tld);
  }
  if (block_size <= MI_SMALL_OBJ_SIZE_MAX) return mi_segment_page_alloc_in_queue(heap, MI_PAGE_SMALL);
  if (block_size <= MI_MEDIUM_OBJ_SIZE_MAX) return mi_segment_page_alloc_in_queue(heap, MI_PAGE_MEDIUM);
  mi_segment_t* segment = mi_segment_alloc(0, MI_PAGE_LARGE, 0, 0, heap->tld);
  if (segment == NULL) return NULL;
  return mi_segment_take_free_page(segment, heap->tld);
}

void _mi_segment_page_free(mi_page_t* page, bool force, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  if (tld->trim_count > 0) mi_page_trim_forget(page, tld);
  mi_page_note_resident(segment, page);
  page->segment_in_use = 0;
  if (page->resident > 0) segment->free_resident++;
  page->used = 0;
  page->capacity = 0;
  page->free = NULL;
  page->local_free = NULL;
  page->is_zero_init = false;
  _mi_stat_batch_add(&tld->stats, &tld->stats.pages_change, -1);
  if (segment->page_kind == MI_PAGE_HUGE) _mi_stat_decrease(&_mi_stats_main.huge, page->block_size);
  segment->used--;
  if (segment->used == 0) {
    mi_segment_free(segment, tld);
    return;
  }
  if (segment->abandoned > 0 && segment->abandoned == segment->used) {
    // thread exit freed the last live page after the others were abandoned: nothing of the
    // segment belongs to this thread any more (a stale thread_id would match a new thread that
    // reuses this thread's TCB address)
    mi_segment_abandon(segment, tld);
    return;
  }
  // the segment lives on: give the page's memory back after the purge delay
  long delay = mi_purge_delay();
  mi_segment_insert_in_free_queue(segment, tld);
  if (force || delay == 0) mi_segment_page_purge(segment, page);
  else if (delay > 0) {
    int64_t now = _mi_prim_clock_now();
    page->purge_expire = mi_deadline_after(now, delay);
    tld->pending_purges++;
    tld->pending_purge_bytes += page->resident;
    // a thread that takes no pages (it only frees) never reuses its free pages: it keeps few
    size_t budget = (tld->purge_idle ? MI_PURGE_PENDING_IDLE_MAX : MI_PURGE_PENDING_MAX);
    if (tld->abandoning) { }
    else if (tld->pending_purge_bytes > budget) {
      // a thread freeing fast (e.g. adopting what exited threads left) would hold up to
      // purge_delay's worth of its frees: bound that, purging what is pending now
      tld->purge_check_at = now + (delay > 1 ? delay / 2 : 1);
      // oldest first: pages freed more than half a delay ago; everything only if that is not enough
      int64_t older = now + delay / 2;
      mi_segments_purge_queue(&tld->small_free, false, older, tld);
      mi_segments_purge_queue(&tld->medium_free, false, older, tld);
      if (tld->pending_purge_bytes > budget / 2) {
        mi_segments_purge_queue(&tld->small_free, true, now, tld);
        mi_segments_purge_queue(&tld->medium_free, true, now, tld);
      }
    }
    // a thread that only frees never reaches the allocation slow path: purge from here too.
    // A thread that keeps taking pages is busy: it would fault purged pages right back in, so
    // its purges wait one more check interval (at most one in a row) — and MI_PURGE_PENDING_MAX
    // above bounds what it holds meanwhile.
    else if (now >= tld->purge_check_at) {
      tld->purge_check_at = now + (delay > 1 ? delay / 2 : 1);
      tld->purge_idle = (tld->heartbeat == tld->heartbeat_seen);
      tld->heartbeat_seen = tld->heartbeat;
      if (tld->purge_postpone && !tld->purge_postponed) { tld->purge_postpone = false; tld->purge_postponed = true; }
      else {
        tld->purge_postpone = tld->purge_postponed = false;
        mi_segments_purge_queue(&tld->small_free, false, now, tld);
        mi_segments_purge_queue(&tld->medium_free, false, now, tld);
        _mi_segments_trim_expired(tld, false);
        mi_abandoned_purge_expired(false);
        }
    }
  }
}

/* ------------------------------------------------------------------------------------------------
   Abandoned segments (of exited threads)
------------------------------------------------------------------------------------------------ */

#define MI_ABANDONED_UNPURGED_MAX (64 * MI_MiB)   // free page memory of dead threads kept unpurged (at most)
static mi_atomic(size_t)   mi_abandoned_unpurged;
static mi_lock_t           mi_abandoned_lock;
static mi_segment_t*       mi_abandoned_first;   // newest
static mi_segment_t*       mi_abandoned_last;    // oldest: reclaimed first (it had the most time to receive frees)
static mi_atomic(size_t)   mi_abandoned_count;
static __thread bool       mi_abandoned_visiting;   // this thread holds the list for a visit

size_t _mi_abandoned_count(void) { return mi_atomic_load_relaxed(&mi_abandoned_count); }

static void mi_abandoned_unlink(mi_segment_t* segment) {   // lock held
  if (segment->prev != NULL) segment->prev->next = segment->next;
  else mi_abandoned_first = segment->next;
  if (segment->next != NULL) segment->next->prev = segment->prev;
  else mi_abandoned_last = segment->prev;
  segment->next = segment->prev = NULL;
  segment->in_abandoned_list = false;
  mi_atomic_sub_relaxed(&mi_abandoned_count, 1);
}

// Free pages of abandoned segments whose purge delay passed go back to the OS here: nobody owns
// them, so whichever thread does periodic maintenance (at most every half delay) does it.
static mi_atomic(int64_t) mi_abandoned_purge_next;

static void mi_abandoned_purge_expired(bool force) {
  if (mi_atomic_load_relaxed(&mi_abandoned_unpurged) == 0 || mi_abandoned_visiting) return;
  int64_t now = _mi_prim_clock_now();
  int64_t next = mi_atomic_load_relaxed(&mi_abandoned_purge_next);
  long delay = mi_purge_delay();
  if (!force && now < next) return;
  if (!mi_atomic_cas_strong_relaxed(&mi_abandoned_purge_next, &next, now + (delay > 1 ? delay / 2 : 1)) && !force) return;
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  for (mi_segment_t* segment = mi_abandoned_first; segment != NULL; segment = segment->next) {
    if (segment->abandoned_unpurged == 0) continue;
    mi_segment_purge_pending(segment, force, now, NULL);
    size_t left = 0;
    for (size_t i = 0; i < segment->capacity; i++) {
      const mi_page_t* page = &segment->pages[i];
      if (!page->segment_in_use && page->purge_expire != 0) left += page->resident;
    }
    mi_atomic_sub_relaxed(&mi_abandoned_unpurged, segment->abandoned_unpurged - left);
    segment->abandoned_unpurged = left;
  }
  _mi_prim_lock_release(&mi_abandoned_lock);
}

static void mi_segment_abandon(mi_segment_t* segment, mi_tld_t* tld) {
  mi_segment_remove_from_free_queue(segment, tld);
  // Free pages waiting for their purge keep their expiry while the memory of dead threads held
  // this way is moderate (a thread starting soon will adopt the segment and reuse them rather
  // than fault them in again; mi_abandoned_purge_expired purges them otherwise); beyond the
  // budget they go back to the OS now.
  size_t pending = 0;
  for (size_t i = 0; i < segment->capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (page->purge_expire != 0) pending += page->resident;
  }
  if (pending > 0) {
    if (mi_atomic_load_relaxed(&mi_abandoned_unpurged) + pending > MI_ABANDONED_UNPURGED_MAX) {
      mi_segment_purge_pending(segment, true, 0, tld);
      pending = 0;
    }
    else {
      for (size_t i = 0; i < segment->capacity; i++) {
        mi_page_t* page = &segment->pages[i];
        if (page->purge_expire != 0) {   // leave the expiry: the adopter's tld counts it again
          uint32_t expire = page->purge_expire;
          mi_page_purge_unschedule(segment, page, tld);
          page->purge_expire = expire;
        }
      }
      mi_atomic_add_relaxed(&mi_abandoned_unpurged, pending);
    }
  }
  segment->abandoned_unpurged = pending;
  tld->segment_count--;
  _mi_stat_increase(&_mi_stats_main.segments_abandoned, 1);
  mi_segment_set_owner(segment, 0);
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  mi_atomic_store_relaxed(&segment->abandoned_at, _mi_prim_clock_now());
  mi_atomic_store_release(&segment->thread_id, 0);
  segment->prev = NULL;
  segment->next = mi_abandoned_first;
  if (mi_abandoned_first != NULL) mi_abandoned_first->prev = segment;
  else mi_abandoned_last = segment;
  mi_abandoned_first = segment;
  segment->in_abandoned_list = true;
  mi_atomic_add_relaxed(&mi_abandoned_count, 1);
  _mi_prim_lock_release(&mi_abandoned_lock);
}

void _mi_segment_page_abandon(mi_page_t* page, mi_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  if (tld->trim_count > 0) mi_page_trim_forget(page, tld);
  segment->abandoned++;
  _mi_stat_increase(&_mi_stats_main.pages_abandoned, 1);
  if (segment->abandoned == segment->used) mi_segment_abandon(segment, tld);
}

// Adopt an abandoned segment (already unlinked from the list) into the thread of `heap`; false if
// that freed it (all its pages were empty).
static bool mi_segment_reclaim(mi_segment_t* segment, mi_heap_t* heap) {
  mi_tld_t* tld = heap->tld;
  mi_heap_t* target = tld->heap_backing;   // never a destroyable heap: destroy must not free others' blocks
  mi_segment_set_owner(segment, tld->thread_id);
  mi_atomic_store_release(&segment->thread_id, tld->thread_id);
  segment->abandoned_visits = 0;
  tld->segment_count++;
  if (segment->abandoned_unpurged > 0) {
    // the free pages still waiting for their purge are this thread's to purge now
    mi_atomic_sub_relaxed(&mi_abandoned_unpurged, segment->abandoned_unpurged);
    segment->abandoned_unpurged = 0;
    uint32_t expire = mi_deadline_after(_mi_prim_clock_now(), mi_purge_delay());
    for (size_t i = 0; i < segment->capacity; i++) {
      mi_page_t* page = &segment->pages[i];
      if (!page->segment_in_use && page->purge_expire != 0) {
        page->purge_expire = expire;
        tld->pending_purges++;
        tld->pending_purge_bytes += page->resident;
      }
    }
  }
  _mi_stat_decrease(&_mi_stats_main.segments_abandoned, 1);
  _mi_stat_counter_increase(&_mi_stats_main.segments_reclaimed, 1);
  size_t capacity = segment->capacity;
  for (size_t i = 0; i < capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (!page->segment_in_use) continue;
    segment->abandoned--;
    _mi_stat_decrease(&_mi_stats_main.pages_abandoned, 1);
    _mi_page_reclaim(target, page);
  }
  // free the pages that emptied while abandoned; the last one frees the segment itself
  size_t empty = 0;
  for (size_t i = 0; i < capacity; i++) {
    mi_page_t* page = &segment->pages[i];
    if (page->segment_in_use && page->used == 0) empty++;
  }
  bool segment_freed = (empty == segment->used);
  for (size_t i = 0; i < capacity && empty > 0; i++) {
    mi_page_t* page = &segment->pages[i];
    if (page->segment_in_use && page->used == 0) {
      empty--;
      _mi_page_free(page, _mi_page_queue_of(target, page), false);   // may free `segment` on the last one
    }
  }
  if (!segment_freed && segment->used < segment->capacity) mi_segment_insert_in_free_queue(segment, tld);
  return !segment_freed;
}

static bool mi_segment_reclaim_oldest(mi_heap_t* heap) {
  if (mi_atomic_load_relaxed(&mi_abandoned_count) == 0 || mi_abandoned_visiting) return false;
  if (!mi_heap_is_initialized(heap) || heap->tld->heap_backing == NULL) return false;
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  mi_segment_t* segment = mi_abandoned_last;
  if (segment != NULL) mi_abandoned_unlink(segment);
  _mi_prim_lock_release(&mi_abandoned_lock);
  if (segment == NULL) return false;
  mi_segment_reclaim(segment, heap);
  return true;
}

// Adopt the abandoned segment of `kind` (among the newest few: their free pages expire last) with
// the most free memory still resident; returns it if it has a resident free page now.
static mi_segment_t* mi_segment_reclaim_resident(mi_heap_t* heap, mi_page_kind_t kind) {
  if (mi_atomic_load_relaxed(&mi_abandoned_unpurged) == 0 || mi_abandoned_visiting) return NULL;
  if (!mi_heap_is_initialized(heap) || heap->tld->heap_backing == NULL) return NULL;
  mi_segment_t* best = NULL;
  size_t n = 0;
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  for (mi_segment_t* s = mi_abandoned_first; s != NULL && n < MI_RESIDENT_SCAN; s = s->next, n++) {
    if (s->page_kind == kind && s->free_resident > 0 && (best == NULL || s->abandoned_unpurged > best->abandoned_unpurged)) best = s;
  }
  if (best != NULL) mi_abandoned_unlink(best);
  _mi_prim_lock_release(&mi_abandoned_lock);
  if (best == NULL || !mi_segment_reclaim(best, heap)) return NULL;
  return (best->in_free_queue && best->free_resident > 0 ? best : NULL);
}

bool _mi_segment_try_reclaim_abandoned(mi_heap_t* heap, bool try_all) {
  if (mi_atomic_load_relaxed(&mi_abandoned_count) == 0 || mi_abandoned_visiting) return false;
  if (!mi_heap_is_initialized(heap) || heap->tld->heap_backing == NULL) return false;
  mi_segment_t* batch[16];
  size_t n = 0;
  size_t max = (try_all ? 16 : 8);
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  while (mi_abandoned_last != NULL && n < max) {
    mi_segment_t* segment = mi_abandoned_last;
    mi_abandoned_unlink(segment);
    batch[n++] = segment;
  }
  _mi_prim_lock_release(&mi_abandoned_lock);
  for (size_t i = 0; i < n; i++) mi_segment_reclaim(batch[i], heap);
  return (n > 0);
}

// A thread freed into a segment whose owner exited: adopt the segment so its memory is reused or
// returned right away instead of waiting for some allocating thread (mimalloc #1001, #1042).
bool _mi_segment_reclaim_on_free(mi_segment_t* segment, mi_heap_t* heap) {
  if (mi_abandoned_visiting || !mi_heap_is_initialized(heap) || heap->tld->heap_backing == NULL) return false;
  // A thread that is taking pages adopts what it needs when it needs it (mi_segment_reclaim_resident,
  // mi_segment_reclaim_oldest); adopting whatever it happens to free into spread the free pages of
  // exited threads over threads that did not need them (thread churn: +20 MiB RSS, +40% page
  // faults). A thread that only frees, or a segment nobody took for a purge delay, is adopted here.
  mi_tld_t* tld = heap->tld;
  long delay = mi_purge_delay();
  if (delay > 0) {
    int64_t now = _mi_prim_clock_now();
    if (tld->took_page) { tld->took_page = false; tld->alloc_busy_until = now + delay; }
    if (now < tld->alloc_busy_until && now - mi_atomic_load_relaxed(&segment->abandoned_at) < delay) return false;
  }
  bool claimed = false;
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  if (segment->in_abandoned_list && mi_atomic_load_relaxed(&segment->thread_id) == 0) {
    mi_abandoned_unlink(segment);
    claimed = true;
  }
  _mi_prim_lock_release(&mi_abandoned_lock);
  if (claimed) mi_segment_reclaim(segment, heap);
  return claimed;
}

// Blocks the segment's pages hold: the owner's own count (used only changes by its hand).
size_t _mi_segment_used_blocks(const mi_segment_t* segment) {
  size_t used = 0;
  for (size_t i = 0; i < segment->capacity; i++) {
    const mi_page_t* page = &segment->pages[i];
    if (page->segment_in_use) used += page->used;
  }
  return used;
}

// Put a segment adopted on a free back on the abandoned list when only a few blocks of exited
// threads are left in it. Kept, it would stay with a thread that may never allocate (a main thread
// joining workers and freeing what each handed over) for as long as one of them lives: out of
// reach of the threads that allocate, which map new segments instead -- one per thread under
// thread churn (4000 threads: 10 GiB committed, 13x slower). A thread that does free the rest
// adopts it again then (a few times at most: the bound). The caller knows blocks are left: the
// segment cannot be freed here.
void _mi_segment_release_adopted(mi_segment_t* segment) {
  for (size_t i = 0; i < segment->capacity; i++) {   // empty pages go back to the segment first
    mi_page_t* page = &segment->pages[i];
    if (page->segment_in_use && page->used == 0) _mi_page_free(page, _mi_page_queue_of(mi_page_heap(page), page), false);
  }
  for (size_t i = 0; i < segment->capacity; i++) {   // the last of these abandons the segment
    mi_page_t* page = &segment->pages[i];
    if (page->segment_in_use) _mi_page_abandon(page, _mi_page_queue_of(mi_page_heap(page), page));
  }
}

bool _mi_abandoned_visit_blocks(int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  bool ok = true;
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  mi_abandoned_visiting = true;
  for (mi_segment_t* segment = mi_abandoned_first; segment != NULL && ok; segment = segment->next) {
    for (size_t i = 0; i < segment->capacity && ok; i++) {
      mi_page_t* page = &segment->pages[i];
      if (!page->segment_in_use) continue;
      if (heap_tag >= 0 && page->heap_tag != heap_tag) continue;
      mi_heap_area_t area;
      _mi_heap_area_init(&area, page);
      if (!visitor(NULL, &area, NULL, area.block_size, arg)) { ok = false; break; }
      if (visit_blocks && !_mi_heap_area_visit_blocks(&area, page, visitor, arg)) ok = false;
    }
  }
  mi_abandoned_visiting = false;
  _mi_prim_lock_release(&mi_abandoned_lock);
  return ok;
}

/* ------------------------------------------------------------------------------------------------
   fork: no lock of ours may be held by a thread that does not exist in the child
------------------------------------------------------------------------------------------------ */

void _mi_segments_fork_prepare(void) {
  _mi_prim_lock_acquire(&mi_abandoned_lock);
  _mi_prim_lock_acquire(&mi_cache_lock);
}
void _mi_segments_fork_parent(void) {
  _mi_prim_lock_release(&mi_cache_lock);
  _mi_prim_lock_release(&mi_abandoned_lock);
}
void _mi_segments_fork_child(void) {
  _mi_prim_lock_init(&mi_cache_lock);
  _mi_prim_lock_init(&mi_abandoned_lock);
}

/* ------------------------------------------------------------------------------------------------
   Growing a huge block in place: realloc chains of multi-MiB buffers move pages, never bytes
------------------------------------------------------------------------------------------------ */

void* _mi_segment_huge_page_grow(mi_heap_t* heap, mi_page_t* page, void* p, size_t newsize) {
  mi_segment_t* segment = _mi_page_segment(page);
  if (segment->page_kind != MI_PAGE_HUGE || p != (void*)page->page_start || mi_page_has_aligned(page)) return NULL;
  if (mi_page_heap(page) != heap || mi_atomic_load_relaxed(&segment->thread_id) != heap->tld->thread_id) return NULL;
  if (newsize > MI_MAX_ALLOC_SIZE - newsize / 8 - segment->page0_offset - _mi_os_page_size()) return NULL;
  // 12.5% headroom so a chain of small increments does not remap every time
  size_t new_size = _mi_align_up(segment->page0_offset + newsize + newsize / 8, _mi_os_page_size());
  size_t page0_offset = segment->page0_offset;
  size_t old_block = page->block_size;
  // the page descriptor lives in the header, which may move: unlink it from its queue first
  mi_page_queue_t* pq = _mi_page_queue_of(heap, page);
  _mi_page_queue_remove(heap, pq, page);
  _mi_segment_map_freed(segment);
  mi_memid_t memid = segment->memid;
  mi_segment_t* moved = (mi_segment_t*)_mi_os_remap(segment, new_size, MI_SEGMENT_SIZE, &memid);
  if (moved == NULL) {
    _mi_segment_map_allocated(segment);
    _mi_page_queue_push(heap, pq, page);
    return NULL;
  }
  segment = moved;
  segment->memid = memid;
  segment->segment_size = memid.size;
  segment->cookie = (uintptr_t)segment ^ _mi_process_key;
  page = &segment->pages[0];
  page->page_start = (uint8_t*)segment + page0_offset;
  page->block_size = segment->segment_size - page0_offset;
  _mi_segment_map_note_span(segment->segment_size);
  _mi_segment_map_allocated(segment);
  _mi_stat_decrease(&_mi_stats_main.huge, old_block);
  _mi_stat_increase(&_mi_stats_main.huge, page->block_size);
  _mi_page_queue_push(heap, pq, page);
  return page->page_start;
}
