# Checks busybox sh pipelines and forking applets: seq|grep|wc, sort|uniq -c, xargs, $(...) command substitution (nested), 2>&1 redirection, pipeline exit status, and reading a pipeline into a while loop.
echo "seq 1 500 | grep 3 | wc -l: $(seq 1 500 | grep 3 | wc -l)"
printf 'pear\napple\npear\nfig\napple\npear\n' | sort | uniq -c | while read -r n w; do echo "count $w=$n"; done
echo "xargs: $(seq 1 10 | xargs echo sum-of | tr -s ' ')"
echo "xargs -n 3:"; seq 1 7 | xargs -n 3 echo "  group"
total=0
for n in $(seq 1 100); do total=$((total + n)); done
echo "sum via \$(seq): $total"
echo "nested: $(echo "outer $(echo "inner $(echo deepest)")")"
echo "backticks: `echo old style`"
out=$( { echo to-stdout; echo to-stderr >&2; } 2>&1 )
echo "2>&1 captured: $(echo "$out" | tr '\n' ' ')"
errs=$( ls /nonexistent-wisp-dir 2>&1 >/dev/null | wc -l )
echo "stderr-only lines: $errs"
false | true; echo "status of 'false | true': $?"
true | false; echo "status of 'true | false': $?"
! false; echo "status of '! false': $?"
echo "abc def ghi" | tr ' ' '\n' | tail -n 1
echo "head of 100k line stream: $(seq 1 100000 | head -n 3 | tr '\n' ',')"
seq 1 5 | { read -r a; read -r b; echo "group read: $a $b rest=$(cat | tr '\n' ' ')"; }
n=0
seq 1 3 | while read -r x; do n=$((n + x)); done
echo "variable set in piped while (subshell): n=$n"
echo "awk: $(seq 1 10 | awk '{s += $1} END {print s}')"
echo "sed: $(echo hello world | sed 's/world/wisp/')"
echo "cut: $(echo a:b:c:d | cut -d: -f2,4)"
echo "sort -n -r: $(printf '10\n9\n100\n1\n' | sort -n -r | tr '\n' ' ')"
