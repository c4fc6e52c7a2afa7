# Checks python hashlib digests, zlib/gzip/base64 round trips, and struct packing with explicit byte orders.
import base64
import binascii
import gzip
import hashlib
import struct
import zlib

data = b"The quick brown fox jumps over the lazy dog"
for name in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"):
    print(name, hashlib.new(name, data).hexdigest())
h = hashlib.sha256()
for i in range(1000):
    h.update(str(i).encode())
print("incremental sha256", h.hexdigest())
print("pbkdf2", hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex())
print("crc32", zlib.crc32(data), "adler32", zlib.adler32(data), "binascii crc", binascii.crc32(data))

blob = bytes(range(256)) * 200 + data * 50
comp = zlib.compress(blob, 9)
print("zlib", len(blob), "->", len(comp), "roundtrip", zlib.decompress(comp) == blob)
co = zlib.compressobj(6, zlib.DEFLATED, -15)
raw = co.compress(blob) + co.flush()
print("raw deflate roundtrip", zlib.decompress(raw, -15) == blob)
gz = gzip.compress(data, mtime=0)
print("gzip header", gz[:4].hex(), "roundtrip", gzip.decompress(gz) == data)
print("b64", base64.b64encode(data[:20]).decode(), base64.b32encode(b"wisp").decode(), base64.b16decode(b"77697370"))

packed = struct.pack("<IhQd4s?", 0xDEADBEEF, -2, 2**63 + 5, 1.5, b"ab", True)
print("little", packed.hex(), struct.calcsize("<IhQd4s?"))
print("big", struct.pack(">IhQ", 0xDEADBEEF, -2, 7).hex())
print("native aligned size", struct.calcsize("@bQ"), "packed size", struct.calcsize("=bQ"))
print("unpack", struct.unpack("<IhQd4s?", packed))
print("iter", list(struct.iter_unpack("<H", b"\x01\x00\x02\x00\xff\xff")))
try:
    struct.pack("<B", 256)
except struct.error as e:
    print("struct.error:", e)
