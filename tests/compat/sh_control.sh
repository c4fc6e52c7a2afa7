# Checks busybox sh control flow: case, for/while/until, break/continue, functions with local and return codes, recursion, and a final exit status of 3.
classify() {
    case "$1" in
        [0-9]|[0-9][0-9]) echo "$1: number" ;;
        *.c|*.h) echo "$1: C source" ;;
        -*) echo "$1: option" ;;
        "") echo "(empty): nothing" ;;
        *) echo "$1: word" ;;
    esac
}
for w in 7 42 main.c util.h --verbose "" hello; do classify "$w"; done

fib() {
    local n=$1
    if [ "$n" -lt 2 ]; then R=$n; return 0; fi
    fib $((n - 1)); local a=$R
    fib $((n - 2)); R=$((a + R))
}
fib 15; echo "fib 15 = $R"

is_even() { [ $(( $1 % 2 )) -eq 0 ]; }
out=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    if [ $i -eq 11 ]; then break; fi
    is_even $i && continue
    out="$out $i"
done
echo "odd up to 10:$out"

n=0
until [ $n -ge 5 ]; do n=$((n + 1)); done
echo "until reached $n"

status_of() { return $1; }
status_of 7; echo "function returned $?"
false || echo "or-branch after false"
true && echo "and-branch after true"
! false && echo "negation works"

count=0
for a in x y z; do
    for b in 1 2 3; do
        [ "$b" = 2 ] && continue 2
        count=$((count + 1))
    done
done
echo "continue 2 count $count"

v=global
scope() { local v=local; echo "inside $v"; }
scope; echo "outside $v"
echo "exiting with 3"
exit 3
