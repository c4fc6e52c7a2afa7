# Checks busybox sh process features: subshell exit statuses, background jobs with wait and $!, wait on a specific job's status, traps for USR1 sent with kill $$, EXIT traps in subshells, that $$ is the same in a subshell, statuses of children killed by signals (143, 137), 126/127 for non-executable and missing commands, and a final exit status of 6.
(exit 3); echo "subshell (exit 3): $?"
( echo "in subshell"; exit 0 ); echo "subshell status: $?"
sh_pid=$$
sub_pid=$( echo $$ )
[ "$sh_pid" = "$sub_pid" ] && echo "\$\$ same in \$(...): yes"
dir=$(mktemp -d /tmp/wisp-procs-sh_jobs-XXXXXX)
( sleep 0.05; echo a > "$dir/a" ) &
( echo b > "$dir/b" ) &
wait
echo "after wait: $(cat "$dir/a" "$dir/b" | tr '\n' ' ')"
( exit 7 ) &
p=$!
wait $p
echo "wait \$! status: $?"
sh -c 'exit 12' &
q=$!
( exit 4 ) &
r=$!
wait $r; rs=$?
wait $q; qs=$?
echo "statuses in fixed order: q=$qs r=$rs"
for i in 1 2 3; do ( echo "job $i" > "$dir/job$i" ) & done
wait
cat "$dir/job1" "$dir/job2" "$dir/job3"
trap 'echo trapped USR1' USR1
kill -USR1 $$
echo "after kill -USR1"
trap - USR1
( trap 'echo subshell exit trap' EXIT; echo "subshell body" )
sh -c 'kill -TERM $$; echo not reached'; echo "child shell killed itself with TERM: $?"
sh -c 'kill -KILL $$'; echo "child shell killed by KILL: $?"
sh -c 'exit 255'; echo "exit 255: $?"
sh -c 'exit 256'; echo "exit 256 wraps: $?"
/nonexistent-wisp-cmd 2>/dev/null; echo "missing command: $?"
touch "$dir/noexec"; "$dir/noexec" 2>/dev/null; echo "non-executable file: $?"
rm -rf "$dir"
[ -e "$dir" ] || echo "cleaned up"
exit 6
