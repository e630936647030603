/* mimic: size classes (bins) and the heap's page queues.
   Each heap keeps one doubly-linked queue of pages per bin, plus a queue for huge pages and one for
   full pages. The first page of the small bins is mirrored in `pages_free_direct`, the table that
   makes the small malloc fast path a single indexed load. */
#include "mimic/internal.h"

/* Bins: 1..16 are exact multiples of 16 bytes (16..256); from there MI_BIN_SUBS (4) bins per power
   of two. bin(size) for size in (2^b, 2^(b+1)] is 17 + 4*(b-8) + ((size-1) >> (b-2) & 3): see _mi_bin. */

// _mi_bin_table[i] = _mi_bin(256*i + 256) for 256*i >= 1 KiB (the formula of _mi_bin as a
// constant expression; test-api checks the table against _mi_bin for every size it covers)
#define MI_BT_BSR(w) ((w) >= 131072 ? 17 : (w) >= 65536 ? 16 : (w) >= 32768 ? 15 : (w) >= 16384 ? 14 : (w) >= 8192 ? 13 : \
                      (w) >= 4096 ? 12 : (w) >= 2048 ? 11 : (w) >= 1024 ? 10 : (w) >= 512 ? 9 : 8)
#define MI_BT_BIN(w) (MI_BIN_EXACT_COUNT + 1 + MI_BIN_SUBS * (MI_BT_BSR(w) - 8) + \
                      (((w) >> (MI_BT_BSR(w) - MI_BIN_SUB_SHIFT)) & (MI_BIN_SUBS - 1)))
#define MI_BT1(i)   MI_BT_BIN(((size_t)(i) << MI_BIN_TABLE_SHIFT) + 255)
#define MI_BT4(i)   MI_BT1(i), MI_BT1((i) + 1), MI_BT1((i) + 2), MI_BT1((i) + 3)
#define MI_BT16(i)  MI_BT4(i), MI_BT4((i) + 4), MI_BT4((i) + 8), MI_BT4((i) + 12)
#define MI_BT64(i)  MI_BT16(i), MI_BT16((i) + 16), MI_BT16((i) + 32), MI_BT16((i) + 48)
#define MI_BT256(i) MI_BT64(i), MI_BT64((i) + 64), MI_BT64((i) + 128), MI_BT64((i) + 192)
const uint8_t _mi_bin_table[MI_BIN_TABLE_SIZE] = { MI_BT256(0), MI_BT256(256), MI_BT256(512), MI_BT256(768) };

size_t _mi_bin_size(size_t bin) {
  if (bin <= MI_BIN_EXACT_COUNT) return bin * 16;
  if (bin >= MI_BIN_HUGE) return MI_LARGE_OBJ_SIZE_MAX + 1;
  size_t k = bin - (MI_BIN_EXACT_COUNT + 1);
  size_t b = 8 + k / MI_BIN_SUBS;
  return ((size_t)1 << b) + ((k % MI_BIN_SUBS) + 1) * ((size_t)1 << (b - MI_BIN_SUB_SHIFT));
}

void _mi_page_queue_init_all(mi_heap_t* heap) {
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    if (bin <= MI_BIN_HUGE) heap->pages_first[bin] = &_mi_page_empty;
    heap->pages[bin].first = NULL;
    heap->pages[bin].last = NULL;
    heap->pages[bin].block_size = (bin == 0 ? 16 : _mi_bin_size(bin));
  }
  heap->pages[MI_BIN_FULL].block_size = MI_LARGE_OBJ_SIZE_MAX + 2;
}

static bool mi_page_queue_is_full(const mi_page_queue_t* pq) { return pq->block_size == MI_LARGE_OBJ_SIZE_MAX + 2; }

mi_page_queue_t* _mi_page_queue_of(mi_heap_t* heap, const mi_page_t* page) {
  if (mi_page_is_in_full(page)) return &heap->pages[MI_BIN_FULL];
  return &heap->pages[page->bin];
}



/* Keep pages_first and pages_free_direct in sync with the first page of each size-class queue.
   Slot s of pages_free_direct serves sizes (16(s-1), 16s]; slot 0 serves size 0. */
static mi_decl_noinline void mi_heap_direct_update(mi_heap_t* heap, size_t bin, size_t size, mi_page_t* page) {
  size_t slot = size >> 4;
  if (heap->pages_free_direct[slot] == page) return;
  // the previous bin's size bounds the slots this bin serves
  size_t start = (bin <= 1 ? 0 : (_mi_bin_size(bin - 1) >> 4) + 1);
  for (size_t s = start; s <= slot; s++) heap->pages_free_direct[s] = page;
}

static inline void mi_heap_queue_first_update(mi_heap_t* heap, const mi_page_queue_t* pq) {
  size_t bin = (size_t)(pq - heap->pages);
  if (bin >= MI_BIN_HUGE) return;   // the huge and full queues have no fast path
  mi_page_t* page = (pq->first != NULL ? pq->first : &_mi_page_empty);
  heap->pages_first[bin] = page;
  if (pq->block_size <= MI_SMALL_SIZE_MAX_) mi_heap_direct_update(heap, bin, pq->block_size, page);
}

void _mi_page_queue_remove(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page) {
  if (page->prev != NULL) page->prev->next = page->next;
  if (page->next != NULL) page->next->prev = page->prev;
  if (page == pq->last) pq->last = page->prev;
  if (page == pq->first) {
    pq->first = page->next;
    mi_heap_queue_first_update(heap, pq);
  }
  page->next = NULL;
  page->prev = NULL;
  heap->page_count--;
}

void _mi_page_queue_push(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page) {
  page->prev = pq->last;
  page->next = NULL;
  if (pq->last != NULL) pq->last->next = page;
  pq->last = page;
  if (pq->first == NULL) {
    pq->first = page;
    mi_heap_queue_first_update(heap, pq);
  }
  mi_page_set_flag(page, MI_PAGE_FLAG_IN_FULL, mi_page_queue_is_full(pq));
  heap->page_count++;
}

void _mi_page_queue_push_front(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page) {
  page->prev = NULL;
  page->next = pq->first;
  if (pq->first != NULL) pq->first->prev = page;
  else pq->last = page;
  pq->first = page;
  mi_heap_queue_first_update(heap, pq);
  mi_page_set_flag(page, MI_PAGE_FLAG_IN_FULL, mi_page_queue_is_full(pq));
  heap->page_count++;
}

void _mi_page_queue_move_to_front(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page) {
  if (pq->first == page) return;
  // page is not first, so it has a predecessor and the queue keeps its other pages
  page->prev->next = page->next;
  if (page->next != NULL) page->next->prev = page->prev;
  else pq->last = page->prev;
  page->prev = NULL;
  page->next = pq->first;
  pq->first->prev = page;
  pq->first = page;
  mi_heap_queue_first_update(heap, pq);
}

void _mi_page_queue_move_to_back(mi_heap_t* heap, mi_page_queue_t* pq, mi_page_t* page) {
  if (pq->last == page) return;
  // page is not last, so it has a successor
  if (page->prev != NULL) page->prev->next = page->next;
  page->next->prev = page->prev;
  if (pq->first == page) {
    pq->first = page->next;
    mi_heap_queue_first_update(heap, pq);
  }
  page->prev = pq->last;
  page->next = NULL;
  pq->last->next = page;
  pq->last = page;
}
