#!/usr/bin/env bash
# bench/callgrind.sh -- instructions per malloc+free pair, per size, per allocator.
#
#   bench/callgrind.sh [--alloc glibc,jemalloc,...] [--mimic PATH] [--fastpath EXE]
#                      [--n1 N] [--n2 N] [--cases "16 128 1024 8000 100000 random"]
#
# Runs bench-fastpath under `valgrind --tool=callgrind` (deterministic: counts instructions,
# not time) for every size case and allocator, twice with different pair counts N1 < N2,
# and prints (Ir(N2) - Ir(N1)) / (N2 - N1): the cost of one malloc+free pair with 64 live
# blocks of that size (random: one churn step, 8 B-4 KiB with 4096 live), including the
# loop's own ~8 instructions.  Writes bench/results/callgrind-<date>.csv and
# bench/results/callgrind-latest.csv (read by run.sh for the goal lines); values of cases or
# allocators not measured in this run are kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALLOCS=$ALL_ALLOCATORS; MIMIC_LIB=""; FASTPATH=""; N1=100000; N2=300000; CASES=$CG_CASES
while (( $# )); do
  case $1 in
    --alloc|--allocators) ALLOCS=$2; shift ;;
    --mimic) MIMIC_LIB=$2; shift ;;
    --fastpath) FASTPATH=$2; shift ;;
    --n1) N1=$2; shift ;;
    --n2) N2=$2; shift ;;
    --cases) CASES=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
command -v valgrind >/dev/null || die "valgrind not installed: apt-get install --no-install-recommends valgrind"
(( N2 > N1 )) || die "--n2 must be larger than --n1"
FASTPATH=$(find_fastpath "$FASTPATH")
[[ -x $FASTPATH ]] || die "bench-fastpath not found"
setup_allocators "$ALLOCS" "$(find_mimic "$MIMIC_LIB")" "$FASTPATH"

RESULTS=$BENCH_DIR/results
mkdir -p "$RESULTS"
OUT=$RESULTS/callgrind-$(date +%Y-%m-%d).csv
NEW=$(mktemp); trap 'rm -f "$NEW"' EXIT

read -r -a cases <<<"$CASES"
printf '%-10s' "case"; for a in "${ALLOC_NAMES[@]}"; do printf '%10s' "$a"; done; printf '\n'
for c in "${cases[@]}"; do
  label=$c; [[ $c =~ ^[0-9]+$ ]] && label="${c}B"
  printf '%-10s' "$label"
  for i in "${!ALLOC_NAMES[@]}"; do
    v=$(cg_pair_cost "${ALLOC_LIBS[$i]}" "$FASTPATH" "$c" "$N1" "$N2") || v="error"
    printf '%10s' "$v"
    echo "$label,${ALLOC_NAMES[$i]},$v" >>"$NEW"
  done
  printf '\n'
done
# Merge: the (case, allocator) pairs measured now replace their old values; the others stay, so a
# run of one case or one allocator does not drop the rest (run.sh's goal lines read all of them).
merge() {
  local file=$1 tmp
  tmp=$(mktemp)
  { echo "case,allocator,instructions_per_pair"
    awk -F, 'NR == FNR { seen[$1 "," $2] = 1; print; next }
             FNR > 1 && !(($1 "," $2) in seen)' "$NEW" "$file" 2>/dev/null || cat "$NEW"
  } >"$tmp"
  mv "$tmp" "$file"
}
[[ -f $OUT ]] || : >"$OUT"
[[ -f $RESULTS/callgrind-latest.csv ]] || : >"$RESULTS/callgrind-latest.csv"
merge "$OUT"
merge "$RESULTS/callgrind-latest.csv"
say "instructions per malloc+free pair (Ir difference of N=$N2 and N=$N1 runs); wrote $OUT"
