# Independent check of the ledger/FORMAT.md §8.9 vectors (written from the spec alone, as an outside verifier would): pure-Python BLAKE3 (single chunk), RFC 9162 verify
# as written in the spec, SHA-256 key ids, ed25519 via `cryptography`.
import hashlib, base64, struct, re
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

IV = [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19]
PERM = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
CHUNK_START, CHUNK_END, PARENT, ROOT, KEYED, DKC, DKM = 1, 2, 4, 8, 16, 32, 64
M = 0xffffffff
def rotr(x, n): return ((x >> n) | (x << (32 - n))) & M
def g(s, a, b, c, d, x, y):
    s[a] = (s[a] + s[b] + x) & M; s[d] = rotr(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & M; s[b] = rotr(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b] + y) & M; s[d] = rotr(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & M; s[b] = rotr(s[b] ^ s[c], 7)
def compress(cv, m, counter, blen, flags):
    s = cv[:] + IV[:4] + [counter & M, counter >> 32, blen, flags]
    m = m[:]
    for r in range(7):
        g(s,0,4,8,12,m[0],m[1]); g(s,1,5,9,13,m[2],m[3]); g(s,2,6,10,14,m[4],m[5]); g(s,3,7,11,15,m[6],m[7])
        g(s,0,5,10,15,m[8],m[9]); g(s,1,6,11,12,m[10],m[11]); g(s,2,7,8,13,m[12],m[13]); g(s,3,4,9,14,m[14],m[15])
        m = [m[p] for p in PERM]
    return [s[i] ^ s[i + 8] for i in range(8)]
def b3(data, key_words=IV, flags=0):
    assert len(data) <= 1024
    blocks = [data[i:i+64] for i in range(0, len(data), 64)] or [b""]
    cv = key_words
    for i, blk in enumerate(blocks):
        f = flags | (CHUNK_START if i == 0 else 0) | ((CHUNK_END | ROOT) if i == len(blocks) - 1 else 0)
        cv = compress(cv, list(struct.unpack("<16I", blk.ljust(64, b"\0"))), 0, len(blk), f)
    return struct.pack("<8I", *cv)
def keyed(key, data): return b3(data, list(struct.unpack("<8I", key)), KEYED)
def derive_key(ctx, material):
    ck = b3(ctx.encode(), IV, DKC)
    return b3(material, list(struct.unpack("<8I", ck)), DKM)

assert b3(b"").hex() == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
assert b3(b"abc").hex() == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"

import os
spec = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "FORMAT.md"), encoding="utf-8").read()
def val(name):
    m = re.search(re.escape(name) + r"\s*=\s*([0-9a-f]{8,64})\n", spec)
    assert m, name
    return bytes.fromhex(m.group(1))

def leaf(d): return b3(b"\x00" + d)
def node(l, r): return b3(b"\x01" + l + r)
def mth(D):
    if len(D) == 0: return b3(b"")
    if len(D) == 1: return leaf(D[0])
    k = 1
    while k * 2 < len(D): k *= 2
    return node(mth(D[:k]), mth(D[k:]))

R = [b3(f"record {i}".encode()) for i in range(8)]
for i in range(8):
    assert val(f"record_hash[{i}]") == R[i], i
    assert val(f"leaf_hash[{i}]") == leaf(R[i]), i
for n in range(9):
    assert val(f"root({n})") == mth(R[:n]), n

def verify_inclusion(idx, size, rh, root, path):
    if idx >= size or len(path) > 64: return False
    fn, sn, r = idx, size - 1, leaf(rh)
    for p in path:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1; sn >>= 1
                    if fn & 1 or fn == 0: break
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root

def verify_consistency(m, n, old, new, path):
    if m == 0 or m > n: return False
    if m == n: return not path and old == new
    if not path or len(path) > 65: return False
    if m & (m - 1) == 0: path = [old] + path
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr = node(c, fr); sr = node(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1; sn >>= 1
                    if fn & 1 or fn == 0: break
        else:
            sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return sn == 0 and fr == old and sr == new

import json
blocks = re.findall(r"```json\n(.*?)\n```", spec, re.S)
incl = json.loads([b for b in blocks if "\"kind\":\"inclusion\",\"leaf_index\":5" in b and "…" not in b][0])
cons = json.loads([b for b in blocks if "\"kind\":\"consistency\",\"old_size\":3" in b and "…" not in b][0])
ipath = [base64.b64decode(h) for h in incl["hashes"]]
cpath = [base64.b64decode(h) for h in cons["hashes"]]
hexpaths = re.findall(r"path\[(\d)\] = ([0-9a-f]{64})", spec)
assert [h.hex() for h in ipath] == [h for i, h in hexpaths[:3]]
assert [h.hex() for h in cpath] == [h for i, h in hexpaths[3:]]
assert verify_inclusion(5, 8, R[5], mth(R), ipath)
assert not verify_inclusion(5, 8, R[4], mth(R), ipath)
assert verify_consistency(3, 7, mth(R[:3]), mth(R[:7]), cpath)
assert not verify_consistency(3, 7, mth(R[:4]), mth(R[:7]), cpath)
# exhaustive small cross-check of the spec's verifier against naive proofs
def path_of(m, D):
    if len(D) <= 1: return []
    k = 1
    while k * 2 < len(D): k *= 2
    return path_of(m, D[:k]) + [mth(D[k:])] if m < k else path_of(m - k, D[k:]) + [mth(D[:k])]
def sub(m, D, b):
    if m == len(D): return [] if b else [mth(D)]
    k = 1
    while k * 2 < len(D): k *= 2
    return sub(m, D[:k], b) + [mth(D[k:])] if m <= k else sub(m - k, D[k:], False) + [mth(D[:k])]
D = [b3(f"record {i}".encode()) for i in range(20)]
for n in range(1, 21):
    for i in range(n): assert verify_inclusion(i, n, D[i], mth(D[:n]), path_of(i, D[:n]))
    for m in range(1, n + 1): assert verify_consistency(m, n, mth(D[:m]), mth(D[:n]), sub(m, D[:n], True) if m < n else [])

# keys and checkpoint
name = b"residence-ledger/example"
def pub(seed):
    from cryptography.hazmat.primitives import serialization
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
pk7 = pub(b"\x07" * 32); pk8 = pub(b"\x08" * 32)
assert val("public key  ") == pk7 if False else True
assert re.search(r"public key   = " + pk7.hex(), spec)
kid7 = hashlib.sha256(name + b"\n\x01" + pk7).digest()[:4]
kid8 = hashlib.sha256(name + b"\n\x01" + pk8).digest()[:4]
ONE = bytes([1])
vk7 = "residence-ledger/example+" + kid7.hex() + "+" + base64.b64encode(ONE + pk7).decode()
vk8 = "residence-ledger/example+" + kid8.hex() + "+" + base64.b64encode(ONE + pk8).decode()
assert ("verifier key = " + vk7) in spec and ("`" + vk8 + "`") in spec
notes = re.findall(r"```\n(residence-ledger/example\n8\n.*?)```", spec, re.S)
assert len(notes) == 2
sk7 = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
for i, note in enumerate(notes):
    b = note.encode()
    cut = b.rindex(b"\n\n")
    body, sigs = b[:cut + 1], b[cut + 2:]
    lines = body.decode().split("\n")
    assert lines[0] == "residence-ledger/example" and lines[1] == "8"
    assert base64.b64decode(lines[2]) == mth(R)
    assert lines[3] == "time 2025-07-01T08:30:00.123456Z"
    assert base64.b64decode(lines[4][5:]) == R[7]
    if i == 1: assert lines[5] == "key " + vk8
    sigline = sigs.decode()
    assert sigline.startswith("\u2014 residence-ledger/example ") and sigline.endswith("\n")
    raw = base64.b64decode(sigline.split(" ")[2])
    assert raw[:4] == kid7
    assert raw[4:] == sk7.sign(body)
    sk7.public_key().verify(raw[4:], body)
secret = b"\x09" * 32
sk = derive_key("residence-ledger v1 payload salt", secret)
tk = derive_key("residence-ledger v1 tag blinding", secret)
assert re.search("salt_key     = " + sk.hex(), spec)
assert re.search("tag_key      = " + tk.hex(), spec)
assert re.search("salt         = " + keyed(sk, bytes(range(16))).hex(), spec)
assert re.search("blinded      = " + keyed(tk, b"001234567890").hex(), spec)
print("all FORMAT.md section 8.9 vectors reproduced independently")
