#!/bin/sh
# expect.sh REGEX... -- COMMAND [ARGS...]
# Runs COMMAND with stdout and stderr captured together; passes when it exits with 0 and every
# extended REGEX matches some line of the output. Prints the output when anything fails.
set -u
n=0
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  n=$((n + 1)); eval "pat_$n=\$1"; shift
done
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || { echo "expect.sh: no command" >&2; exit 2; }
out=$("$@" 2>&1)
rc=$?
fail=0
if [ $rc -ne 0 ]; then echo "expect.sh: '$*' exited with $rc" >&2; fail=1; fi
i=1
while [ $i -le $n ]; do
  eval "pat=\$pat_$i"
  if ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
    echo "expect.sh: no output line matches /$pat/" >&2; fail=1
  fi
  i=$((i + 1))
done
if [ $fail -ne 0 ]; then printf '%s\n' "---- output ----" "$out" >&2; exit 1; fi
exit 0
