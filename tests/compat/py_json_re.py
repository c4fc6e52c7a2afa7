# Checks python json encode/decode round trips and the re module (groups, findall, sub, split, flags).
import json
import re

doc = {"name": "wisp", "version": [0, 1, 2], "nested": {"ok": True, "none": None, "pi": 3.25},
       "unicode": "caf\u00e9 \u2713", "escape": "line\nbreak \"quoted\""}
text = json.dumps(doc, sort_keys=True)
print(text)
print(json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False))
back = json.loads(text)
print("round trip equal:", back == doc)
print("types:", type(back["version"]).__name__, type(back["nested"]["pi"]).__name__, back["nested"]["none"])
try:
    json.loads('{"a": 1,}')
except json.JSONDecodeError as e:
    print("decode error at pos", e.pos, "msg", e.msg)
print(json.loads("[1e3, -0.5, 12345678901234567890]"))

log = "2024-01-05 ERROR disk=sda1 used=93%\n2024-01-06 INFO disk=sdb2 used=41%\n2024-02-11 ERROR disk=nvme0n1 used=99%"
pat = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (?P<level>\w+) disk=(?P<disk>\S+) used=(\d+)%$", re.M)
for m in pat.finditer(log):
    print(m.group("level"), m.group("disk"), int(m.group(6)), m.span())
print(re.findall(r"\b[a-z]+\d+\w*", log))
print(re.sub(r"(\d+)%", lambda m: str(int(m.group(1)) // 10) + "/10", log.splitlines()[0]))
print(re.split(r"[,;]\s*", "a, b;c ;d,,e"))
print(bool(re.fullmatch(r"[A-Z][a-z]+", "Wisp")), bool(re.match(r"wisp", "WISP", re.I)))
print(re.escape("a.b*c"), re.sub(r"(?<=a)b", "X", "abab cb"))
