# Checks python numerics: math functions, big integers, decimal contexts and rounding, fractions, float formatting and rounding.
import math
from decimal import Decimal, getcontext, ROUND_HALF_EVEN, ROUND_HALF_UP, localcontext
from fractions import Fraction

print(math.sqrt(2), math.pi, math.e, math.tau)
print(math.floor(-2.5), math.ceil(-2.5), math.trunc(-2.5), round(2.5), round(3.5), round(-0.5))
print(math.gcd(462, 1071), math.lcm(4, 6, 10), math.factorial(25), math.comb(52, 5), math.perm(10, 3))
print(math.isqrt(10**30 + 12345), math.log2(1024), math.log10(0.001), math.log(math.e ** 3))
print(math.hypot(3, 4), math.atan2(1, -1), math.degrees(math.pi / 3), math.fsum([0.1] * 10), sum([0.1] * 10))
print(math.isnan(float("nan")), math.isinf(-math.inf), math.copysign(1, -0.0), math.frexp(48.0), math.ldexp(0.75, 6))
print(2 ** 200, (2 ** 200) % 1000007, pow(3, 10**6, 10**9 + 7), pow(17, -1, 3120))
print(divmod(-17, 5), -17 // 5, -17 % 5, 7 / 2, int("-0x1f", 16), int("1" * 40) * 3)
print((255).to_bytes(4, "big"), int.from_bytes(b"\xff\x00", "little"), (1000).bit_length(), bin(37), oct(64), hex(-255))
print(f"{1/3:.10f} {1e-7!r} {123456789.0:e} {float('inf')} {0.1 + 0.2!r} {2.675:.2f}")

getcontext().prec = 30
print(Decimal(1) / Decimal(7), Decimal("0.1") + Decimal("0.2"), Decimal(2).sqrt())
print(Decimal("2.675").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), Decimal("2.665").quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
with localcontext() as ctx:
    ctx.prec = 5
    print(Decimal(22) / Decimal(7), Decimal("1.23456789") * 1)
print(Decimal("1e3").normalize(), Decimal("-0"), Decimal("NaN").is_nan(), Decimal(0.1))

a, b = Fraction(3, 4), Fraction("5/6")
print(a + b, a * b, a / b, a - b, a ** 2, float(a), Fraction(0.125), Fraction(1, 3).limit_denominator(10))
print(sum(Fraction(1, n * (n + 1)) for n in range(1, 100)), Fraction(355, 113) > Fraction(math.pi), abs(Fraction(-7, 3)))
print(complex(3, 4) * complex(1, -1), abs(3 + 4j), (1j) ** 2)
