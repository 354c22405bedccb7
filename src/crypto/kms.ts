/**
 * The built-in KMS: named, versioned 32-byte master keys that seal per-object data keys, so that
 * SSE-S3 and SSE-KMS work without a separate key server (MinIO needs KES or Vault for this).
 *
 * How this works:
 * - The root key comes from `SHALE_KMS_SECRET_KEY=name:base64` (MinIO's `MINIO_KMS_SECRET_KEY`
 *   format, also read from that variable). It is version 1 of `name` and the default key.
 * - `createKey(name)` and `rotateKey(name)` make random 32-byte keys (a new key, or a new version
 *   of one). Each is sealed under the root key (a scheme-3 sealed key bound to the root's name,
 *   the key's name, version and creation time) and handed to the caller's `persist` callback;
 *   only once that resolves is the key used. At start-up the caller passes the persisted entries
 *   back. A master key is never given to anyone in clear.
 * - `generateDataKey` seals a fresh data key under the current version of a key; the sealed key
 *   names the version, so `decryptDataKey` works across rotations, and `resealDataKey` moves an
 *   old sealed key to the current version without touching data.
 */
import { KMS_KEY_NAME_BYTES_MAX, KMS_KEY_VERSIONS_MAX, KMS_KEYS_MAX } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { concatBytes, decodeBase64Strict, lengthPrefixed, u32, utf8 } from "./_bytes.ts";
import { CryptoError, DecryptionFailed } from "./errors.ts";
import {
  encodeContext,
  inspectSealedKey,
  KEY_BYTES,
  type KeyContext,
  newDataKey,
  openSealedKey,
  sealKey,
  SealScheme,
} from "./keys.ts";

/** A master key as configured: its name and 32 bytes. */
export interface MasterKey {
  readonly name: string;
  readonly key: Uint8Array;
}

/** A created key or key version as the caller persists it: sealed, never in clear. */
export interface StoredKmsKey {
  readonly name: string;
  readonly version: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** A scheme-3 sealed key (FORMAT.md "Key-store entry"). */
  readonly sealed: Uint8Array;
}

export interface KmsKeyInfo {
  readonly name: string;
  /** The version new data keys are sealed under. */
  readonly currentVersion: number;
  readonly versions: readonly number[];
  /** Where version 1 came from: the environment, or createKey. */
  readonly source: "environment" | "created";
  /** When version 1 was created; the environment key has none. */
  readonly createdAt?: string;
  readonly isDefault: boolean;
}

export interface KmsKeyStatus {
  readonly name: string;
  /** A data key generated under the key opened again. */
  readonly encryptionOk: boolean;
  readonly decryptionOk: boolean;
}

export interface KmsStatus {
  readonly backend: "builtin";
  readonly defaultKeyId: string;
  readonly keys: number;
}

export interface KmsOptions {
  /** Entries persisted by earlier `persist` calls. */
  readonly stored?: readonly StoredKmsKey[];
  /** Persists a new key or version; the KMS uses it only once this resolves. */
  readonly persist?: (entry: StoredKmsKey) => Promise<void>;
  readonly now?: () => Date;
}

/** Env variables read for the root key, in order. */
export const KMS_SECRET_KEY_ENV = ["SHALE_KMS_SECRET_KEY", "MINIO_KMS_SECRET_KEY"] as const;

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ARN_PREFIX = "arn:aws:kms:";

/** Throws InvalidArgument unless `name` is a valid KMS key name. */
export function checkKeyName(name: string): void {
  if (!KEY_NAME.test(name) || utf8(name).length > KMS_KEY_NAME_BYTES_MAX) {
    throw new CryptoError(
      "InvalidArgument",
      `KMS key name "${name}" is not 1 to ${KMS_KEY_NAME_BYTES_MAX} letters, digits, - or _`,
    );
  }
}

/**
 * The key name in an SSE-KMS key id: clients may send an ARN (`arn:aws:kms:...:key/name`) or the
 * bare name; as MinIO, the part after the last `key/` or `:` of an ARN is the name.
 */
export function normalizeKeyId(keyId: string): string {
  if (!keyId.startsWith(ARN_PREFIX)) return keyId;
  const rest = keyId.slice(ARN_PREFIX.length);
  const slash = rest.lastIndexOf("key/");
  return slash >= 0 ? rest.slice(slash + 4) : rest.slice(rest.lastIndexOf(":") + 1);
}

/** Parses `name:base64key` (the key must be 32 bytes). Errors do not echo the key. */
export function parseMasterKey(value: string): MasterKey {
  const colon = value.indexOf(":");
  if (colon < 0) {
    throw new CryptoError("InvalidArgument", "KMS secret key is not in the form name:base64key");
  }
  const name = value.slice(0, colon);
  checkKeyName(name);
  const key = decodeBase64Strict(value.slice(colon + 1).trim());
  if (key === undefined || key.length !== KEY_BYTES) {
    throw new CryptoError(
      "InvalidArgument",
      `KMS secret key "${name}" is not ${KEY_BYTES} bytes of base64`,
    );
  }
  return { name, key };
}

/** Env variables naming a file that holds `name:base64key`, in order (as MinIO's `_FILE`). */
export const KMS_SECRET_KEY_FILE_ENV = [
  "SHALE_KMS_SECRET_KEY_FILE",
  "MINIO_KMS_SECRET_KEY_FILE",
] as const;

/**
 * The root key from SHALE_KMS_SECRET_KEY or MINIO_KMS_SECRET_KEY, else from the file named by
 * SHALE_KMS_SECRET_KEY_FILE or MINIO_KMS_SECRET_KEY_FILE (read by the caller's `readTextFile`,
 * so this layer does no I/O), or undefined if none is set.
 */
export async function masterKeyFromEnv(
  getEnv: (name: string) => string | undefined,
  options: { readTextFile?: (path: string) => Promise<string> } = {},
): Promise<MasterKey | undefined> {
  for (const variable of KMS_SECRET_KEY_ENV) {
    const value = getEnv(variable);
    if (value !== undefined && value !== "") return parseMasterKey(value);
  }
  for (const variable of KMS_SECRET_KEY_FILE_ENV) {
    const path = getEnv(variable);
    if (path === undefined || path === "") continue;
    if (options.readTextFile === undefined) {
      throw new CryptoError("InvalidArgument", `${variable} is set but no file reader was given`);
    }
    return parseMasterKey((await options.readTextFile(path)).trim());
  }
  return undefined;
}

interface KeyEntry {
  readonly name: string;
  readonly source: "environment" | "created";
  readonly createdAt: string | undefined;
  /** version -> 32 bytes; version numbers start at 1. */
  readonly versions: Map<number, Uint8Array>;
  current: number;
}

function storeContext(rootName: string, entry: Omit<StoredKmsKey, "sealed">): Uint8Array {
  return concatBytes(
    utf8("shale-kms-key-v1"),
    lengthPrefixed(utf8(rootName)),
    lengthPrefixed(utf8(entry.name)),
    u32(entry.version),
    lengthPrefixed(utf8(entry.createdAt)),
  );
}

const ROOT_VERSION = 1;

export class Kms {
  readonly #root: MasterKey;
  readonly #keys = new Map<string, KeyEntry>();
  #persist: ((entry: StoredKmsKey) => Promise<void>) | undefined;
  readonly #now: () => Date;
  /** createKey and rotateKey run one at a time, so two never pick the same name or version. */
  #changes: Promise<unknown> = Promise.resolve();

  private constructor(root: MasterKey, options: KmsOptions) {
    checkKeyName(root.name);
    assert(root.key.length === KEY_BYTES, `Root key is ${root.key.length} bytes`);
    this.#root = root;
    this.#persist = options.persist;
    this.#now = options.now ?? (() => new Date());
    this.#keys.set(root.name, {
      name: root.name,
      source: "environment",
      createdAt: undefined,
      versions: new Map([[ROOT_VERSION, root.key]]),
      current: ROOT_VERSION,
    });
  }

  /**
   * Opens the KMS on its root key and the entries persisted earlier. Throws DecryptionFailed if
   * an entry does not open under the root key (a different root key, or a tampered entry).
   */
  static open(root: MasterKey, options: KmsOptions = {}): Kms {
    const kms = new Kms(root, options);
    const stored = [...(options.stored ?? [])].sort((a, b) => a.version - b.version);
    for (const entry of stored) kms.#restore(entry);
    return kms;
  }

  /**
   * Adds the entries persisted earlier and the callback that persists new ones, for a KMS opened
   * before its store could be read (the server opens it while the drives start).
   */
  attachStore(options: {
    stored: readonly StoredKmsKey[];
    persist: (entry: StoredKmsKey) => Promise<void>;
  }): void {
    assert(this.#persist === undefined, "The KMS already has a key store");
    const stored = [...options.stored].sort((a, b) => a.version - b.version);
    for (const entry of stored) this.#restore(entry);
    this.#persist = options.persist;
  }

  #restore(entry: StoredKmsKey): void {
    const info = inspectSealedKey(entry.sealed);
    if (info.scheme !== SealScheme.KeyStore) {
      throw new DecryptionFailed(`KMS key store entry "${entry.name}" is not a key-store entry`);
    }
    const key = openSealedKey(this.#root.key, entry.sealed, storeContext(this.#root.name, entry));
    this.#add(entry.name, entry.version, key, entry.createdAt);
  }

  #add(name: string, version: number, key: Uint8Array, createdAt: string): void {
    const existing = this.#keys.get(name);
    if (existing === undefined) {
      this.#keys.set(name, {
        name,
        source: "created",
        createdAt,
        versions: new Map([[version, key]]),
        current: version,
      });
      return;
    }
    // Versions are never replaced: data keys sealed under the old bytes would be lost.
    assert(!existing.versions.has(version), `KMS key "${name}" version "${version}" exists`);
    existing.versions.set(version, key);
    existing.current = Math.max(existing.current, version);
  }

  get defaultKeyId(): string {
    return this.#root.name;
  }

  hasKey(name: string): boolean {
    return this.#keys.has(name);
  }

  #entry(keyId: string): KeyEntry {
    const entry = this.#keys.get(keyId);
    if (entry === undefined) {
      throw new CryptoError("KMS.NotFoundException", `KMS key "${keyId}" does not exist`);
    }
    return entry;
  }

  /** A fresh data key and that key sealed under the current version of `keyId`. */
  generateDataKey(
    keyId: string,
    context: KeyContext,
  ): Promise<{ plaintext: Uint8Array; sealed: Uint8Array }> {
    return Promise.resolve().then(() => {
      const plaintext = newDataKey();
      return { plaintext, sealed: this.#seal(keyId, plaintext, context) };
    });
  }

  /**
   * Seals an existing data key under the current version of `keyId` for `context`: CopyObject to
   * a new name keeps the data (and its data key) and needs it bound to the new name.
   */
  sealDataKey(keyId: string, plaintext: Uint8Array, context: KeyContext): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.#seal(keyId, plaintext, context));
  }

  #seal(keyId: string, plaintext: Uint8Array, context: KeyContext): Uint8Array {
    assert(context.mode !== "SSE-C", "SSE-C keys are sealed by the customer key, not the KMS");
    const entry = this.#entry(keyId);
    return sealKey(entry.versions.get(entry.current) as Uint8Array, plaintext, {
      scheme: SealScheme.Kms,
      keyVersion: entry.current,
      context: encodeContext(keyId, context),
    });
  }

  /**
   * Opens a data key sealed by generateDataKey or resealDataKey, under whichever version of
   * `keyId` sealed it. Throws DecryptionFailed when it does not open (moved to another object,
   * another key id or context, or tampered).
   */
  decryptDataKey(keyId: string, sealed: Uint8Array, context: KeyContext): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.#open(keyId, sealed, context));
  }

  #open(keyId: string, sealed: Uint8Array, context: KeyContext): Uint8Array {
    const entry = this.#entry(keyId);
    const info = inspectSealedKey(sealed);
    if (info.scheme !== SealScheme.Kms) {
      throw new DecryptionFailed(`Sealed key of scheme "${info.scheme}" is not a KMS data key`);
    }
    const master = entry.versions.get(info.keyVersion);
    if (master === undefined) {
      throw new DecryptionFailed(`KMS key "${keyId}" has no version "${info.keyVersion}"`);
    }
    return openSealedKey(master, sealed, encodeContext(keyId, context));
  }

  /** Whether `sealed` is under the current version of `keyId` (else resealDataKey moves it). */
  isCurrent(keyId: string, sealed: Uint8Array): boolean {
    return inspectSealedKey(sealed).keyVersion === this.#entry(keyId).current;
  }

  /**
   * Rotation: the same data key sealed again under the current version of `keyId` (and a fresh
   * salt). The object's data and stream IVs stay as they are.
   */
  resealDataKey(keyId: string, sealed: Uint8Array, context: KeyContext): Promise<Uint8Array> {
    return Promise.resolve().then(() => {
      const plaintext = this.#open(keyId, sealed, context);
      try {
        return this.#seal(keyId, plaintext, context);
      } finally {
        plaintext.fill(0);
      }
    });
  }

  /** Creates a random master key `name` (version 1), persisted sealed before it is used. */
  createKey(name: string): Promise<KmsKeyInfo> {
    return this.#serialize(() => this.#createKey(name));
  }

  #serialize<T>(change: () => Promise<T>): Promise<T> {
    const result = this.#changes.then(change);
    this.#changes = result.catch(() => undefined);
    return result;
  }

  async #createKey(name: string): Promise<KmsKeyInfo> {
    checkKeyName(name);
    if (this.#keys.has(name)) {
      throw new CryptoError("KMS.AlreadyExistsException", `KMS key "${name}" already exists`);
    }
    if (this.#keys.size >= KMS_KEYS_MAX) {
      throw new CryptoError("KMS.LimitExceededException", `KMS holds ${KMS_KEYS_MAX} keys`);
    }
    await this.#addPersisted(name, 1);
    return this.#info(this.#entry(name));
  }

  /** Adds a random new version of `name` and makes it current; old versions still decrypt. */
  rotateKey(name: string): Promise<KmsKeyInfo> {
    return this.#serialize(() => this.#rotateKey(name));
  }

  async #rotateKey(name: string): Promise<KmsKeyInfo> {
    const entry = this.#entry(name);
    const next = Math.max(...entry.versions.keys()) + 1;
    if (next > KMS_KEY_VERSIONS_MAX) {
      throw new CryptoError(
        "KMS.LimitExceededException",
        `KMS key "${name}" has ${KMS_KEY_VERSIONS_MAX} versions`,
      );
    }
    await this.#addPersisted(name, next);
    return this.#info(entry);
  }

  async #addPersisted(name: string, version: number): Promise<void> {
    if (this.#persist === undefined) {
      throw new CryptoError(
        "InvalidRequest",
        "KMS keys cannot be created: no key store is configured",
      );
    }
    const key = newDataKey();
    const createdAt = this.#now().toISOString();
    const sealed = sealKey(this.#root.key, key, {
      scheme: SealScheme.KeyStore,
      keyVersion: ROOT_VERSION,
      context: storeContext(this.#root.name, { name, version, createdAt }),
    });
    await this.#persist({ name, version, createdAt, sealed });
    this.#add(name, version, key, createdAt);
  }

  #info(entry: KeyEntry): KmsKeyInfo {
    const info = {
      name: entry.name,
      currentVersion: entry.current,
      versions: [...entry.versions.keys()].sort((a, b) => a - b),
      source: entry.source,
      isDefault: entry.name === this.#root.name,
    };
    return entry.createdAt === undefined ? info : { ...info, createdAt: entry.createdAt };
  }

  /** Every key, by name. */
  listKeys(): KmsKeyInfo[] {
    return [...this.#keys.values()].map((e) => this.#info(e))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** Seals and opens a data key under `name`, as MinIO's `mc admin kms key status` does. */
  async keyStatus(name: string): Promise<KmsKeyStatus> {
    const context: KeyContext = { mode: "SSE-KMS", bucket: "", object: "kms-key-status" };
    let encryptionOk = false;
    let decryptionOk = false;
    this.#entry(name);
    try {
      const { plaintext, sealed } = await this.generateDataKey(name, context);
      encryptionOk = true;
      const opened = await this.decryptDataKey(name, sealed, context);
      decryptionOk = opened.length === plaintext.length &&
        opened.every((b, i) => b === plaintext[i]);
    } catch {
      // Reported as not ok.
    }
    return { name, encryptionOk, decryptionOk };
  }

  status(): KmsStatus {
    return { backend: "builtin", defaultKeyId: this.defaultKeyId, keys: this.#keys.size };
  }
}
