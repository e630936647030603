/* mimic: select the platform layer. The only #if chain on the operating system in src/. */
#if defined(_WIN32)
#include "windows/prim.c"   // planned: VirtualAlloc, FLS callbacks, DLL/TLS-callback thread exit
#elif defined(__unix__) || defined(__APPLE__) || defined(__linux__)
#include "unix/prim.c"
#else
#error "mimic: no platform layer for this OS yet (src/prim/)"
#endif
