# Checks busybox sh file tests on /etc and /tmp paths, reading a file with the read builtin, redirections, and cd/pwd.
for p in /etc /tmp /etc/passwd /dev/null /nonexistent-wisp; do
    kind=missing
    if [ -d "$p" ]; then kind=directory
    elif [ -f "$p" ]; then kind=file
    elif [ -c "$p" ]; then kind=chardev
    elif [ -e "$p" ]; then kind=other
    fi
    echo "$p: $kind"
done
[ -r /etc/passwd ] && echo "/etc/passwd readable"
[ -s /etc/passwd ] && echo "/etc/passwd non-empty"
[ -w /dev/null ] && echo "/dev/null writable"
[ /etc -ef /etc/. ] && echo "/etc -ef /etc/. true"

read -r first < /etc/passwd
case "$first" in
    root:*) echo "first passwd line starts with root:" ;;
    *) echo "first passwd line unexpected" ;;
esac
IFS=: read -r user pw uid rest < /etc/passwd
echo "split fields: user=$user uid=$uid"

lines=0
while IFS= read -r line; do lines=$((lines + 1)); done < /etc/passwd
[ $lines -gt 0 ] && echo "counted passwd lines: more than zero"

echo "discarded" > /dev/null
echo "to stderr" 2>/dev/null >&2
exec 3</etc/passwd
read -r again <&3
exec 3<&-
[ "$again" = "$first" ] && echo "fd 3 read matches"

cd /tmp && pwd
cd / && pwd
cd /etc && echo "now in $PWD"
cd .. && echo "parent is $PWD"
cd /nonexistent-wisp 2>/dev/null || echo "cd to missing dir failed"
echo "still in $PWD"
