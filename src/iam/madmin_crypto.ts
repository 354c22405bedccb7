/**
 * The encrypted bodies of MinIO's admin API (madmin-go `EncryptData` / `DecryptData`), which
 * `mc admin` sends for add-user, add-service-account, policy attach/detach and expects back from
 * list-users, service-account info/list, access-key list/info.
 *
 * How this works (byte layout, all lengths fixed):
 *
 *   body     = salt[32] || id[1] || nonce[8] || stream
 *   id       = 0x00 Argon2id + AES-256-GCM | 0x01 Argon2id + ChaCha20-Poly1305
 *            | 0x02 PBKDF2-SHA256 + AES-256-GCM (MinIO's FIPS build)
 *   key      = Argon2id(password, salt, time 1, memory 64 MiB, 4 lanes, 32 bytes)
 *            | PBKDF2-HMAC-SHA256(password, salt, 8192 iterations, 32 bytes)
 *   stream   = fragment* final                  (the sio-go streaming AEAD, v0.3)
 *   fragment = AEAD(key, nonce || le32(seq), plaintext[16384], ad(0x00))   seq = 1, 2, ...
 *   final    = AEAD(key, nonce || le32(seq), plaintext[0..16384], ad(0x80))
 *   ad(flag) = flag || tag of AEAD(key, nonce || le32(0), empty plaintext, empty ad)
 *
 * Every fragment but the last carries exactly 16384 bytes of plaintext; the last carries 0 to
 * 16384 and is flagged in its associated data, so truncation, reordering and extension all fail
 * authentication. The password is the secret key of whoever signed the request.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync } from "node:crypto";
import { lazy } from "../util/lazy.ts";

// Loaded by the first Argon2id body: hash-wasm's CommonJS build costs start-up time (issue 6).
const hashWasm = lazy(() => import("hash-wasm"));

export const MADMIN_ARGON2ID_AES_GCM = 0x00;
export const MADMIN_ARGON2ID_CHACHA20_POLY1305 = 0x01;
export const MADMIN_PBKDF2_AES_GCM = 0x02;
export type MadminAlgorithm =
  | typeof MADMIN_ARGON2ID_AES_GCM
  | typeof MADMIN_ARGON2ID_CHACHA20_POLY1305
  | typeof MADMIN_PBKDF2_AES_GCM;

const SALT_BYTES = 32;
const NONCE_BYTES = 8;
const HEADER_BYTES = SALT_BYTES + 1 + NONCE_BYTES;
const TAG_BYTES = 16;
/** sio-go's default fragment size (its `BufSize`). */
const FRAGMENT_BYTES = 1 << 14;
const FLAG_FINAL = 0x80;
// madmin-go's key derivation costs.
const ARGON2ID_TIME = 1;
const ARGON2ID_MEMORY_KIB = 64 * 1024;
const ARGON2ID_LANES = 4;
const PBKDF2_ITERATIONS = 8192;

/** A body that is not a madmin ciphertext, or that fails authentication. */
export class MadminCryptoError extends Error {
  override name = "MadminCryptoError";
}

/** madmin's `IsEncrypted`: long enough and a known algorithm id after the salt. */
export function isMadminEncrypted(data: Uint8Array): boolean {
  if (data.byteLength <= SALT_BYTES) return false;
  const id = data[SALT_BYTES]!;
  return id === MADMIN_ARGON2ID_AES_GCM || id === MADMIN_ARGON2ID_CHACHA20_POLY1305 ||
    id === MADMIN_PBKDF2_AES_GCM;
}

export interface EncryptOptions {
  /** Default Argon2id + AES-256-GCM, what madmin picks on CPUs with AES instructions. */
  algorithm?: MadminAlgorithm;
  /** Known-answer tests only: fixed salt (32 bytes) and nonce (8 bytes). */
  salt?: Uint8Array;
  nonce?: Uint8Array;
}

export async function encryptMadmin(
  password: string,
  data: Uint8Array,
  options: EncryptOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const id = options.algorithm ?? MADMIN_ARGON2ID_AES_GCM;
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const nonce = options.nonce ?? crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  if (salt.byteLength !== SALT_BYTES || nonce.byteLength !== NONCE_BYTES) {
    throw new MadminCryptoError("Salt must be 32 bytes and nonce 8 bytes");
  }
  const aead = aeadFor(id, await deriveKey(id, password, salt));
  const fragments = Math.max(1, Math.ceil(data.byteLength / FRAGMENT_BYTES));
  const out = new Uint8Array(HEADER_BYTES + data.byteLength + fragments * TAG_BYTES);
  out.set(salt, 0);
  out[SALT_BYTES] = id;
  out.set(nonce, SALT_BYTES + 1);
  const ad = associatedData(aead, nonce);
  let at = HEADER_BYTES;
  for (let i = 0; i < fragments; i++) {
    const last = i === fragments - 1;
    ad[0] = last ? FLAG_FINAL : 0x00;
    const plain = data.subarray(
      i * FRAGMENT_BYTES,
      Math.min(data.byteLength, (i + 1) * FRAGMENT_BYTES),
    );
    const sealed = aead.seal(fragmentNonce(nonce, i + 1), plain, ad);
    out.set(sealed, at);
    at += sealed.byteLength;
  }
  return out;
}

export async function decryptMadmin(
  password: string,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (data.byteLength < HEADER_BYTES + TAG_BYTES) {
    throw new MadminCryptoError("Encrypted admin body is too short");
  }
  const salt = data.subarray(0, SALT_BYTES);
  const id = data[SALT_BYTES]!;
  if (
    id !== MADMIN_ARGON2ID_AES_GCM && id !== MADMIN_ARGON2ID_CHACHA20_POLY1305 &&
    id !== MADMIN_PBKDF2_AES_GCM
  ) {
    throw new MadminCryptoError(`Encrypted admin body has unknown algorithm id "${id}"`);
  }
  const nonce = data.subarray(SALT_BYTES + 1, HEADER_BYTES);
  const aead = aeadFor(id, await deriveKey(id, password, salt));
  const ad = associatedData(aead, nonce);
  const stream = data.subarray(HEADER_BYTES);
  const sealedBytes = FRAGMENT_BYTES + TAG_BYTES;
  // A full fragment followed by more bytes is not the last one; whatever remains is.
  const fragments = Math.max(1, Math.ceil(stream.byteLength / sealedBytes));
  if (stream.byteLength - (fragments - 1) * sealedBytes < TAG_BYTES) {
    throw new MadminCryptoError("Encrypted admin body is not authentic");
  }
  const out = new Uint8Array(stream.byteLength - fragments * TAG_BYTES);
  for (let i = 0; i < fragments; i++) {
    const last = i === fragments - 1;
    ad[0] = last ? FLAG_FINAL : 0x00;
    const sealed = stream.subarray(
      i * sealedBytes,
      last ? stream.byteLength : (i + 1) * sealedBytes,
    );
    const plain = aead.open(fragmentNonce(nonce, i + 1), sealed, ad);
    if (plain === undefined) throw new MadminCryptoError("Encrypted admin body is not authentic");
    out.set(plain, i * FRAGMENT_BYTES);
  }
  return out;
}

interface Aead {
  seal(nonce: Uint8Array, plain: Uint8Array, ad: Uint8Array): Uint8Array;
  /** Undefined when the tag does not verify. */
  open(nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | undefined;
}

function aeadFor(id: number, key: Uint8Array): Aead {
  const chacha = id === MADMIN_ARGON2ID_CHACHA20_POLY1305;
  const opts = { authTagLength: TAG_BYTES };
  return {
    seal(nonce, plain, ad) {
      const c = chacha
        ? createCipheriv("chacha20-poly1305", key, nonce, opts)
        : createCipheriv("aes-256-gcm", key, nonce, opts);
      c.setAAD(ad, { plaintextLength: plain.byteLength });
      const body = c.update(plain);
      const tail = c.final();
      const out = new Uint8Array(body.byteLength + tail.byteLength + TAG_BYTES);
      out.set(body, 0);
      out.set(tail, body.byteLength);
      out.set(c.getAuthTag(), body.byteLength + tail.byteLength);
      return out;
    },
    open(nonce, sealed, ad) {
      if (sealed.byteLength < TAG_BYTES) return undefined;
      const d = chacha
        ? createDecipheriv("chacha20-poly1305", key, nonce, opts)
        : createDecipheriv("aes-256-gcm", key, nonce, opts);
      d.setAAD(ad, { plaintextLength: sealed.byteLength - TAG_BYTES });
      d.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));
      try {
        const body = d.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES));
        const tail = d.final();
        const out = new Uint8Array(body.byteLength + tail.byteLength);
        out.set(body, 0);
        out.set(tail, body.byteLength);
        return out;
      } catch {
        return undefined;
      }
    },
  };
}

/** sio-go binds every fragment to the stream: flag byte || tag of an empty seal at seq 0. */
function associatedData(aead: Aead, nonce: Uint8Array): Uint8Array {
  const ad = new Uint8Array(1 + TAG_BYTES);
  ad.set(aead.seal(fragmentNonce(nonce, 0), new Uint8Array(0), new Uint8Array(0)), 1);
  return ad;
}

function fragmentNonce(nonce: Uint8Array, seq: number): Uint8Array {
  const out = new Uint8Array(NONCE_BYTES + 4);
  out.set(nonce, 0);
  new DataView(out.buffer).setUint32(NONCE_BYTES, seq, true);
  return out;
}

// Argon2id holds 64 MiB while it runs: derive one key at a time (madmin-go takes a lock too).
let derivations: Promise<unknown> = Promise.resolve();

function deriveKey(id: number, password: string, salt: Uint8Array): Promise<Uint8Array> {
  if (id === MADMIN_PBKDF2_AES_GCM) {
    return Promise.resolve(
      new Uint8Array(pbkdf2Sync(password, salt, PBKDF2_ITERATIONS, 32, "sha256")),
    );
  }
  const run = async () => {
    const { argon2id } = await hashWasm();
    return await argon2id({
      password,
      salt,
      iterations: ARGON2ID_TIME,
      memorySize: ARGON2ID_MEMORY_KIB,
      parallelism: ARGON2ID_LANES,
      hashLength: 32,
      outputType: "binary",
    });
  };
  const p = derivations.then(run, run);
  derivations = p.catch(() => {});
  return p;
}
