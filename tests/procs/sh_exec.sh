# Checks busybox sh exec and script execution: a #! script run directly and via sh, arguments and exit status passing, exec with fd redirections in the current shell, exec replacing the shell, env -i / prefix assignments / export for child processes, and a final exec whose exit status 9 becomes the script's.
unset WISP_T
dir=$(mktemp -d /tmp/wisp-procs-sh_exec-XXXXXX)
cat > "$dir/script" <<'EOS'
#!/bin/busybox sh
echo "script: argc=$# args=[$*] name=${0##*/} WISP_T=${WISP_T-unset}"
exit 17
EOS
chmod 755 "$dir/script"
"$dir/script" one "two words"; echo "direct run status: $?"
WISP_T=from-prefix "$dir/script" x; echo "with env prefix: $?"
sh "$dir/script" via-sh; echo "via sh status: $?"
echo "WISP_T after prefix assignment: ${WISP_T-unset}"
export WISP_T=exported
"$dir/script"; echo "exported status: $?"
env -i /bin/busybox sh -c 'echo "env -i: WISP_T=${WISP_T-unset}"'
env WISP_T=changed "$dir/script" e >/dev/null; echo "env command status: $?"
out=$("$dir/script" captured)
echo "captured: $out"
exec 3> "$dir/log"
echo "line via fd 3" >&3
sh -c 'echo "child writes inherited fd 3" >&3'
exec 3>&-
cat "$dir/log"
( sh -c 'echo "fd 3 closed in child: $( (echo x >&3) 2>/dev/null && echo no || echo yes)"' )
exec 4< "$dir/log"
read -r first <&4
sh -c 'read -r second <&4; echo "child continues at shared offset: $second"'
exec 4<&-
echo "parent read: $first"
( cd "$dir" && exec ./script from-exec-in-subshell ); echo "exec in subshell status: $?"
sh -c 'exec sh -c "exit 21"'; echo "nested exec status: $?"
printf 'echo "from stdin script, arg=$1"\nexit 2\n' | sh -s argval; echo "sh -s status: $?"
rm -rf "$dir"
exec /bin/busybox sh -c 'echo "final exec replaces the shell"; exit 9'
echo "not reached"
