// mimic preload test, C++: every replaceable operator new/delete form, the new-handler protocol
// and std::bad_alloc, through whichever route provides mimic's operators:
//   - LD_PRELOAD=libmimic.so (the shared library exports them),
//   - linking mimic.o (the single object exports them),
//   - MIMIC_TEST_HEADER: this file includes <mimic-new-delete.h> and links libmimic.a.
// The program does not include mimic.h: mimic's functions are looked up with dlsym.
#include <dlfcn.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(MIMIC_TEST_HEADER)
#include <mimic-new-delete.h>
#endif

static int failures;
#define CHECK(cond) do { if (!(cond)) { failures++; \
  std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

typedef bool (in_heap_fun)(const void*);
static in_heap_fun* in_heap;

static void* need(const char* name) {
  void* f = dlsym(RTLD_DEFAULT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "preload-cxx: %s not found: is mimic preloaded or linked (with -rdynamic)?\n", name);
    std::exit(1);
  }
  return f;
}

// Opaque to the optimiser: allocations passed here cannot be paired up and elided.
static void* volatile sink;
static void* keep(void* p) { sink = p; return p; }

// A request no allocator can satisfy; volatile, so the compiler cannot see (and warn about) it.
static volatile std::size_t too_big_request = static_cast<std::size_t>(PTRDIFF_MAX) + 1;

static bool ours(const void* p) { return p != nullptr && in_heap(p); }
static bool aligned(const void* p, std::size_t al) { return (reinterpret_cast<std::uintptr_t>(p) % al) == 0; }

struct alignas(128) Wide { char bytes[300]; };

// The object that defines a symbol, as the dynamic linker resolves it for the whole process.
[[maybe_unused]] static std::string definer(const char* name) {
  Dl_info info;
  void* sym = dlsym(RTLD_DEFAULT, name);
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

static int handler_calls;
static void give_up_handler() { if (++handler_calls == 3) std::set_new_handler(nullptr); }
struct HandlerError { int code; };
static void throwing_handler() { throw HandlerError{ 42 }; }

int main() {
  in_heap = reinterpret_cast<in_heap_fun*>(need("mi_is_in_heap_region"));
  const std::size_t too_big = too_big_request;   // always fails

  // operator new must be mimic's: defined by the same object as mi_malloc
#if !defined(MIMIC_TEST_HEADER)
  CHECK(definer("_Znwm") == definer("mi_malloc") || definer("_Znwj") == definer("mi_malloc"));
  CHECK(definer("_ZdlPv") == definer("mi_malloc"));
#endif

  // ---- plain, array, sized ----
  int* one = new int(7);
  CHECK(ours(one) && *one == 7);
  delete one;
  char* arr = new char[1000];
  CHECK(ours(arr));
  delete[] arr;
  void* p = keep(::operator new(100));
  CHECK(ours(p));
  ::operator delete(p, 100);                  // sized delete
  p = keep(::operator new[](100));
  CHECK(ours(p));
  ::operator delete[](p, 100);                // sized array delete
  p = keep(::operator new(0));
  CHECK(ours(p));
  ::operator delete(p);

  // ---- nothrow ----
  p = keep(::operator new(200, std::nothrow));
  CHECK(ours(p));
  ::operator delete(p, std::nothrow);
  p = keep(::operator new[](200, std::nothrow));
  CHECK(ours(p));
  ::operator delete[](p, std::nothrow);
  CHECK(::operator new(too_big, std::nothrow) == nullptr);
  CHECK(::operator new[](too_big, std::nothrow) == nullptr);

  // ---- aligned (C++17) ----
  Wide* w = new Wide;
  CHECK(ours(w) && aligned(w, 128));
  delete w;
  Wide* ws = new Wide[5];
  CHECK(ours(ws) && aligned(ws, 128));
  delete[] ws;
  for (std::size_t al = 16; al <= (std::size_t)1 << 20; al *= 4) {
    p = keep(::operator new(3 * al + 1, std::align_val_t(al)));
    CHECK(ours(p) && aligned(p, al));
    ::operator delete(p, std::align_val_t(al));
    p = keep(::operator new[](al, std::align_val_t(al)));
    CHECK(ours(p) && aligned(p, al));
    ::operator delete[](p, al, std::align_val_t(al));        // sized + aligned
    p = keep(::operator new(al, std::align_val_t(al), std::nothrow));
    CHECK(ours(p) && aligned(p, al));
    ::operator delete(p, std::align_val_t(al), std::nothrow);
    p = keep(::operator new[](al, std::align_val_t(al), std::nothrow));
    CHECK(ours(p) && aligned(p, al));
    ::operator delete[](p, std::align_val_t(al), std::nothrow);
    p = keep(::operator new(al, std::align_val_t(al)));
    ::operator delete(p, al, std::align_val_t(al));
    p = keep(::operator new[](al, std::align_val_t(al)));
    ::operator delete[](p, std::align_val_t(al));
  }
  CHECK(::operator new(too_big, std::align_val_t(64), std::nothrow) == nullptr);
  CHECK(::operator new[](too_big, std::align_val_t(64), std::nothrow) == nullptr);

  // ---- failure: std::bad_alloc, the new-handler protocol ----
  bool caught = false;
  try { keep(::operator new(too_big)); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);
  caught = false;
  try { keep(::operator new[](too_big)); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);
  caught = false;
  try { keep(::operator new(too_big, std::align_val_t(256))); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);
  caught = false;
  try { keep(::operator new[](too_big, std::align_val_t(256))); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);

  handler_calls = 0;
  std::set_new_handler(&give_up_handler);     // called until it uninstalls itself, then bad_alloc
  caught = false;
  try { keep(::operator new(too_big)); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught && handler_calls == 3);
  handler_calls = 0;
  std::set_new_handler(&give_up_handler);
  CHECK(::operator new(too_big, std::nothrow) == nullptr && handler_calls == 3);

  std::set_new_handler(&throwing_handler);    // the handler's own exception goes through us
  int code = 0;
  try { keep(::operator new(too_big)); } catch (const HandlerError& e) { code = e.code; }
  CHECK(code == 42);
  std::set_new_handler(nullptr);

  // the mi_new family (C entry points) throws too
  typedef void* (new_n_fun)(std::size_t, std::size_t);
  new_n_fun* mi_new_n = reinterpret_cast<new_n_fun*>(need("mi_new_n"));
  caught = false;
  try { keep(mi_new_n(SIZE_MAX / 2, 4)); } catch (const std::bad_alloc&) { caught = true; }
  CHECK(caught);
  p = keep(mi_new_n(10, 10));
  CHECK(ours(p));
  std::free(p);

  // ---- the standard library at work, on several threads ----
  std::vector<std::thread> threads;
  std::vector<std::size_t> sums(4);
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([t, &sums] {
      std::map<std::string, std::vector<int>> m;
      for (int i = 0; i < 20000; i++) {
        m[std::to_string(i * (t + 1))].push_back(i);
        if (i % 3 == 0) m.erase(std::to_string(i / 2));
      }
      std::size_t s = 0;
      for (auto& kv : m) s += kv.first.size() + kv.second.size();
      sums[t] = s;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; t++) CHECK(sums[t] > 0);
  std::string* str = new std::string(5000, 'q');
  CHECK(ours(str) && ours(str->data()));
  delete str;

  if (failures == 0) std::printf("preload-cxx: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
