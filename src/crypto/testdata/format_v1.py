#!/usr/bin/env python3
"""Known-answer vectors for src/crypto/FORMAT.md, version 1 (with part format 2's stream label and
part-list MAC), written from the grammar alone
(Python's hmac/hashlib for HKDF-SHA256 and the `cryptography` package for ChaCha20-Poly1305), so
that format_test.ts checks the TypeScript against an independent implementation.

Run: python3 src/crypto/testdata/format_v1.py > src/crypto/testdata/format_v1.json &&
  deno fmt src/crypto/testdata/format_v1.json
"""
import hashlib
import hmac
import json

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

P, T = 65536, 16


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def lp(b: bytes) -> bytes:
    return u32(len(b)) + b


def context(mode: int, key_id: str, bucket: str, obj: str, pairs: dict) -> bytes:
    out = b"shale-sse-v1" + bytes([mode]) + lp(key_id.encode()) + lp(bucket.encode())
    out += lp(obj.encode()) + u32(len(pairs))
    for name in sorted(pairs):
        out += lp(name.encode()) + lp(pairs[name].encode())
    return out


def seal(master: bytes, key: bytes, scheme: int, key_version: int, salt: bytes, ctx: bytes) -> bytes:
    header = b"SHSK" + bytes([1, scheme]) + u32(key_version)
    kek = hkdf(master, salt, b"shale sse kek v1", 32)
    return header + salt + ChaCha20Poly1305(kek).encrypt(bytes(12), key, header + ctx)


def stream(key: bytes, prefix: bytes, plaintext: bytes) -> bytes:
    count = max(1, -(-len(plaintext) // P))
    out = b""
    for seq in range(count):
        nonce = prefix + u32(seq) + bytes([1 if seq == count - 1 else 0])
        out += ChaCha20Poly1305(key).encrypt(nonce, plaintext[seq * P:(seq + 1) * P], b"")
    return out


data_key = bytes([0x42] * 32)
master = bytes(range(0x80, 0xA0))
salt = bytes(range(0x20, 0x40))
iv = bytes(range(0x10, 0x20))
ctx = {"mode": "SSE-KMS", "keyId": "root", "bucket": "b", "object": "dir/o",
       "encryptionContext": {"z": "last", "a": "1"}}
sealed = seal(master, data_key, 1, 2, salt,
              context(2, "root", "b", "dir/o", ctx["encryptionContext"]))
okm = hkdf(data_key, iv, b"shale sse stream v1" + u32(3), 39)
stream_key, prefix = okm[:32], okm[32:]
streams = []
for size in [0, 1, P, 2 * P + 100]:
    plaintext = bytes((i * 7 + 3) & 0xFF for i in range(size))
    ct = stream(stream_key, prefix, plaintext)
    streams.append({"plainSize": size, "cipherSize": len(ct),
                    "sha256": hashlib.sha256(ct).hexdigest(),
                    "head": ct[:48].hex()})
# Part format 2: a part's stream key under the second label, and the part-list MAC.
okm2 = hkdf(data_key, iv, b"shale sse stream v2" + u32(3), 39)
mac_key = hkdf(data_key, b"", b"shale sse parts mac v1", 32)
parts = [(1, 16 + 5 * 1024 * 1024 + 80 * T, bytes([0xA1] * 16)),
         (3, 16 + 7 + T, bytes(range(0x30, 0x40))),
         (70000, 2 ** 33 + 5, iv)]
parts_list = b"shale-sse-parts-v1" + u32(len(parts))
for number, size, part_iv in parts:
    parts_list += u32(number) + u64(size) + part_iv
parts_mac = hmac.new(mac_key, parts_list, hashlib.sha256).digest()
print(json.dumps({
    "comment": "Produced by format_v1.py from FORMAT.md; plaintext byte i is (7i + 3) mod 256",
    "sealedKey": {"master": master.hex(), "context": ctx, "dataKey": data_key.hex(),
                  "sealed": sealed.hex()},
    "streamKey": {"dataKey": data_key.hex(), "iv": iv.hex(), "partNumber": 3,
                  "key": stream_key.hex(), "noncePrefix": prefix.hex()},
    "streams": streams,
    "partStreamKeyV2": {"dataKey": data_key.hex(), "iv": iv.hex(), "partNumber": 3,
                        "key": okm2[:32].hex(), "noncePrefix": okm2[32:].hex()},
    "partsMac": {"dataKey": data_key.hex(),
                 "parts": [{"partNumber": n, "storedSize": size, "iv": v.hex()}
                           for n, size, v in parts],
                 "list": parts_list.hex(), "mac": parts_mac.hex()},
}, indent=2))
