#!/usr/bin/env bash
# bench/perf-check.sh -- fail if mimic's fast path got more than 5% more expensive.
#
#   bench/perf-check.sh [--lib libmimic.so] [--fastpath EXE] [--baseline FILE] [--tolerance PCT] [--update]
#
# Counts instructions per malloc+free pair for every case of bench/callgrind.sh, with mimic
# preloaded, and compares them with the committed baseline (bench/perf-baseline.txt, lines
# "<case> <instructions>").  Exit 1 if any case exceeds baseline * (1 + tolerance/100)
# (default 5%).  --update rewrites the baseline from this run instead.  Registered in CTest
# as bench-perf-check with label `perf` (not part of the default test run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LIB=""; FASTPATH=""; BASELINE=$BENCH_DIR/perf-baseline.txt; TOL=5; UPDATE=0; N1=100000; N2=300000
while (( $# )); do
  case $1 in
    --lib) LIB=$2; shift ;;
    --fastpath) FASTPATH=$2; shift ;;
    --baseline) BASELINE=$2; shift ;;
    --tolerance) TOL=$2; shift ;;
    --update) UPDATE=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
command -v valgrind >/dev/null || die "valgrind not installed"
LIB=$(find_mimic "$LIB")
[[ -n $LIB && -e $LIB ]] || die "libmimic.so not found (give --lib)"
FASTPATH=$(find_fastpath "$FASTPATH")
[[ -x $FASTPATH ]] || die "bench-fastpath not found (give --fastpath)"

declare -A base=()
if (( ! UPDATE )); then
  [[ -f $BASELINE ]] || die "no baseline $BASELINE (create it with: $0 --update)"
  while read -r c v _; do
    [[ -z $c || $c == \#* ]] && continue
    base[$c]=$v
  done <"$BASELINE"
fi

fail=0
results=()
printf '%-10s %10s %10s %8s\n' case baseline mimic change
for c in $CG_CASES; do
  label=$c; [[ $c =~ ^[0-9]+$ ]] && label="${c}B"
  v=$(cg_pair_cost "$LIB" "$FASTPATH" "$c" "$N1" "$N2") || die "callgrind run failed for $label"
  results+=("$label $v")
  if (( UPDATE )); then printf '%-10s %10s %10s\n' "$label" - "$v"; continue; fi
  b=${base[$label]:-}
  if [[ -z $b ]]; then printf '%-10s %10s %10s   (not in baseline)\n' "$label" - "$v"; continue; fi
  verdict=$(awk -v v="$v" -v b="$b" -v t="$TOL" 'BEGIN { c = (v - b) * 100 / b; printf "%+7.1f%% %s", c, (v > b * (1 + t / 100)) ? "REGRESSION" : "ok" }')
  printf '%-10s %10s %10s %s\n' "$label" "$b" "$v" "$verdict"
  [[ $verdict == *REGRESSION* ]] && fail=1
done

if (( UPDATE )); then
  {
    echo "# bench/perf-baseline.txt -- mimic: instructions per malloc+free pair, by bench/callgrind.sh's method"
    echo "# (Ir of bench-fastpath at N=$N2 minus N=$N1, divided by the difference; 64 live blocks; random = churn step)"
    echo "# written $(date -u '+%Y-%m-%d') by bench/perf-check.sh --update; tree $(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
    echo "# perf-check fails when a case exceeds its value by more than ${TOL}%."
    printf '%s\n' "${results[@]}"
  } >"$BASELINE"
  say "wrote $BASELINE"
  exit 0
fi
(( fail )) && { say "fast-path regression over ${TOL}% against $BASELINE"; exit 1; }
say "fast path within ${TOL}% of $BASELINE"
