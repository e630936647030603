/* mimic: arenas, huge OS pages and sub-processes.
   Not built yet (a later issue: arenas, huge pages, memory limit). Every function answers with a
   documented neutral value (README "Not yet"): reservations fail with ENOMEM, managing external
   memory returns false, and sub-processes share the single abandoned-segment pool. */
#include "mimic/internal.h"

int mi_reserve_huge_os_pages_interleave(size_t pages, size_t numa_nodes, size_t timeout_msecs) mi_attr_noexcept {
  (void)pages; (void)numa_nodes; (void)timeout_msecs;
  _mi_warning_message("mi_reserve_huge_os_pages_interleave: huge OS page reservation is not supported yet\n");
  return ENOMEM;
}
int mi_reserve_huge_os_pages_at(size_t pages, int numa_node, size_t timeout_msecs) mi_attr_noexcept {
  return mi_reserve_huge_os_pages_at_ex(pages, numa_node, timeout_msecs, false, NULL);
}
int mi_reserve_huge_os_pages_at_ex(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept {
  (void)pages; (void)numa_node; (void)timeout_msecs; (void)exclusive;
  if (arena_id != NULL) *arena_id = 0;
  _mi_warning_message("mi_reserve_huge_os_pages_at: huge OS page reservation is not supported yet\n");
  return ENOMEM;
}
int mi_reserve_huge_os_pages(size_t pages, double max_secs, size_t* pages_reserved) mi_attr_noexcept {
  (void)pages; (void)max_secs;
  if (pages_reserved != NULL) *pages_reserved = 0;
  _mi_warning_message("mi_reserve_huge_os_pages: huge OS page reservation is not supported yet\n");
  return ENOMEM;
}
int mi_reserve_os_memory(size_t size, bool commit, bool allow_large) mi_attr_noexcept {
  return mi_reserve_os_memory_ex(size, commit, allow_large, false, NULL);
}
int mi_reserve_os_memory_ex(size_t size, bool commit, bool allow_large, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept {
  (void)size; (void)commit; (void)allow_large; (void)exclusive;
  if (arena_id != NULL) *arena_id = 0;
  _mi_warning_message("mi_reserve_os_memory: arenas are not supported yet\n");
  return ENOMEM;
}
bool mi_manage_os_memory(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node) mi_attr_noexcept {
  return mi_manage_os_memory_ex(start, size, is_committed, is_large, is_zero, numa_node, false, NULL);
}
bool mi_manage_os_memory_ex(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept {
  (void)start; (void)size; (void)is_committed; (void)is_large; (void)is_zero; (void)numa_node; (void)exclusive;
  if (arena_id != NULL) *arena_id = 0;
  _mi_warning_message("mi_manage_os_memory: arenas are not supported yet\n");
  return false;
}
void* mi_arena_area(mi_arena_id_t arena_id, size_t* size) {
  (void)arena_id;
  if (size != NULL) *size = 0;
  return NULL;
}
void mi_debug_show_arenas(void) mi_attr_noexcept { _mi_message("arenas: none (segments come straight from the OS)\n"); }
void mi_arenas_print(void) mi_attr_noexcept { mi_debug_show_arenas(); }

void mi_collect_reduce(size_t target_thread_owned) mi_attr_noexcept {
  (void)target_thread_owned;
  mi_collect(true);
}

/* ---- sub-processes: one shared pool for now ---- */

static int mi_subproc_main_tag;
mi_subproc_id_t mi_subproc_main(void) { return (mi_subproc_id_t)&mi_subproc_main_tag; }
mi_subproc_id_t mi_subproc_new(void) { return mi_subproc_main(); }
void mi_subproc_delete(mi_subproc_id_t subproc) { (void)subproc; }
void mi_subproc_add_current_thread(mi_subproc_id_t subproc) { (void)subproc; }
