# Checks busybox sh arithmetic expansion and parameter/string operations using builtins only.
a=17; b=5
echo "sum $((a + b)) diff $((a - b)) prod $((a * b)) quot $((a / b)) rem $((a % b))"
echo "neg $((-a / b)) negrem $((-a % b)) pow-by-loop:"
p=1; i=0
while [ $i -lt 10 ]; do p=$((p * 2)); i=$((i + 1)); done
echo "2^10 = $p"
echo "bits $((a & b)) $((a | b)) $((a ^ b)) $((1 << 20)) $((a >> 2)) $((~0))"
echo "compare $((a > b)) $((a == b)) $((a != b)) ternary $((a > b ? a : b))"
echo "hex $((0x1f)) octal $((010)) big $((9223372036854775807)) wrap $((9223372036854775807 + 1))"
x=3; x=$((x += 4)); : $((x *= 2)); echo "compound x=$x"

s="hello-wisp-world.tar.gz"
echo "length ${#s}"
echo "strip shortest suffix ${s%.*}"
echo "strip longest suffix ${s%%.*}"
echo "strip shortest prefix ${s#*-}"
echo "strip longest prefix ${s##*-}"
echo "substring ${s:6:4} tail ${s:17}"
echo "replace first ${s/-/_} all ${s//-/_}"
unset u
echo "default ${u:-fallback} still unset '${u}'"
echo "assign ${u:=assigned} now '$u'"
echo "alternate ${u:+present} empty '${nothing:+present}'"
e=""
echo "empty length ${#e} default-on-empty ${e:-x} plain-dash '${e-y}'"
n=007; echo "leading zeros as string $n as number $((1$n - 1000))"
set -- one "two words" three
echo "argc $# first $1 second $2 all $*"
shift; echo "after shift $# $1"
