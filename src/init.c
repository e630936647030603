/* mimic: process and thread life cycle — lazy thread set-up on the first allocation, thread exit
   (pthread-key destructor via the prim layer), fork handlers, process init and exit. */
#include "mimic/internal.h"



// Every direct slot points at the empty page, so the first malloc of a thread takes the generic
// path, which sets the thread up. Nothing in it is ever written.
mi_heap_t _mi_heap_empty = {
  .tld = NULL,
  .pages_free_direct = { [0 ... MI_PAGES_DIRECT - 1] = &_mi_page_empty },
  .pages_first = { [0 ... MI_BIN_HUGE] = &_mi_page_empty },
  .page_retired_min = MI_BIN_FULL,
};

__thread mi_heap_t* _mi_heap_default mi_decl_tls = &_mi_heap_empty;
static __thread bool mi_thread_done_flag mi_decl_tls;   // this thread ran _mi_thread_done

mi_atomic(size_t) _mi_thread_count;
uintptr_t _mi_process_key;
bool _mi_process_is_initialized;

/* ---- thread data: a backing heap and the thread-local data, from OS memory (small cache) ---- */

typedef struct mi_thread_data_s {
  mi_heap_t heap;
  mi_tld_t  tld;
} mi_thread_data_t;

#define MI_TD_CACHE_SIZE 16
static mi_lock_t          mi_td_lock;
static mi_thread_data_t*  mi_td_cache[MI_TD_CACHE_SIZE];
static mi_atomic(size_t)  mi_td_cache_count;

static mi_thread_data_t mi_thread_data_main;   // the first thread's data: never freed
static mi_atomic(int)   mi_main_taken;

static mi_thread_data_t* mi_thread_data_alloc(void) {
  int expected = 0;
  if (mi_atomic_load_relaxed(&mi_main_taken) == 0 && mi_atomic_cas_strong_acq_rel(&mi_main_taken, &expected, 1)) {
    return &mi_thread_data_main;
  }
  mi_thread_data_t* td = NULL;
  if (mi_atomic_load_relaxed(&mi_td_cache_count) > 0) {
    _mi_prim_lock_acquire(&mi_td_lock);
    size_t n = mi_atomic_load_relaxed(&mi_td_cache_count);
    if (n > 0) { td = mi_td_cache[n - 1]; mi_atomic_store_relaxed(&mi_td_cache_count, n - 1); }
    _mi_prim_lock_release(&mi_td_lock);
  }
  if (td != NULL) { memset(td, 0, sizeof(*td)); return td; }
  return (mi_thread_data_t*)_mi_os_alloc_meta(sizeof(mi_thread_data_t));
}

static void mi_thread_data_free(mi_thread_data_t* td) {
  if (td == &mi_thread_data_main) return;
  bool cached = false;
  _mi_prim_lock_acquire(&mi_td_lock);
  size_t n = mi_atomic_load_relaxed(&mi_td_cache_count);
  if (n < MI_TD_CACHE_SIZE) { mi_td_cache[n] = td; mi_atomic_store_relaxed(&mi_td_cache_count, n + 1); cached = true; }
  _mi_prim_lock_release(&mi_td_lock);
  if (!cached) _mi_os_free_meta(td, sizeof(*td));
}

bool _mi_thread_is_done(void) { return mi_thread_done_flag; }

void _mi_heap_set_default_direct(mi_heap_t* heap) { _mi_heap_default = heap; }

/* ---- thread start (lazy) and exit ---- */

mi_heap_t* _mi_heap_init_thread(void) {
  mi_heap_t* heap = _mi_heap_default;
  if (mi_heap_is_initialized(heap)) return heap;
  if (!_mi_process_is_initialized) _mi_process_init_once();
  heap = _mi_heap_default;   // process init may have set this thread up
  if (mi_heap_is_initialized(heap)) return heap;
  mi_thread_data_t* td = mi_thread_data_alloc();
  if (td == NULL) return NULL;
  mi_tld_t* tld = &td->tld;
  tld->thread_id = _mi_prim_thread_id();
  tld->heaps = NULL;
  _mi_heap_init(&td->heap, tld, 0, false, 0);
  tld->heap_backing = &td->heap;
  _mi_heap_default = &td->heap;
  mi_thread_done_flag = false;
  _mi_prim_thread_associate_default_heap(&td->heap);
  mi_atomic_add_relaxed(&_mi_thread_count, 1);
  _mi_stat_increase(&_mi_stats_main.threads, 1);
  return &td->heap;
}

void _mi_thread_done(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap) || heap->tld == NULL) return;
  mi_tld_t* tld = heap->tld;
  if (tld->thread_id != _mi_prim_thread_id()) return;   // not this thread's data
  mi_heap_t* backing = tld->heap_backing;
  _mi_prim_thread_associate_default_heap(NULL);
  // Delete (not destroy) the other heaps: their live blocks move to the backing heap.
  _mi_heap_default = backing;
  for (;;) {
    mi_heap_t* h = tld->heaps;
    while (h != NULL && h == backing) h = h->next;
    if (h == NULL) break;
    mi_heap_delete(h);   // unlinks h
  }
  _mi_heap_collect_abandon(backing);
  _mi_heap_default = &_mi_heap_empty;
  mi_thread_done_flag = true;
  mi_atomic_sub_relaxed(&_mi_thread_count, 1);
  _mi_stat_decrease(&_mi_stats_main.threads, 1);
  _mi_stat_decrease(&_mi_stats_main.heaps, 1);
  _mi_stats_batch_flush(&tld->stats);
  mi_thread_data_t* td = (mi_thread_data_t*)((uint8_t*)backing - offsetof(mi_thread_data_t, heap));
  mi_thread_data_free(td);
}

static void mi_thread_done_auto(void* heap) { _mi_thread_done((mi_heap_t*)heap); }

void mi_thread_init(void) mi_attr_noexcept { (void)mi_prim_get_default_heap_init(); }

void mi_thread_done(void) mi_attr_noexcept {
  mi_heap_t* heap = _mi_heap_default;
  if (mi_heap_is_initialized(heap)) _mi_thread_done(heap->tld->heap_backing);
}

void mi_thread_set_in_threadpool(void) mi_attr_noexcept {
  // v2 uses this only as a hint for segment ownership targets; nothing to adjust here.
}

/* ---- fork ---- */

static void mi_fork_prepare(void) {
  _mi_prim_lock_acquire(&mi_td_lock);
  _mi_segments_fork_prepare();
}
static void mi_fork_parent(void) {
  _mi_segments_fork_parent();
  _mi_prim_lock_release(&mi_td_lock);
}
static void mi_fork_child(void) {
  _mi_segments_fork_child();
  _mi_prim_lock_init(&mi_td_lock);
}

/* ---- process ---- */

static mi_atomic(int) mi_process_init_state;   // 0 none, 1 in progress, 2 done

void _mi_process_init_once(void) {
  int expected = 0;
  if (!mi_atomic_cas_strong_acq_rel(&mi_process_init_state, &expected, 1)) {
    while (mi_atomic_load_acquire(&mi_process_init_state) != 2) mi_atomic_yield();
    return;
  }
  _mi_os_init();
  _mi_prim_lock_init(&mi_td_lock);
  _mi_segments_fork_child();   // initialises the segment locks
  _mi_stats_init();
  _mi_options_init();
  _mi_process_key = _mi_os_random_weak((uintptr_t)&_mi_process_key);
  _mi_prim_thread_init_auto_done(&mi_thread_done_auto);
  _mi_process_is_initialized = true;
  mi_atomic_store_release(&mi_process_init_state, 2);
  (void)_mi_heap_init_thread();
  _mi_verbose_message("process init: thread id 0x%zx, mimic %d.%d.%d\n", (size_t)_mi_prim_thread_id(),
                      MIMIC_VERSION / 10000, (MIMIC_VERSION / 100) % 100, MIMIC_VERSION % 100);
}

// The fork handlers are registered here (the library constructor), never from the first malloc:
// that malloc may come from inside pthread_atfork itself, which holds glibc's atfork lock.
static mi_atomic(int) mi_fork_handlers_registered;

void mi_process_init(void) mi_attr_noexcept {
  _mi_process_init_once();
  (void)mi_prim_get_default_heap_init();
  int expected = 0;
  if (mi_atomic_cas_strong_acq_rel(&mi_fork_handlers_registered, &expected, 1)) {
    _mi_prim_register_fork_handlers(&mi_fork_prepare, &mi_fork_parent, &mi_fork_child);
  }
}

static bool mi_process_done_flag;

void mi_process_done(void) mi_attr_noexcept {
  if (!_mi_process_is_initialized || mi_process_done_flag) return;
  mi_process_done_flag = true;
  if (mi_option_is_enabled(mi_option_destroy_on_exit)) mi_collect(true);
  if (mi_option_is_enabled(mi_option_show_stats) || mi_option_is_enabled(mi_option_verbose)) {
    mi_stats_print_out(NULL, NULL);
  }
  _mi_verbose_message("process done\n");
  // The pthread key stays: threads still running keep their exit hook. Memory is left to the OS.
}

int mi_version(void) mi_attr_noexcept { return MI_MALLOC_VERSION; }

__attribute__((constructor(101))) static void mi_process_load(void) { mi_process_init(); }
__attribute__((destructor(101))) static void mi_process_unload(void) { mi_process_done(); }
