#!/usr/bin/env python3
"""Known-answer vectors for src/crypto/FORMAT.md, version 1, written from the grammar alone
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
print(json.dumps({
    "comment": "Produced by format_v1.py from FORMAT.md; plaintext byte i is (7i + 3) mod 256",
    "sealedKey": {"master": master.hex(), "context": ctx, "dataKey": data_key.hex(),
                  "sealed": sealed.hex()},
    "streamKey": {"dataKey": data_key.hex(), "iv": iv.hex(), "partNumber": 3,
                  "key": stream_key.hex(), "noncePrefix": prefix.hex()},
    "streams": streams,
}, indent=2))
