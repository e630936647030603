#!/usr/bin/env bash
# bench/run.sh -- build the benchmark suite and run it under every allocator.
#
#   bench/run.sh [--quick] [--runs N] [--only a,b,...] [--alloc glibc,jemalloc,...]
#                [--mimic PATH/libmimic.so] [--build-dir DIR] [--no-build] [--tag NAME]
#                [--callgrind] [--no-charts] [--list]
#
# Each workload runs under glibc, jemalloc, tcmalloc, Debian's mimalloc and mimic, injected
# with LD_PRELOAD, interleaved (run 1 of every allocator, then run 2, ...), N runs each
# (default 5; --quick: 3 runs of the small argument sets, about two minutes).  Wall time,
# user+sys time and peak RSS come from bench-timeit (fork/exec + wait4 rusage).  Medians and
# ratios to mimalloc go to bench/results/<date>[-quick].{md,csv} (raw runs in -raw.csv),
# charts to bench/results/<date>[-quick]-{time,rss}.{png,svg} when gnuplot is installed.
# The issue-6 goals are printed with the measured values beside them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=""; QUICK=0; ONLY=""; ALLOCS=$ALL_ALLOCATORS; MIMIC_LIB=""; BUILD_DIR="$ROOT_DIR/build-bench"
NO_BUILD=0; TAG=""; DO_CALLGRIND=0; CHARTS=1; LIST=0

# name | program | full-size arguments (the --quick set is the program's own --quick)
WORKLOADS=(
  "cfrac|bench-cfrac|"
  "espresso|bench-espresso|"
  "binary-tree|bench-binary-tree|"
  "churn|bench-churn|"
  "realloc|bench-realloc|"
  "malloc-large|bench-malloc-large|"
  "glibc-simple|bench-glibc-simple|"
  "larson|bench-larson|"
  "xmalloc|bench-xmalloc|"
  "cache-scratch|bench-cache-scratch|"
  "cache-thrash|bench-cache-thrash|"
  "mstress|bench-mstress|"
  "rptest|bench-rptest|"
  "alloc-test|bench-alloc-test|"
  "glibc-thread|bench-glibc-thread|"
  "sh6bench|bench-sh6bench|"
  "sh8bench|bench-sh8bench|"
  "fastpath|bench-fastpath|"
  "arena-malloc|bench-arena-malloc|"
)

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while (( $# )); do
  case $1 in
    --quick) QUICK=1 ;;
    --runs) RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --alloc|--allocators) ALLOCS=$2; shift ;;
    --mimic) MIMIC_LIB=$2; shift ;;
    --build-dir) BUILD_DIR=$2; shift ;;
    --no-build) NO_BUILD=1 ;;
    --tag) TAG=$2; shift ;;
    --callgrind) DO_CALLGRIND=1 ;;
    --no-charts) CHARTS=0 ;;
    --list) LIST=1 ;;
    -h|--help) usage 0 ;;
    *) say "unknown option $1"; usage 2 ;;
  esac
  shift
done
[[ -z $RUNS ]] && RUNS=$(( QUICK ? 3 : 5 ))
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"

if (( LIST )); then
  for w in "${WORKLOADS[@]}"; do printf '%s\n' "${w%%|*}"; done
  printf 'heap-arena\n'
  exit 0
fi

# ---- select workloads -------------------------------------------------------------
SELECTED=()
want_heap_arena=1
if [[ -n $ONLY ]]; then
  want_heap_arena=0
  IFS=',' read -r -a _only <<<"$ONLY"
  for o in "${_only[@]}"; do
    found=0
    [[ $o == heap-arena ]] && { want_heap_arena=1; found=1; }
    for w in "${WORKLOADS[@]}"; do [[ ${w%%|*} == "$o" ]] && { SELECTED+=("$w"); found=1; }; done
    (( found )) || die "unknown workload '$o' (see --list)"
  done
else
  SELECTED=("${WORKLOADS[@]}")
fi

# ---- build ------------------------------------------------------------------------
if (( NO_BUILD )); then
  BENCH_BIN=$BUILD_DIR/bench
  [[ -x $BENCH_BIN/bench-timeit ]] || BENCH_BIN=$BUILD_DIR/standalone
  [[ -x $BENCH_BIN/bench-timeit ]] || die "no built benchmarks in $BUILD_DIR (drop --no-build)"
  BUILT_MIMIC=""
  [[ -e $BUILD_DIR/libmimic.so ]] && BUILT_MIMIC=$(readlink -f "$BUILD_DIR/libmimic.so")
else
  mkdir -p "$BUILD_DIR"
  build_bench "$BUILD_DIR"
fi
TIMEIT=$BENCH_BIN/bench-timeit
[[ -x $TIMEIT ]] || die "bench-timeit missing in $BENCH_BIN"

MIMIC=$(find_mimic "$MIMIC_LIB")
[[ -z $MIMIC_LIB && -n $BUILT_MIMIC ]] && MIMIC=$BUILT_MIMIC
setup_allocators "$ALLOCS" "$MIMIC" "$BENCH_BIN/bench-fastpath"
REF=mimalloc
[[ " ${ALLOC_NAMES[*]} " == *" mimalloc "* ]] || REF=${ALLOC_NAMES[0]}

# ---- output files -----------------------------------------------------------------
RESULTS=$BENCH_DIR/results
mkdir -p "$RESULTS"
[[ -z $TAG ]] && TAG=$(date +%Y-%m-%d)$( (( QUICK )) && echo -quick || true )
BASE=$RESULTS/$TAG
RAW=$BASE-raw.csv
LOG=$BASE.log
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "workload,allocator,run,wall_s,user_s,sys_s,maxrss_kb,status" >"$RAW"
: >"$LOG"

say "allocators: ${ALLOC_NAMES[*]} (ratios to $REF)"
for i in "${!ALLOC_NAMES[@]}"; do say "  ${ALLOC_NAMES[$i]}: ${ALLOC_LIBS[$i]:-(system malloc)}"; done
say "workloads: ${#SELECTED[@]}, runs: $RUNS, mode: $( (( QUICK )) && echo quick || echo full )"

# run_one WORKLOAD ALLOC LIB RUN PROGRAM ARGS...
run_one() {
  local w=$1 a=$2 lib=$3 r=$4; shift 4
  local line status
  : >"$TMP/t"
  set +e
  { echo "== $w / $a / run $r: $*"; } >>"$LOG"
  "$TIMEIT" -p "$lib" -o "$TMP/t" -- "$@" >>"$LOG" 2>&1
  status=$?
  set -e
  line=$(cat "$TMP/t")
  local wall user sys rss st
  wall=$(sed -n 's/.*wall=\([0-9.]*\).*/\1/p' <<<"$line")
  user=$(sed -n 's/.*user=\([0-9.]*\).*/\1/p' <<<"$line")
  sys=$(sed -n 's/.*sys=\([0-9.]*\).*/\1/p' <<<"$line")
  rss=$(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' <<<"$line")
  st=$(sed -n 's/.*status=\([0-9]*\).*/\1/p' <<<"$line")
  [[ -z $st ]] && st=$status
  echo "$w,$a,$r,${wall:-0},${user:-0},${sys:-0},${rss:-0},$st" >>"$RAW"
  if [[ $st != 0 ]]; then say "  FAILED: $w under $a (status $st, see $LOG)"; fi
  printf '  %-14s %-9s run %d: %6.3fs  %7.1f MiB%s\n' "$w" "$a" "$r" "${wall:-0}" \
    "$(awk -v k="${rss:-0}" 'BEGIN{printf "%.1f", k/1024}')" "$( [[ $st != 0 ]] && echo '  FAILED' )" >&2
}

# ---- the interleaved runs ------------------------------------------------------------
START=$(date +%s)
n_alloc=${#ALLOC_NAMES[@]}
for (( r = 1; r <= RUNS; r++ )); do
  say "--- run $r/$RUNS"
  for w in "${SELECTED[@]}"; do
    IFS='|' read -r name prog args <<<"$w"
    [[ -x $BENCH_BIN/$prog ]] || { say "  skip $name: $prog not built"; continue; }
    read -r -a argv <<<"$args"
    (( QUICK )) && argv=(--quick)
    # rotate the starting allocator each run so no allocator always runs first
    for (( k = 0; k < n_alloc; k++ )); do
      i=$(( (k + r - 1) % n_alloc ))
      run_one "$name" "${ALLOC_NAMES[$i]}" "${ALLOC_LIBS[$i]}" "$r" "$BENCH_BIN/$prog" ${argv[@]+"${argv[@]}"}
    done
  done
done

# ---- heap-arena (issue 4): the mimalloc heap API, linked, not preloaded ---------------------
HEAP_MD=""
if (( want_heap_arena )); then
  HA_RAW=$TMP/ha.csv; : >"$HA_RAW"
  ha_variants=()
  [[ -x $BENCH_BIN/bench-heap-arena ]] && ha_variants+=("mimic|bench-heap-arena")
  [[ -x $BENCH_BIN/bench-heap-arena-mimalloc ]] && ha_variants+=("mimalloc|bench-heap-arena-mimalloc")
  if (( ${#ha_variants[@]} )); then
    say "--- heap-arena (mi_heap_destroy vs mi_free vs malloc/free per block)"
    for (( r = 1; r <= RUNS; r++ )); do
      for v in "${ha_variants[@]}"; do
        IFS='|' read -r lname prog <<<"$v"
        for mode in heap mi; do
          margs=(-m "$mode"); (( QUICK )) && margs+=(--quick)
          : >"$TMP/t"
          "$TIMEIT" -o "$TMP/t" -- "$BENCH_BIN/$prog" "${margs[@]}" >>"$LOG" 2>&1 || true
          line=$(cat "$TMP/t")
          echo "heap-arena $mode,$lname,$r,$(sed -n 's/.*wall=\([0-9.]*\) user=\([0-9.]*\) sys=\([0-9.]*\) maxrss_kb=\([0-9]*\) status=\([0-9]*\).*/\1,\2,\3,\4,\5/p' <<<"$line")" >>"$HA_RAW"
        done
      done
    done
    cat "$HA_RAW" >>"$RAW"
    median_table "$HA_RAW" >"$TMP/ha-med.csv"
    HEAP_MD=$(awk -F, -v quick="$QUICK" '
      NR == 1 { next }
      { t[$1 SUBSEP $2] = $5; m[$1 SUBSEP $2] = $7 }
      END {
        print "| library | mi_heap_new + mi_heap_destroy | mi_malloc + mi_free per block | destroy / per-block |"
        print "|---|---:|---:|---:|"
        n = split("mimic mimalloc", L, " ")
        for (i = 1; i <= n; i++) {
          h = t["heap-arena heap" SUBSEP L[i]]; f = t["heap-arena mi" SUBSEP L[i]]
          if (h == "" || f == "") continue
          printf "| %s | %.3f s, %.1f MiB | %.3f s, %.1f MiB | %.2f× |\n", L[i], h, m["heap-arena heap" SUBSEP L[i]] / 1024, f, m["heap-arena mi" SUBSEP L[i]] / 1024, h / f
        }
      }' "$TMP/ha-med.csv")
  else
    say "skip heap-arena: bench-heap-arena(-mimalloc) not built (needs include/mimalloc.h + libmimic / libmimalloc.so.2)"
  fi
fi

# ---- report -----------------------------------------------------------------------------
median_table <(grep -v '^heap-arena' "$RAW") >"$TMP/med.csv"
alloc_csv=$(IFS=,; echo "${ALLOC_NAMES[*]}")
awk -F, -v allocs="$alloc_csv" -v ref="$REF" -v runs="$RUNS" -v csvout="$BASE.csv" \
    -v tdat="$TMP/time.dat" -v rdat="$TMP/rss.dat" -v goals="$TMP/goals.txt" \
    -f "$BENCH_DIR/report.awk" "$TMP/med.csv" >"$TMP/table.md"

# instruction-count goal from the latest callgrind run
if (( DO_CALLGRIND )); then
  bash "$BENCH_DIR/callgrind.sh" --fastpath "$BENCH_BIN/bench-fastpath" --alloc "$alloc_csv" ${MIMIC:+--mimic "$MIMIC"} >&2 || say "callgrind.sh failed"
fi
CG=$RESULTS/callgrind-latest.csv
if [[ -f $CG ]] && grep -q ',mimic,' "$CG"; then
  awk -F, '
    NR == 1 { next }
    { v[$1 SUBSEP $2] = $3; if (!($1 in s)) { s[$1] = 1; S[++n] = $1 } }
    END {
      for (i = 1; i <= n; i++) {
        z = S[i]; m = v[z SUBSEP "mimic"]; best = ""; bn = ""
        for (k in v) { split(k, p, SUBSEP); if (p[1] == z && p[2] != "mimic" && (best == "" || v[k] + 0 < best + 0)) { best = v[k]; bn = p[2] } }
        if (m == "") continue
        if (best == "") { printf "- instructions per malloc+free pair at %s: mimic %s, no peer measured (run bench/callgrind.sh for all allocators)\n", z, m; continue }
        printf "- instructions per malloc+free pair at %s below every peer: mimic %s, best peer %s %s  %s\n", z, m, bn, best, (m + 0 < best + 0) ? "MET" : "NOT MET"
      }
    }' "$CG" >>"$TMP/goals.txt"
  CG_NOTE="(instruction counts from $(basename "$(readlink -f "$CG")"))"
else
  CG_NOTE="(no callgrind results with mimic yet: run bench/callgrind.sh for the instruction-count goal)"
fi

# ---- charts -----------------------------------------------------------------------------
chart() {   # chart DAT TITLE OUTBASE
  local dat=$1 title=$2 out=$3 ncol max clip=""
  ncol=$(head -n 1 "$dat" | wc -w)
  max=$(awk 'NR > 1 { for (i = 2; i <= NF; i++) if ($i + 0 > m) m = $i + 0 } END { print m + 0 }' "$dat")
  local ymax
  ymax=$(awk -v m="$max" 'BEGIN { if (m > 4) print 4; else printf "%.2f", m * 1.1 }')
  awk -v m="$max" 'BEGIN { exit !(m > 4) }' && clip=" (bars clipped at 4x)"
  for term in png svg; do
    local t="pngcairo size 1400,600 font ',10'"
    [[ $term == svg ]] && t="svg size 1400,600 dynamic font 'sans,10'"
    gnuplot <<EOF 2>>"$LOG" || { say "gnuplot failed for $out.$term (see $LOG)"; return 0; }
set terminal $t
set output '$out.$term'
set title "$title$clip"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left horizontal reverse Left
set grid ytics
set xtics rotate by -40 scale 0 nomirror
set yrange [0:$ymax]
set ylabel 'ratio to $REF (lower is better)'
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb '#444444'
plot for [i=2:$ncol] '$dat' using i:xtic(1) title columnheader(i)
EOF
  done
}
if (( CHARTS )); then
  if command -v gnuplot >/dev/null; then
    chart "$TMP/time.dat" "Wall time, median of $RUNS runs, relative to $REF" "$BASE-time"
    chart "$TMP/rss.dat" "Peak RSS, median of $RUNS runs, relative to $REF" "$BASE-rss"
  else
    say "no gnuplot: charts skipped ($APT_PEERS)"
  fi
fi

# ---- markdown -----------------------------------------------------------------------------
CPU=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1 || true)
NCPU=$(nproc 2>/dev/null || echo '?')
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
OS=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" || true)
{
  echo "# Benchmark results $TAG"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); mode: $( (( QUICK )) && echo 'quick (--quick argument sets)' || echo full ); $RUNS runs per allocator, interleaved; $(( $(date +%s) - START )) s in total"
  echo "- machine: $CPU, $NCPU CPUs, $MEM, $OS, kernel $(uname -r)"
  for i in "${!ALLOC_NAMES[@]}"; do
    lib=${ALLOC_LIBS[$i]}
    ver=""
    case ${ALLOC_NAMES[$i]} in
      glibc) ver="glibc $(ldd --version 2>/dev/null | awk 'NR == 1 {print $NF}' || true)" ;;
      jemalloc) ver="libjemalloc2 $(dpkg-query -W -f='${Version}' libjemalloc2 2>/dev/null)" ;;
      tcmalloc) ver="libtcmalloc-minimal4 $(dpkg-query -W -f='${Version}' libtcmalloc-minimal4 2>/dev/null)" ;;
      mimalloc) ver="libmimalloc2.0 $(dpkg-query -W -f='${Version}' libmimalloc2.0 2>/dev/null)" ;;
      mimic) ver="mimic $(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo 'uncommitted tree')" ;;
    esac
    echo "- ${ALLOC_NAMES[$i]}: $ver ${lib:+($lib)}"
  done
  echo
  cat "$TMP/table.md"
  if [[ -n $HEAP_MD ]]; then
    echo
    echo "### heap-arena: per-request heaps (median of $RUNS runs, time and peak RSS)"
    echo
    echo "$HEAP_MD"
  fi
  echo
  echo "### Goals (issue 6)"
  echo
  cat "$TMP/goals.txt"
  echo "$CG_NOTE"
  if [[ -f $BASE-time.svg ]]; then
    echo
    echo "![time ratios]($TAG-time.svg)"
    echo "![RSS ratios]($TAG-rss.svg)"
  fi
} >"$BASE.md"

echo
cat "$BASE.md" | sed -n '/^### Wall time/,$p'
echo
say "wrote $BASE.md, $BASE.csv, $RAW$( [[ -f $BASE-time.png ]] && echo ", $BASE-{time,rss}.{png,svg}" ); log in $LOG"
if grep -q ',[1-9][0-9]*$' <(tail -n +2 "$RAW"); then
  say "some runs FAILED (non-zero status): see $LOG"
  exit 1
fi
