// A C++ module that a C program loads with dlopen (like an interpreter's extension module): the
// C++ runtime arrives after mimic was loaded, yet operator new must still honour the
// new-handler and throw std::bad_alloc (mimic finds the runtime on the failure path).
#include <dlfcn.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <new>
#include <string>
#include <vector>

static volatile std::size_t too_big_request = static_cast<std::size_t>(PTRDIFF_MAX) + 1;
static int handler_calls;
static void give_up_handler() { if (++handler_calls == 2) std::set_new_handler(nullptr); }

extern "C" __attribute__((visibility("default"))) int plugin_run() {
  typedef bool (in_heap_fun)(const void*);
  in_heap_fun* in_heap = reinterpret_cast<in_heap_fun*>(dlsym(RTLD_DEFAULT, "mi_is_in_heap_region"));
  if (in_heap == nullptr) { std::fprintf(stderr, "plugin: mimic is not loaded\n"); return 1; }
  int failures = 0;
  std::vector<std::string> v;
  for (int i = 0; i < 10000; i++) v.push_back(std::string(static_cast<std::size_t>(i % 100), 'z'));
  if (!in_heap(v.data())) failures++;
  int* x = new int[100];
  if (!in_heap(x)) failures++;
  delete[] x;
  const std::size_t too_big = too_big_request;
  bool caught = false;
  try { void* p = ::operator new(too_big); std::printf("%p\n", p); } catch (const std::bad_alloc&) { caught = true; }
  if (!caught) failures++;
  handler_calls = 0;
  std::set_new_handler(&give_up_handler);
  caught = false;
  try { void* p = ::operator new[](too_big, std::align_val_t(64)); std::printf("%p\n", p); } catch (const std::bad_alloc&) { caught = true; }
  if (!caught || handler_calls != 2) failures++;
  if (::operator new(too_big, std::nothrow) != nullptr) failures++;
  if (failures == 0) std::printf("preload-cxx-plugin: all checks passed\n");
  else std::printf("preload-cxx-plugin: %d checks failed\n", failures);
  return failures;
}
