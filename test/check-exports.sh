#!/bin/sh
# check-exports.sh LIB SOURCE_DIR -- the shared library exports exactly the public API: the 159
# mi_ functions (the list in test-link.c) plus, in override builds, the libc/glibc and C++ names.
# Internal (_mi_) or stray symbols leaking out of the library fail the test.
set -eu
lib=$1; src=$2
command -v nm >/dev/null 2>&1 || { echo "nm not found: skipped"; exit 77; }
api=$(sed -n 's/^  F(\(mi_[a-z0-9_]*\)),$/\1/p' "$src/test/test-link.c" | sort)
allowed_libc="malloc calloc realloc free cfree reallocarray reallocf posix_memalign aligned_alloc memalign
valloc pvalloc malloc_usable_size malloc_size malloc_good_size strdup strndup __libc_malloc __libc_calloc
__libc_realloc __libc_free __libc_cfree __libc_valloc __libc_pvalloc __libc_memalign __posix_memalign
mallinfo mallinfo2 malloc_trim malloc_stats malloc_info mallopt"
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
bad=0
for s in $exported; do
  case "$s" in
    _Znw*|_Zna*|_Zdl*|_Zda*) continue ;;            # C++ operator new/delete
  esac
  if echo "$api" | grep -qx "$s"; then continue; fi
  if echo " $allowed_libc " | tr '\n' ' ' | grep -q " $s "; then continue; fi
  echo "unexpected export: $s"; bad=$((bad + 1))
done
missing=0
for s in $api; do
  echo "$exported" | grep -qx "$s" || { echo "missing export: $s"; missing=$((missing + 1)); }
done
n=$(echo "$api" | wc -l)
echo "$n API functions checked; unexpected exports: $bad; missing: $missing"
[ "$bad" -eq 0 ] && [ "$missing" -eq 0 ]
