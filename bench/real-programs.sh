#!/usr/bin/env bash
# bench/real-programs.sh -- time real Debian programs under each allocator (issue 5).
#
#   bench/real-programs.sh [--runs N] [--quick] [--only a,b] [--alloc glibc,...] [--mimic PATH]
#                          [--no-install] [--tag NAME]
#
# Programs (each a small job with a checked output):
#   python   python3: dicts, lists, strings and objects, checksum printed
#   sqlite   sqlite3: 200k-row insert in one transaction, an index, aggregates
#   perl     perl: hashes of strings, sort, join/split, checksum
#   lua      lua5.4: tables and string building, checksum
#   git      git: init, commit 200 files (quick: 50) 4 times over, gc --aggressive, fsck
#   gcc      gcc -O1 -c on a generated C file of 1200 functions (quick: 300)
#   xz       xz -T2 -2 compress + decompress of 24 MiB of generated text (quick: 6), sha256
#   zstd     zstd -T2 -9 round trip of the same data
# Each runs under glibc, jemalloc, tcmalloc, Debian's mimalloc and mimic via LD_PRELOAD,
# interleaved, N runs (default 5; --quick: 1 run, smaller jobs), through bench-timeit (wall,
# user+sys, peak RSS over the whole process tree).  Every output is compared with the glibc
# run's.  Missing programs are installed with apt-get when running as root (unless
# --no-install), otherwise the apt line is printed and the program skipped.
# Writes bench/results/real-<date>[-quick].{md,csv}.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=""; QUICK=0; ONLY=""; ALLOCS=$ALL_ALLOCATORS; MIMIC_LIB=""; INSTALL=1; TAG=""
while (( $# )); do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --quick) QUICK=1 ;;
    --only) ONLY=$2; shift ;;
    --alloc|--allocators) ALLOCS=$2; shift ;;
    --mimic) MIMIC_LIB=$2; shift ;;
    --no-install) INSTALL=0 ;;
    --tag) TAG=$2; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
[[ -z $RUNS ]] && RUNS=$(( QUICK ? 1 : 5 ))
SCALE=$(( QUICK ? 1 : 4 ))     # job size multiplier

PROGRAMS=(python sqlite perl lua git gcc xz zstd)
declare -A PKG=([python]=python3 [sqlite]=sqlite3 [perl]=perl [lua]=lua5.4 [git]=git [gcc]=gcc [xz]=xz-utils [zstd]=zstd)
declare -A CMD=([python]=/usr/bin/python3 [sqlite]=sqlite3 [perl]=perl [lua]=lua5.4 [git]=git [gcc]=gcc [xz]=xz [zstd]=zstd)
if [[ -n $ONLY ]]; then IFS=',' read -r -a PROGRAMS <<<"$ONLY"; fi

# ---- packages ---------------------------------------------------------------------
need=()
for p in "${PROGRAMS[@]}"; do
  [[ -n ${PKG[$p]:-} ]] || die "unknown program '$p' (known: python sqlite perl lua git gcc xz zstd)"
  command -v "${CMD[$p]}" >/dev/null || need+=("${PKG[$p]}")
done
if (( ${#need[@]} )); then
  if (( INSTALL )) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing: ${need[*]}"
    apt-get install -y -q --no-install-recommends "${need[@]}" >&2 || say "apt-get failed; missing programs will be skipped"
  else
    say "missing programs; install with: apt-get install --no-install-recommends ${need[*]}"
  fi
fi

# ---- allocators (bench-timeit comes from the benchmark build) ---------------------
TIMEIT=""
for f in "$ROOT_DIR"/build-bench/bench/bench-timeit "$ROOT_DIR"/build-bench/standalone/bench-timeit "$ROOT_DIR"/build*/bench/bench-timeit; do
  [[ -x $f ]] && { TIMEIT=$f; break; }
done
if [[ -z $TIMEIT ]]; then build_bench "$ROOT_DIR/build-bench"; TIMEIT=$BENCH_BIN/bench-timeit; fi
setup_allocators "$ALLOCS" "$(find_mimic "$MIMIC_LIB")" ""

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---- job scripts (each prints a result that must not depend on the allocator) -----------
cat >"$WORK/alloc.py" <<EOF
import sys
n = 150000 * $SCALE
d = {}
objs = []
h = 0
for i in range(n):
    k = "key-%d-%s" % (i, "x" * (i % 17))
    d[k] = [i, str(i * 7), (i, i + 1), {"a": i}]
    if i % 3 == 0:
        objs.append(k.upper() + k[::-1])
    if i % 5 == 0 and len(objs) > 100:
        objs.pop(i % 100)
for k in sorted(d)[::7]:
    v = d[k]
    h = (h * 31 + len(k) + v[0] + len(v[1])) % 1000000007
del d
s = "".join(objs)
print(h, len(objs), len(s), sum(map(len, objs)) % 65521)
EOF
cat >"$WORK/job.sql" <<EOF
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE t (id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
  INSERT INTO t (grp, name, val) SELECT (x * 7919) % 1000, printf('name-%08d-%s', (x * 104729) % 1000003, substr('abcdefghijklmnop', 1 + x % 16)), (x % 977) * 1.5 FROM c;
COMMIT;
CREATE INDEX t_name ON t (name);
CREATE INDEX t_grp ON t (grp, val);
SELECT count(*), sum(val), count(DISTINCT grp) FROM t;
SELECT grp, count(*), round(avg(val), 3) FROM t GROUP BY grp ORDER BY 3 DESC, 1 LIMIT 5;
SELECT count(*) FROM t WHERE name BETWEEN 'name-0001' AND 'name-0005';
SELECT group_concat(name, ',') IS NOT NULL, length(group_concat(name, ',')) FROM (SELECT name FROM t ORDER BY name LIMIT 5000);
EOF
cat >"$WORK/job.pl" <<EOF
use strict; use warnings;
my \$n = 150000 * $SCALE;
my %h; my @a;
for my \$i (1 .. \$n) {
  my \$k = "k" . (\$i * 7919 % 1000003) . ("-" x (\$i % 13));
  \$h{\$k} = [ \$i, "v\$i" x (1 + \$i % 5) ];
  push @a, join(":", \$k, \$i) if \$i % 3 == 0;
}
my \$sum = 0;
for my \$k (sort keys %h) { \$sum = (\$sum * 33 + length(\$k) + \$h{\$k}[0]) % 1000000007; }
my @parts = map { (split /:/)[0] } @a;
my \$joined = join(",", reverse @parts);
print "\$sum ", scalar(@parts), " ", length(\$joined), "\n";
EOF
cat >"$WORK/job.lua" <<EOF
local n = 120000 * $SCALE
local t, parts = {}, {}
for i = 1, n do
  local k = "k" .. ((i * 7919) % 1000003) .. string.rep("-", i % 11)
  t[k] = { i, tostring(i * 3), { x = i } }
  if i % 4 == 0 then parts[#parts + 1] = k .. ":" .. i end
end
local keys = {}
for k in pairs(t) do keys[#keys + 1] = k end
table.sort(keys)
local h = 0
for i = 1, #keys, 3 do h = (h * 31 + #keys[i] + t[keys[i]][1]) % 1000000007 end
local s = table.concat(parts, ",")
print(h, #keys, #s)
EOF
cat >"$WORK/git.sh" <<EOF
set -e
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 HOME=\$1
r=\$1/repo; rm -rf "\$r"; mkdir -p "\$r"; cd "\$r"
git init -q -b main .
for c in 1 2 3 4; do
  for i in \$(seq 1 $(( 50 * SCALE ))); do
    d=dir\$(( i % 20 )); mkdir -p \$d
    printf 'file %d commit %d\n%s\n' \$i \$c "\$(seq \$i \$(( i + 40 + c )))" > \$d/f\$i.txt
  done
  git add -A; git commit -q -m "commit \$c"
done
git gc -q --aggressive
git fsck --no-progress --strict 2>&1
git rev-parse HEAD; git count-objects -v | grep -E '^(in-pack|packs)'
EOF
awk -v n=$(( 300 * SCALE )) 'BEGIN {
  print "#include <stddef.h>"
  print "#include <string.h>"
  for (i = 0; i < n; i++) {
    printf "struct s%d { int a; long b[%d]; char name[%d]; };\n", i, 1 + i % 7, 8 + i % 24
    printf "int f%d(struct s%d *p, int x) {\n  int r = x;\n", i, i
    printf "  for (int k = 0; k < %d; k++) r += (int)p->b[k %% %d] * (k ^ %d);\n", 1 + i % 5, 1 + i % 7, i
    printf "  if (r > %d) r -= (int)strlen(p->name); else r += p->a;\n", i * 3
    printf "  switch (r & 7) { case 0: r += %d; break; case 1: r ^= %d; break; case 3: r *= 3; break; default: r--; }\n", i, i * 5
    printf "  return r;\n}\n"
  }
}' >"$WORK/big.c"
# 24 MiB (quick: 6 MiB) of compressible, deterministic text
awk -v n=$(( 100000 * SCALE )) 'BEGIN { for (i = 0; i < n; i++) printf "%08d line of text %d %s\n", i, (i * 7919) % 100003, substr("the quick brown fox jumps over the lazy dog", 1 + i % 23) }' >"$WORK/data.txt"

job() {   # job NAME -> command line (as an array in JOB)
  case $1 in
    python) JOB=(/usr/bin/python3 "$WORK/alloc.py") ;;
    sqlite) JOB=(sqlite3 ":memory:" ".read $WORK/job.sql") ;;
    perl)   JOB=(perl "$WORK/job.pl") ;;
    lua)    JOB=(lua5.4 "$WORK/job.lua") ;;
    git)    JOB=(bash "$WORK/git.sh" "$WORK/gitwork") ;;
    gcc)    JOB=(bash -c "gcc -O1 -c '$WORK/big.c' -o '$WORK/big.o' && size -A '$WORK/big.o' | awk '/^.text/ { print \"text\", \$2 }'") ;;
    xz)     JOB=(bash -c "xz -T2 -2 -c '$WORK/data.txt' > '$WORK/d.xz' && xz -T2 -d -c '$WORK/d.xz' | sha256sum") ;;
    zstd)   JOB=(bash -c "zstd -q -T2 -9 -c '$WORK/data.txt' > '$WORK/d.zst' && zstd -q -T2 -d -c '$WORK/d.zst' | sha256sum") ;;
  esac
}

RESULTS=$BENCH_DIR/results
mkdir -p "$RESULTS"
[[ -z $TAG ]] && TAG=real-$(date +%Y-%m-%d)$( (( QUICK )) && echo -quick || true )
BASE=$RESULTS/$TAG
RAW=$BASE-raw.csv
echo "workload,allocator,run,wall_s,user_s,sys_s,maxrss_kb,status" >"$RAW"
declare -A OUTCHK=()
active=()
for p in "${PROGRAMS[@]}"; do
  if command -v "${CMD[$p]}" >/dev/null; then active+=("$p"); else say "skip $p: ${CMD[$p]} not installed"; fi
done
(( ${#active[@]} )) || die "no program to run"

say "allocators: ${ALLOC_NAMES[*]}; programs: ${active[*]}; runs: $RUNS"
n_alloc=${#ALLOC_NAMES[@]}
for (( r = 1; r <= RUNS; r++ )); do
  for p in "${active[@]}"; do
    job "$p"
    for (( k = 0; k < n_alloc; k++ )); do
      i=$(( (k + r - 1) % n_alloc )); a=${ALLOC_NAMES[$i]}
      : >"$WORK/t"
      set +e
      (cd "$WORK" && "$TIMEIT" -p "${ALLOC_LIBS[$i]}" -o "$WORK/t" -- "${JOB[@]}") >"$WORK/out" 2>&1
      set -e
      line=$(cat "$WORK/t")
      vals=$(sed -n 's/.*wall=\([0-9.]*\) user=\([0-9.]*\) sys=\([0-9.]*\) maxrss_kb=\([0-9]*\) status=\([0-9]*\).*/\1,\2,\3,\4,\5/p' <<<"$line")
      [[ -z $vals ]] && vals="0,0,0,0,127"
      # the output must equal the glibc run's (or the first allocator's, without glibc)
      sum=$(sha256sum <"$WORK/out" | cut -c1-16)
      ref=${OUTCHK[$p]:-}
      if [[ -z $ref ]]; then OUTCHK[$p]=$sum; cp "$WORK/out" "$WORK/ref-$p.out"
      elif [[ $sum != "$ref" ]]; then
        say "  OUTPUT DIFFERS: $p under $a:"; diff "$WORK/ref-$p.out" "$WORK/out" | head -n 6 >&2 || true
        vals="${vals%,*},99"
      fi
      echo "$p,$a,$r,$vals" >>"$RAW"
      printf '  %-7s %-9s run %d: %s\n' "$p" "$a" "$r" "$line" >&2
    done
  done
done

median_table "$RAW" >"$WORK/med.csv"
alloc_csv=$(IFS=,; echo "${ALLOC_NAMES[*]}")
REF=mimalloc; [[ " ${ALLOC_NAMES[*]} " == *" mimalloc "* ]] || REF=${ALLOC_NAMES[0]}
awk -F, -v allocs="$alloc_csv" -v ref="$REF" -v runs="$RUNS" -v csvout="$BASE.csv" \
    -v tdat=/dev/null -v rdat=/dev/null -v goals="$WORK/goals.txt" \
    -f "$BENCH_DIR/report.awk" "$WORK/med.csv" >"$WORK/table.md"
{
  echo "# Real programs $TAG"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); $RUNS runs per allocator, interleaved; job scale $SCALE"
  echo "- machine: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1 || true), $(nproc) CPUs"
  echo "- status 99 in the raw CSV marks an output that differed from the reference run"
  echo
  sed -e '/^### CPU time/,$d' "$WORK/table.md"
  if [[ " ${ALLOC_NAMES[*]} " == *" mimic "* && " ${ALLOC_NAMES[*]} " == *" mimalloc "* ]]; then
    echo
    echo "Goal (issue 5): no program slower under mimic than under mimalloc:"
    awk -F, 'NR > 1 && $2 == "mimic" && $8 != "" { n++; if ($8 + 0 > 1.0) { bad++; l = l sprintf(" %s %.2fx;", $1, $8) } } END { printf "%s\n", bad ? "NOT MET (slower:" l ")" : "MET (" n " programs)" }' "$BASE.csv"
  fi
} >"$BASE.md"
sed -n '/^### Wall/,$p' "$BASE.md"
say "wrote $BASE.md, $BASE.csv, $RAW"
if tail -n +2 "$RAW" | grep -q ',[1-9][0-9]*$'; then say "some runs failed or differed (status column)"; exit 1; fi
