#!/bin/sh
# real-programs.sh PROGRAM LIBMIMIC WORKDIR
#
# Runs an allocation-heavy workload of a real program twice — with the C library's malloc, then
# with LD_PRELOAD=LIBMIMIC — and passes when both runs succeed with identical output and the
# second run really used mimic (its verbose banner says the override is active). Exits 77 (skip) when the program is
# not installed. PROGRAM: python3 sqlite3 perl lua5.4 git gcc xz zstd.
set -u
prog="$1"
lib="$2"
work="$3"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

case "$prog" in
  python3) exe=/usr/bin/python3; [ -x "$exe" ] || exe=$(command -v python3 || true) ;;
  *)       exe=$(command -v "$prog" || true) ;;
esac
[ -n "$exe" ] && [ -x "$exe" ] || skip "$prog is not installed"
[ -f "$lib" ] || fail "no library at $lib"

rm -rf "$work"
mkdir -p "$work"
cd "$work" || fail "cannot enter $work"

# ---- workloads: each prints a deterministic summary on stdout, working in directory $1 ----------

wl_python3() {
  cat > "$1/work.py" <<'PY'
import hashlib, json, random, threading
random.seed(12345)
d = {}
for i in range(150000):
    k = "k%d" % random.randrange(400000)
    d.setdefault(k, []).append((i, str(i) * (i % 7)))
    if i % 5 == 0:
        d.pop("k%d" % random.randrange(400000), None)
h = hashlib.sha256(json.dumps(sorted(d.items())[:20000]).encode())
blobs = [bytes(random.getrandbits(8) for _ in range(40)) * (i % 9 + 1) for i in range(20000)]
h.update(b"".join(sorted(blobs)))
results = [0] * 4
def work(t):
    acc = 0
    for i in range(30000):
        s = {str(j): [j] * (j % 5) for j in range(i % 50)}
        acc += sum(len(v) for v in s.values())
    results[t] = acc
threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(len(d), sum(results), h.hexdigest())
PY
  "$exe" "$1/work.py"
}

wl_sqlite3() {
  rm -f "$1/db.sqlite"
  "$exe" "$1/db.sqlite" <<'SQL'
PRAGMA journal_mode = OFF;
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL);
BEGIN;
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 200000)
INSERT INTO t(a, b, c)
  SELECT (i * 7919) % 10007,
         substr('abcdefghijklmnopqrstuvwxyz', i % 26 + 1, i % 13 + 1) || '-' || i,
         (i % 1000) / 7.0
  FROM r;
COMMIT;
CREATE INDEX t_a ON t(a);
CREATE INDEX t_b ON t(b);
SELECT count(*), sum(a), printf('%.3f', total(c)), max(b), min(b) FROM t;
SELECT a % 10, count(*), sum(length(b)) FROM t GROUP BY a % 10 ORDER BY 1;
SELECT count(*) FROM t WHERE a BETWEEN 100 AND 2000;
SELECT group_concat(b, ',') FROM (SELECT b FROM t ORDER BY b LIMIT 50);
SELECT count(DISTINCT substr(b, 1, 3)) FROM t;
SQL
}

wl_perl() {
  "$exe" -e '
    use strict; use warnings;
    my %h; my $s = 0;
    for my $i (1 .. 200000) { my $k = join("-", $i % 977, ($i * 31) % 1013); push @{ $h{$k} }, $i; }
    for my $k (sort keys %h) { $s = ($s * 31 + length($k) + scalar(@{ $h{$k} })) % 1000000007; }
    my @w = map { sprintf("%08x", ($_ * 2654435761) % 4294967296) } 1 .. 100000;
    my $j = join(",", sort @w);
    my %c; $c{substr($_, 0, 2)}++ for @w;
    my $text = "abc " x 100000; $text =~ s/b/xyz/g; my @parts = split / /, $text;
    print length($j), " ", $s, " ", scalar(keys %h), " ", unpack("%32C*", $j), " ", scalar(keys %c), " ", scalar(@parts), "\n";
  '
}

wl_lua5_4() {
  "$exe" -e '
    local t, acc = {}, 0
    for i = 1, 200000 do
      local k = string.format("k%d-%d", i % 977, (i * 31) % 1013)
      local v = t[k]; if not v then v = {}; t[k] = v end
      v[#v + 1] = i
    end
    local keys = {}
    for k, v in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do acc = (acc * 31 + #k + #t[k]) % 1000000007 end
    local parts = {}
    for i = 1, 100000 do parts[i] = string.rep(string.char(97 + i % 26), i % 17) end
    local s = table.concat(parts, ",")
    local n = 0; for w in s:gmatch("[^,]+") do n = n + #w end
    collectgarbage()
    print(#keys, acc, #s, n)
  '
}

wl_git() {
  d="$1"
  export HOME="$d/home" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=mimic GIT_AUTHOR_EMAIL=mimic@example.org \
         GIT_COMMITTER_NAME=mimic GIT_COMMITTER_EMAIL=mimic@example.org \
         GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
  rm -rf "$d/repo" "$d/home"; mkdir -p "$d/home"
  "$exe" init -q "$d/repo" || return 1
  cd "$d/repo" || return 1
  "$exe" config gc.auto 0
  for dir in $(seq 0 29); do mkdir -p "src/d$dir"; done
  awk 'BEGIN { for (d = 0; d < 30; d++) for (f = 0; f < 50; f++) {
    file = sprintf("src/d%d/f%d.txt", d, f)
    for (l = 0; l <= 40; l++) print d * 50 + f + l > file
    close(file) } }' || return 1
  "$exe" add -A && "$exe" commit -q -m "first: 1500 files" || return 1
  for dir in $(seq 0 29); do for f in $(seq 0 9); do echo "change $dir $f" >> "src/d$dir/f$f.txt"; done; done
  "$exe" commit -q -a -m "second: 300 changes" || return 1
  "$exe" mv src/d0 src/moved && "$exe" rm -q -r src/d1 && "$exe" commit -q -m "third: move and delete" || return 1
  "$exe" gc -q || return 1
  "$exe" fsck --full --strict || return 1
  "$exe" rev-parse HEAD
  "$exe" rev-list --count HEAD
  "$exe" ls-tree -r HEAD | cksum
  "$exe" log --stat --format='%H %s' | cksum
  "$exe" diff --stat HEAD~2 HEAD | tail -n 1
  "$exe" count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
  cd "$d" || return 1
}

wl_gcc() {
  awk 'BEGIN {
    print "#include <stddef.h>";
    print "struct node { struct node* next; long v; const char* name; };";
    for (i = 0; i < 400; i++) {
      printf "static const char* names_%d[] = { \"a%d\", \"b%d\", \"c%d\", \"d%d\" };\n", i, i, i, i, i;
      printf "long f%d(struct node* n, long x) {\n  long acc = %d;\n", i, i;
      printf "  for (; n != NULL; n = n->next) {\n    switch ((n->v + x) %% 7) {\n";
      for (c = 0; c < 7; c++) printf "      case %d: acc += n->v * %d + (long)names_%d[%d][0]; break;\n", c, c + i, i, c % 4;
      printf "    }\n    if (acc > %d) acc ^= x << %d;\n  }\n  return acc;\n}\n", i * 13, i % 5;
    }
  }' > "$1/big.c"
  "$exe" -O2 -w -c "$1/big.c" -o "$1/big.o" || return 1
  cksum < "$1/big.o"
  "$exe" -O0 -w -S "$1/big.c" -o - | grep -c '^f[0-9]*:'
}

gen_data() {
  # ~6 MiB of text with repetition: compresses, but not trivially
  [ -f "$1/data" ] || awk 'BEGIN { x = 1; for (i = 0; i < 250000; i++) { x = (x * 1103515245 + 12345) % 2147483648;
    printf "%07d %s %d\n", i, substr("lorem ipsum dolor sit amet consectetur adipiscing elit", x % 40 + 1, 12), x % 1000 } }' > "$1/data"
}

wl_xz() {
  gen_data "$1"
  "$exe" -T2 --block-size=1MiB -3 -c "$1/data" > "$1/data.xz" || return 1
  cksum < "$1/data.xz"
  "$exe" -T2 -d -c "$1/data.xz" | cksum
}

wl_zstd() {
  gen_data "$1"
  "$exe" -T2 -q -6 -B1048576 -c "$1/data" > "$1/data.zst" || return 1
  cksum < "$1/data.zst"
  "$exe" -T2 -q -d -c "$1/data.zst" | cksum
}

wl="wl_$(echo "$prog" | tr '.' '_')"
command -v "$wl" >/dev/null 2>&1 || fail "unknown program '$prog'"

mkdir -p "$work/glibc" "$work/mimic"
( unset LD_PRELOAD; "$wl" "$work/glibc" ) > "$work/out-glibc.txt" 2> "$work/err-glibc.txt" \
  || { cat "$work/err-glibc.txt" >&2; fail "$prog failed under glibc's malloc"; }
( LD_PRELOAD="$lib" MIMIC_VERBOSE=1; export LD_PRELOAD MIMIC_VERBOSE; "$wl" "$work/mimic" ) \
  > "$work/out-mimic.txt" 2> "$work/err-mimic.txt" \
  || { tail -n 40 "$work/err-mimic.txt" >&2; fail "$prog failed under mimic"; }

if ! cmp -s "$work/out-glibc.txt" "$work/out-mimic.txt"; then
  diff "$work/out-glibc.txt" "$work/out-mimic.txt" | head -n 40 >&2
  fail "$prog: output under mimic differs from output under glibc"
fi
grep -q "malloc override: active" "$work/err-mimic.txt" || fail "$prog: mimic was not active (no verbose banner)"
[ -s "$work/out-glibc.txt" ] || fail "$prog: empty output"
echo "PASS: $prog output identical under glibc and mimic:"
head -n 5 "$work/out-mimic.txt"
exit 0
