# Checks busybox sh here-documents (a pipe inside one process), read with IFS splitting, quoting, and printf builtin formats.
total=0
while read -r name qty price; do
    total=$((total + qty * price))
    printf '%-8s|%3d|%6d\n' "$name" "$qty" "$price"
done <<EOF2
apple 3 120
banana 12 25
cherry 100 3
EOF2
echo "total $total"

who=wisp
cat_lines=0
while IFS= read -r l; do cat_lines=$((cat_lines + 1)); echo "[$l]"; done <<EOF2
expanded $who $((6 * 7))
  leading spaces kept
EOF2
while IFS= read -r l; do echo "{$l}"; done <<'EOF2'
literal $who $((6 * 7))
EOF2
echo "lines $cat_lines"

printf '%s=%d\n' a 1 b 2 c 3
printf '%05d|%-6s|%6s|%x|%o|%c\n' 42 left right 255 8 zulu
printf '%.3s|%%|%b\n' abcdef 'tab\there'
printf 'no newline '; printf 'then one\n'
printf '%s\n' "quoted   spaces" 'single $who' "double $who"
IFS=, read -r f1 f2 f3 <<EOF2
x,y with space,z
EOF2
echo "csv: <$f1> <$f2> <$f3>"
