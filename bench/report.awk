# bench/report.awk -- turn the medians CSV of run.sh into the results table, chart data and goals.
#
# awk -F, -v allocs=glibc,jemalloc,... -v ref=mimalloc -v runs=5 -v csvout=F -v tdat=F -v rdat=F \
#     -v goals=F -f report.awk medians.csv  > table.md
# Input columns: workload,allocator,runs,fails,wall_s,cpu_s,maxrss_kb

function fmt_ratio(x) { return (x == "") ? "" : sprintf("%.2f", x) }
function has(w, a) { return ((w SUBSEP a) in wall) }
function geo_add(key, v) { if (v > 0) { gsum[key] += log(v); gcnt[key]++ } }
function geo(key) { return gcnt[key] ? exp(gsum[key] / gcnt[key]) : 0 }

BEGIN { na = split(allocs, A, ",") }
$1 == "workload" { next }
{
  k = $1 SUBSEP $2
  if (!($1 in wseen)) { wseen[$1] = 1; W[++nw] = $1 }
  fails[k] = $4
  if ($5 != "") { wall[k] = $5; cpu[k] = $6; rss[k] = $7 }
}
END {
  # ---- CSV with ratios ----
  print "workload,allocator,runs,fails,wall_s,cpu_s,maxrss_kb,time_ratio_" ref ",rss_ratio_" ref > csvout
  for (i = 1; i <= nw; i++) for (j = 1; j <= na; j++) {
    w = W[i]; a = A[j]; k = w SUBSEP a
    if (!(k in fails)) continue
    tr = ""; rr = ""
    if (has(w, a) && has(w, ref)) { tr = wall[k] / wall[w SUBSEP ref]; rr = rss[k] / rss[w SUBSEP ref] }
    printf "%s,%s,%d,%d,%s,%s,%s,%s,%s\n", w, a, runs, fails[k], wall[k], cpu[k], rss[k], fmt_ratio(tr), fmt_ratio(rr) > csvout
  }

  # ---- chart data: one row per workload, one column per allocator ----
  hdr = "workload"; for (j = 1; j <= na; j++) hdr = hdr " " A[j]
  print hdr > tdat; print hdr > rdat
  for (i = 1; i <= nw; i++) {
    w = W[i]; lt = w; lr = w
    for (j = 1; j <= na; j++) {
      a = A[j]
      if (has(w, a) && has(w, ref)) { lt = lt sprintf(" %.4f", wall[w SUBSEP a] / wall[w SUBSEP ref]); lr = lr sprintf(" %.4f", rss[w SUBSEP a] / rss[w SUBSEP ref]) }
      else { lt = lt " 0"; lr = lr " 0" }
    }
    print lt > tdat; print lr > rdat
  }

  # ---- geometric means over the workloads every allocator completed ----
  ncommon = 0
  for (i = 1; i <= nw; i++) {
    w = W[i]; ok = 1
    for (j = 1; j <= na; j++) if (!has(w, A[j])) ok = 0
    if (!ok) continue
    ncommon++
    for (j = 1; j <= na; j++) {
      a = A[j]
      geo_add("t" a, wall[w SUBSEP a]); geo_add("r" a, rss[w SUBSEP a]); geo_add("c" a, cpu[w SUBSEP a])
    }
  }

  # ---- markdown ----
  line = "| workload |"; sep = "|---|"
  for (j = 1; j <= na; j++) { line = line " " A[j] " |"; sep = sep "---:|" }
  printf "### Wall time: median of %d runs in seconds (ratio to %s)\n\n%s\n%s\n", runs, ref, line, sep
  for (i = 1; i <= nw; i++) {
    w = W[i]; l = "| " w " |"
    for (j = 1; j <= na; j++) {
      a = A[j]; k = w SUBSEP a
      if (!has(w, a)) { l = l ((k in fails) ? " failed |" : " – |"); continue }
      c = sprintf(" %.3f", wall[k])
      if (has(w, ref)) c = c sprintf(" (%.2f×)", wall[k] / wall[w SUBSEP ref])
      if (fails[k] > 0) c = c " ⚠" fails[k] " failed"
      l = l c " |"
    }
    print l
  }
  l = "| **geometric mean** |"
  for (j = 1; j <= na; j++) l = l sprintf(" **%.3f (%.2f×)** |", geo("t" A[j]), geo("t" ref) > 0 ? geo("t" A[j]) / geo("t" ref) : 0)
  print l

  printf "\n### Peak RSS: median in MiB (ratio to %s)\n\n%s\n%s\n", ref, line, sep
  for (i = 1; i <= nw; i++) {
    w = W[i]; l = "| " w " |"
    for (j = 1; j <= na; j++) {
      a = A[j]; k = w SUBSEP a
      if (!has(w, a)) { l = l " – |"; continue }
      c = sprintf(" %.1f", rss[k] / 1024)
      if (has(w, ref)) c = c sprintf(" (%.2f×)", rss[k] / rss[w SUBSEP ref])
      l = l c " |"
    }
    print l
  }
  l = "| **geometric mean** |"
  for (j = 1; j <= na; j++) l = l sprintf(" **%.1f (%.2f×)** |", geo("r" A[j]) / 1024, geo("r" ref) > 0 ? geo("r" A[j]) / geo("r" ref) : 0)
  print l

  printf "\n### CPU time (user+sys): median in seconds\n\n%s\n%s\n", line, sep
  for (i = 1; i <= nw; i++) {
    w = W[i]; l = "| " w " |"
    for (j = 1; j <= na; j++) { k = w SUBSEP A[j]; l = l (has(w, A[j]) ? sprintf(" %.3f |", cpu[k]) : " – |") }
    print l
  }
  printf "\nGeometric means over the %d workloads that every allocator completed.\n", ncommon

  # ---- goals (issue 6), measured values beside them ----
  if (!has_mimic()) { print "(mimic not measured: goals not evaluated)" > goals; exit }
  g = geo("tmimic"); best = 0; bestname = ""
  for (j = 1; j <= na; j++) if (A[j] != "mimic" && (best == 0 || geo("t" A[j]) < best)) { best = geo("t" A[j]); bestname = A[j] }
  out = ""
  if (best > 0) {
    r = g / best
    out = out sprintf("- geometric-mean time <= 0.95x best peer (%s): measured %.3fx  %s\n", bestname, r, r <= 0.95 ? "MET" : "NOT MET")
  }
  if (geo("tglibc") > 0) {
    out = out sprintf("  (geometric-mean time vs glibc:")
    for (j = 1; j <= na; j++) out = out sprintf(" %s %.2fx", A[j], geo("t" A[j]) / geo("tglibc"))
    out = out ")\n"
  }
  if (geo("tmimalloc") > 0) {
    worst = 0; wname = ""; slow = ""
    for (i = 1; i <= nw; i++) {
      w = W[i]
      if (!has(w, "mimic") || !has(w, "mimalloc")) continue
      r = wall[w SUBSEP "mimic"] / wall[w SUBSEP "mimalloc"]
      if (r > worst) { worst = r; wname = w }
      if (r > 1.10) slow = slow sprintf(" %s %.2fx;", w, r)
    }
    out = out sprintf("- no workload slower than 1.10x mimalloc: worst %s %.2fx  %s%s\n", wname, worst, worst <= 1.10 ? "MET" : "NOT MET", slow != "" ? "  (over:" slow ")" : "")
  }
  if (has("malloc-large", "mimic") && has("malloc-large", "glibc")) {
    r = wall["malloc-large" SUBSEP "mimic"] / wall["malloc-large" SUBSEP "glibc"]
    out = out sprintf("- malloc-large at least as fast as glibc: mimic/glibc %.2fx  %s\n", r, r <= 1.0 ? "MET" : "NOT MET")
  }
  if (geo("rglibc") > 0) {
    r = geo("rmimic") / geo("rglibc")
    out = out sprintf("- geometric-mean peak RSS <= 1.05x glibc: measured %.2fx  %s  (", r, r <= 1.05 ? "MET" : "NOT MET")
    for (j = 1; j <= na; j++) out = out sprintf("%s%s %.2fx", j > 1 ? ", " : "", A[j], geo("r" A[j]) / geo("rglibc"))
    out = out ")\n"
  }
  printf "%s", out > goals
}
function has_mimic(   j) { for (j = 1; j <= na; j++) if (A[j] == "mimic") return 1; return 0 }
