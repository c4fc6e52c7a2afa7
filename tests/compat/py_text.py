# Checks python text handling: textwrap, str formatting (format spec, f-strings, %), unicode normalisation and case folding, string methods, io.StringIO, and csv.
import csv
import io
import string
import textwrap
import unicodedata

para = ("Wisp runs unmodified Linux programs inside a kernel-less virtual machine, "
        "serving every system call from a Linux personality that lives on the host.")
print(textwrap.fill(para, width=40))
print(textwrap.indent(textwrap.fill(para, 30, max_lines=3, placeholder=" [...]"), "> "))
print(repr(textwrap.dedent("    a\n      b\n    c\n")), textwrap.shorten(para, 50))

print("{:>10}|{:<10}|{:^10}|".format("right", "left", "mid"))
print("{0:08.3f} {0:+.2e} {1:,} {1:_x} {2:b} {3:.1%} {4!r}".format(3.14159, 1234567, 10, 0.256, "q"))
name, n = "wisp", 42
print(f"{name!s:*^12} {n:#06x} {n:o} {n * 1.5=} {'nested ' + name.upper():.9}")
print("%s has %d items costing %.2f (%5.1f%%)" % ("cart", 3, 19.989, 12.5))
print(string.Template("$who likes $$ and ${what}s").substitute(who="ann", what="byte"))

s = "  Hello, Wörld!  "
print(repr(s.strip()), s.split(","), "-".join(["a", "b", "c"]), s.count("l"), s.find("W"), s.replace("l", "L", 2))
print("straße".upper(), "STRASSE".casefold() == "straße".casefold(), "ǅ".lower(), "title case words".title())
print(unicodedata.name("é"), unicodedata.normalize("NFD", "é").encode("utf-8"), len(unicodedata.normalize("NFC", "e\u0301")))
print("日本語".encode("utf-8"), "日本語".encode("utf-16-le").hex(), b"\xe2\x9c\x93".decode(), "abc".encode("ascii").decode("latin-1"))
print("x".zfill(4), "42".rjust(5, "."), "a,b,,c".split(","), "a b  c".split(), "line1\nline2\r\nline3".splitlines())
print(str.maketrans("abc", "xyz"), "aabbcc".translate(str.maketrans("abc", "xyz", "c")), "wisp"[::-1], "isdigit:", "123".isdigit())

buf = io.StringIO()
w = csv.writer(buf)
w.writerows([["name", "note"], ["ann", "says \"hi\""], ["bob", "a, b"]])
print(buf.getvalue().replace("\r\n", "\\n"))
print(list(csv.DictReader(io.StringIO(buf.getvalue()))))
