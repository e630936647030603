/* A C program (no C++ runtime at start-up) that dlopens a C++ module: see preload-cxx-plugin.cpp. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) { fprintf(stderr, "usage: preload-cxx-dlopen PLUGIN.so\n"); return 2; }
  void* h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
  int (*run)(void) = (int (*)(void))dlsym(h, "plugin_run");
  if (run == NULL) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
  int r = run();
  dlclose(h);
  return (r == 0 ? 0 : 1);
}
