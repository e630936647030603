# bench/lib.sh -- helpers shared by run.sh, callgrind.sh, perf-check.sh and real-programs.sh.
# Sourced, not run.  Bash only.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
APT_PEERS="apt-get install --no-install-recommends libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 gnuplot"
ALL_ALLOCATORS="glibc,jemalloc,tcmalloc,mimalloc,mimic"

say()  { printf '%s\n' "$*" >&2; }
die()  { say "error: $*"; exit 1; }

# find_syslib SONAME -> absolute path or empty
find_syslib() {
  local so=$1 p
  # no early exit in awk: with pipefail a SIGPIPE/EPIPE in ldconfig would fail the assignment
  p=$(ldconfig -p 2>/dev/null | awk -v n="$so" '$1 == n && p == "" { p = $NF } END { print p }' || true)
  if [[ -z $p ]]; then
    for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
      [[ -e $d/$so ]] && { p=$d/$so; break; }
    done
  fi
  printf '%s' "$p"
}

# find_mimic [explicit path] -> the explicit one, else build-bench/ or build/ (release builds of
# this tree), else the newest libmimic.so under $ROOT_DIR/build*/
find_mimic() {
  if [[ -n ${1:-} ]]; then
    if [[ -e $1 ]]; then readlink -f "$1"; else say "warning: $1 does not exist"; fi
    return 0
  fi
  local f
  for f in "$ROOT_DIR/build-bench/libmimic.so" "$ROOT_DIR/build/libmimic.so"; do
    if [[ -e $f ]]; then readlink -f "$f"; return 0; fi
  done
  f=$(ls -t "$ROOT_DIR"/build*/libmimic.so "$ROOT_DIR"/build*/*/libmimic.so 2>/dev/null | head -n 1 || true)
  if [[ -n $f ]]; then readlink -f "$f"; fi
  return 0
}

# lib_works LIB -> 0 if a process with LIB preloaded starts, allocates and exits cleanly
lib_works() {
  local lib=$1 probe=${2:-}
  [[ -z $lib ]] && return 0
  LD_PRELOAD=$lib /bin/true 2>/dev/null || return 1
  if [[ -n $probe && -x $probe ]]; then
    LD_PRELOAD=$lib timeout 60 "$probe" -n 20000 >/dev/null 2>&1 || return 1
  fi
  return 0
}

# setup_allocators LIST MIMIC_PATH PROBE_EXE
# fills ALLOC_NAMES[] and ALLOC_LIBS[] (empty lib = glibc), skipping what is missing.
setup_allocators() {
  local list=$1 mimic=$2 probe=${3:-} name lib missing=0
  ALLOC_NAMES=(); ALLOC_LIBS=()
  IFS=',' read -r -a _req <<<"$list"
  for name in "${_req[@]}"; do
    lib=""
    case $name in
      glibc)    lib="" ;;
      jemalloc) lib=$(find_syslib libjemalloc.so.2) ;;
      tcmalloc) lib=$(find_syslib libtcmalloc_minimal.so.4) ;;
      mimalloc) lib=$(find_syslib libmimalloc.so.2) ;;
      mimic)    lib=$mimic ;;
      *) die "unknown allocator '$name' (known: $ALL_ALLOCATORS)" ;;
    esac
    if [[ $name != glibc && -z $lib ]]; then
      if [[ $name == mimic ]]; then
        say "skip mimic: no libmimic.so found (build it: cmake -S $ROOT_DIR -B $ROOT_DIR/build && cmake --build $ROOT_DIR/build)"
      else
        say "skip $name: library not installed"; missing=1
      fi
      continue
    fi
    if [[ -n $lib ]] && command -v nm >/dev/null && ! grep -qw malloc <<<"$(nm -D --defined-only "$lib" 2>/dev/null)"; then
      say "skip $name: $lib does not export malloc (built without MI_OVERRIDE?), LD_PRELOAD would measure glibc"
      continue
    fi
    if ! lib_works "$lib" "$probe"; then
      say "skip $name: $lib does not run the probe program cleanly"
      continue
    fi
    ALLOC_NAMES+=("$name"); ALLOC_LIBS+=("$lib")
  done
  if (( missing )); then
    say "install the missing peers with:  $APT_PEERS"
  fi
  (( ${#ALLOC_NAMES[@]} > 0 )) || die "no allocator available"
}

# build_bench BUILD_DIR  -> sets BENCH_BIN (dir with bench-* executables) and BUILT_MIMIC
# Tries the whole project first (gives libmimic.so as well); falls back to bench/ alone.
build_bench() {
  local bdir=$1 jobs log
  jobs=$(nproc 2>/dev/null || echo 2)
  mkdir -p "$bdir"
  log=$bdir/build.log
  : >"$log"
  BUILT_MIMIC=""
  if cmake -S "$ROOT_DIR" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF >"$log" 2>&1 \
     && cmake --build "$bdir" -j "$jobs" >>"$log" 2>&1; then
    BENCH_BIN=$bdir/bench
    [[ -e $bdir/libmimic.so ]] && BUILT_MIMIC=$(readlink -f "$bdir/libmimic.so")
    say "built project in $bdir"
    return 0
  fi
  say "project build failed (see $log); building bench/ on its own"
  local m
  m=$(find_mimic "${MIMIC_LIB:-}")
  if cmake -S "$BENCH_DIR" -B "$bdir/standalone" -DCMAKE_BUILD_TYPE=Release -DMI_BUILD_TESTS=OFF \
       ${m:+-DBENCH_MIMIC_LIB=$m} >>"$log" 2>&1 \
     && cmake --build "$bdir/standalone" -j "$jobs" >>"$log" 2>&1; then
    BENCH_BIN=$bdir/standalone
    return 0
  fi
  die "cannot build the benchmarks (see $log)"
}

# median_table RAW_CSV > MEDIANS_CSV
# raw lines: workload,allocator,run,wall,user,sys,maxrss_kb,status
# out lines: workload,allocator,runs,fails,wall,cpu,maxrss_kb  (medians over successful runs)
median_table() {
  awk -F, '
    function median(s,   n, a, i, j, t) {
      n = split(s, a, " ")
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      if (n == 0) return ""
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == "workload" { next }
    {
      k = $1 SUBSEP $2
      if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
      runs[k]++
      if ($8 != 0) { fails[k]++; next }
      wall[k] = wall[k] " " $4; cpu[k] = cpu[k] " " ($5 + $6); rss[k] = rss[k] " " $7
    }
    END {
      print "workload,allocator,runs,fails,wall_s,cpu_s,maxrss_kb"
      for (i = 1; i <= nk; i++) {
        k = order[i]; split(k, p, SUBSEP)
        printf "%s,%s,%d,%d,%s,%s,%s\n", p[1], p[2], runs[k], fails[k] + 0, median(wall[k]), median(cpu[k]), median(rss[k])
      }
    }' "$1"
}

# cg_instructions LIB EXE ARGS... -> total instructions (Ir) of one run under callgrind
cg_instructions() {
  local lib=$1; shift
  local out
  out=$(LD_PRELOAD=$lib valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null) || {
    say "valgrind failed: LD_PRELOAD=$lib $*"; printf '%s\n' "$out" | tail -n 5 >&2; return 1; }
  awk '/Collected :/ { v = $NF } END { if (v == "") exit 1; print v }' <<<"$out"
}

# cg_pair_cost LIB EXE CASE N1 N2 -> instructions per malloc+free pair (1 decimal)
# CASE is a size in bytes or "random"; the two runs differ only in the pair count, so
# start-up, the allocator's initialisation and the first fill of the ring cancel out.
cg_pair_cost() {
  local lib=$1 exe=$2 case=$3 n1=$4 n2=$5 a b sel
  if [[ $case == random ]]; then sel=(--random); else sel=(-s "$case"); fi
  a=$(cg_instructions "$lib" "$exe" "${sel[@]}" -n "$n1") || return 1
  b=$(cg_instructions "$lib" "$exe" "${sel[@]}" -n "$n2") || return 1
  awk -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.1f\n", (b - a) / (n2 - n1) }'
}

CG_CASES="16 128 1024 8000 100000 random"

# find_fastpath [explicit] -> path of a built bench-fastpath (builds build-bench if needed)
find_fastpath() {
  local f
  if [[ -n ${1:-} ]]; then printf '%s' "$1"; return 0; fi
  for f in "$ROOT_DIR"/build-bench/bench/bench-fastpath "$ROOT_DIR"/build-bench/standalone/bench-fastpath \
           "$ROOT_DIR"/build*/bench/bench-fastpath; do
    [[ -x $f ]] && { printf '%s' "$f"; return 0; }
  done
  build_bench "$ROOT_DIR/build-bench" >&2
  printf '%s' "$BENCH_BIN/bench-fastpath"
}
