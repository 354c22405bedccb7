/**
 * The IAM store: users, groups, custom policies and service accounts.
 *
 * How this works:
 * - Everything lives in one JSON document (`iam.json`) stored as an object in the reserved bucket
 *   IAM_BUCKET through the object layer, so it is erasure-coded like any object: it survives the
 *   loss of as many drives as the parity allows, and a PUT commits whole or not at all (a crash
 *   leaves the previous document, never half of one).
 * - The document is cached in memory. Changes are serialized through one queue: each is applied
 *   to a copy, written, and only then swapped in, so a failed write changes nothing. `reload()`
 *   re-reads the document (after a change made elsewhere).
 * - The bucket's name starts with a dot, which S3 bucket names may not: no S3 request can reach
 *   it. `hideIamBucket` keeps it out of ListBuckets.
 * - Users are named by their access key, as in MinIO. Service accounts belong to a parent user;
 *   their permissions are the parent's, narrowed by an optional inline policy, and they stop when
 *   they expire or their parent is disabled or removed.
 *
 * - The document is sealed at rest (AES-256-GCM under a key derived from the root secret key, as
 *   MinIO encrypts IAM data with its root credentials), since it holds every user's and service
 *   account's secret. Byte layout in README.md ("IAM document format"). A document sealed under
 *   an earlier root secret opens with `previousRootSecretKeys` and is re-sealed under the current
 *   one on the next change; plain JSON (format 1, before sealing) is still read.
 */
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import type { Credentials } from "../auth/types.ts";
import {
  ACCESS_KEY_CHARS_MAX,
  ACCESS_KEY_CHARS_MIN,
  IAM_DOCUMENT_BYTES_MAX,
  IAM_NAME_CHARS_MAX,
  IAM_POLICY_CHARS_MAX,
  SECRET_KEY_CHARS_MAX,
  SECRET_KEY_CHARS_MIN,
} from "../config/limits.ts";
import { BucketExists, ObjectNotFound } from "../object/errors.ts";
import type { ObjectLayer } from "../object/types.ts";
import { CANNED_POLICY_JSON, CANNED_POLICY_NAMES } from "./canned.ts";
import { type Identity, rootIdentity } from "./identity.ts";
import { parsePolicy, type Policy } from "./policy.ts";

export const IAM_BUCKET = ".shale-iam";
const IAM_OBJECT = "iam.json";
const FORMAT = "shale-iam";
const FORMAT_VERSION = 1;

export type IamErrorCode =
  | "NoSuchUser"
  | "NoSuchGroup"
  | "NoSuchPolicy"
  | "NoSuchServiceAccount"
  | "AlreadyExists"
  | "InvalidArgument"
  | "PolicyInUse"
  | "LimitExceeded";

export class IamError extends Error {
  override name = "IamError";
  constructor(readonly code: IamErrorCode, message: string) {
    super(message);
  }
}

export type Status = "enabled" | "disabled";

export interface UserRecord {
  accessKey: string;
  secretKey: string;
  status: Status;
  policies: string[];
}

export interface GroupRecord {
  name: string;
  status: Status;
  members: string[];
  policies: string[];
}

export interface ServiceAccountRecord {
  accessKey: string;
  secretKey: string;
  parent: string;
  status: Status;
  /** An inline policy (JSON) narrowing the parent's permissions. */
  policy?: string;
  /** Milliseconds since the epoch. */
  expiresMs?: number;
  name?: string;
  description?: string;
}

interface IamDocument {
  format: typeof FORMAT;
  version: number;
  users: Record<string, UserRecord>;
  groups: Record<string, GroupRecord>;
  /** Custom policies by name (canned ones are not stored). */
  policies: Record<string, string>;
  serviceAccounts: Record<string, ServiceAccountRecord>;
}

function emptyDocument(): IamDocument {
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    users: {},
    groups: {},
    policies: {},
    serviceAccounts: {},
  };
}

export interface IamStoreOptions {
  root: Credentials;
  /** Root secret keys used before the current one: a document sealed under one still opens. */
  previousRootSecretKeys?: string[];
  /** Server clock (tests pass their own). */
  now?: () => Date;
}

export class IamStore {
  #doc: IamDocument = emptyDocument();
  #parsed = new Map<string, Policy>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #now: () => Date;
  readonly #sealKeys: Uint8Array[];
  /** The last document read was not sealed under the current root secret. */
  #staleSeal = false;

  private constructor(
    readonly objects: ObjectLayer,
    readonly root: Credentials,
    options: IamStoreOptions,
  ) {
    this.#now = options.now ?? (() => new Date());
    this.#sealKeys = [root.secretKey, ...(options.previousRootSecretKeys ?? [])].map(sealKey);
  }

  /** Opens (creating the reserved bucket on first start) and loads the document. */
  static async open(objects: ObjectLayer, options: IamStoreOptions): Promise<IamStore> {
    const store = new IamStore(objects, options.root, options);
    try {
      await objects.makeBucket(IAM_BUCKET);
    } catch (e) {
      if (!(e instanceof BucketExists)) throw e;
    }
    await store.reload();
    // Opened in clear (format 1) or under a previous root secret: seal it under the current one
    // now, so the previous secret is needed only once.
    if (store.#staleSeal) await store.#change(() => {});
    return store;
  }

  /** Re-reads the stored document (a change made by another node or process). */
  async reload(): Promise<void> {
    const doc = await this.#read();
    this.#swap(doc);
  }

  // ---- CredentialStore ----------------------------------------------------------------------

  /** Secret keys for SigV4: root, enabled users, live service accounts of enabled users. */
  lookup(accessKey: string): Credentials | undefined {
    if (accessKey === this.root.accessKey) return this.root;
    const user = this.#doc.users[accessKey];
    if (user !== undefined) {
      return user.status === "enabled" ? { accessKey, secretKey: user.secretKey } : undefined;
    }
    const sa = this.#doc.serviceAccounts[accessKey];
    if (sa === undefined || sa.status !== "enabled") return undefined;
    if (!this.#parentEnabled(sa.parent)) return undefined;
    const creds: Credentials = { accessKey, secretKey: sa.secretKey };
    if (sa.expiresMs !== undefined) creds.expiresAt = new Date(sa.expiresMs);
    return creds;
  }

  /** Who an access key is, with the policies that apply; undefined when it is not live. */
  identity(accessKey: string): Identity | undefined {
    if (accessKey === this.root.accessKey) return rootIdentity(accessKey);
    const user = this.#doc.users[accessKey];
    if (user !== undefined) {
      if (user.status !== "enabled") return undefined;
      return { accessKey, username: accessKey, isRoot: false, policies: this.#userPolicies(user) };
    }
    const sa = this.#doc.serviceAccounts[accessKey];
    if (sa === undefined || sa.status !== "enabled") return undefined;
    if (sa.expiresMs !== undefined && sa.expiresMs <= this.#now().getTime()) return undefined;
    if (sa.parent === this.root.accessKey) {
      const id = rootIdentity(accessKey);
      id.username = sa.parent;
      if (sa.policy === undefined) return id;
      // A root service account with an inline policy is limited by it (no longer root).
      return { ...id, isRoot: false, policies: [this.#inline(sa)] };
    }
    const parent = this.#doc.users[sa.parent];
    if (parent === undefined || parent.status !== "enabled") return undefined;
    const identity: Identity = {
      accessKey,
      username: sa.parent,
      isRoot: false,
      policies: this.#userPolicies(parent),
    };
    if (sa.policy !== undefined) identity.limits = [[this.#inline(sa)]];
    return identity;
  }

  // ---- Users --------------------------------------------------------------------------------

  listUsers(): UserRecord[] {
    return Object.values(this.#doc.users).map((u) => structuredClone(u));
  }

  getUser(accessKey: string): UserRecord | undefined {
    const u = this.#doc.users[accessKey];
    return u === undefined ? undefined : structuredClone(u);
  }

  /** Adds a user, or changes the secret of an existing one (MinIO's add-user does both). */
  async addUser(accessKey: string, secretKey: string): Promise<void> {
    checkAccessKey(accessKey);
    checkSecretKey(secretKey);
    await this.#change((doc) => {
      if (accessKey === this.root.accessKey || doc.serviceAccounts[accessKey] !== undefined) {
        throw new IamError("AlreadyExists", `Access key "${accessKey}" is already in use`);
      }
      const existing = doc.users[accessKey];
      doc.users[accessKey] = existing === undefined
        ? { accessKey, secretKey, status: "enabled", policies: [] }
        : { ...existing, secretKey };
    });
  }

  /** Removes a user, its service accounts and its group memberships. */
  async removeUser(accessKey: string): Promise<void> {
    await this.#change((doc) => {
      if (doc.users[accessKey] === undefined) throw noSuchUser(accessKey);
      delete doc.users[accessKey];
      for (const [k, sa] of Object.entries(doc.serviceAccounts)) {
        if (sa.parent === accessKey) delete doc.serviceAccounts[k];
      }
      for (const g of Object.values(doc.groups)) {
        g.members = g.members.filter((m) => m !== accessKey);
      }
    });
  }

  async setUserStatus(accessKey: string, status: Status): Promise<void> {
    await this.#change((doc) => {
      const u = doc.users[accessKey];
      if (u === undefined) throw noSuchUser(accessKey);
      u.status = status;
    });
  }

  // ---- Groups -------------------------------------------------------------------------------

  listGroups(): GroupRecord[] {
    return Object.values(this.#doc.groups).map((g) => structuredClone(g));
  }

  /** Adds members to a group, creating it when new (MinIO's update-group-members). */
  async addGroupMembers(group: string, members: string[]): Promise<void> {
    checkName(group, "group");
    await this.#change((doc) => {
      for (const m of members) if (doc.users[m] === undefined) throw noSuchUser(m);
      const g = doc.groups[group] ??= { name: group, status: "enabled", members: [], policies: [] };
      for (const m of members) if (!g.members.includes(m)) g.members.push(m);
    });
  }

  /** Removes members; with none given, removes the group (which must then be empty). */
  async removeGroupMembers(group: string, members: string[]): Promise<void> {
    await this.#change((doc) => {
      const g = doc.groups[group];
      if (g === undefined) throw new IamError("NoSuchGroup", `Group "${group}" does not exist`);
      if (members.length === 0) {
        if (g.members.length > 0) {
          throw new IamError("InvalidArgument", `Group "${group}" is not empty`);
        }
        delete doc.groups[group];
        return;
      }
      g.members = g.members.filter((m) => !members.includes(m));
    });
  }

  async setGroupStatus(group: string, status: Status): Promise<void> {
    await this.#change((doc) => {
      const g = doc.groups[group];
      if (g === undefined) throw new IamError("NoSuchGroup", `Group "${group}" does not exist`);
      g.status = status;
    });
  }

  // ---- Policies -----------------------------------------------------------------------------

  /** Canned and custom policies, by name, as JSON. */
  listPolicies(): Record<string, string> {
    return { ...CANNED_POLICY_JSON, ...this.#doc.policies };
  }

  /** A policy by name (canned or custom), parsed. */
  policy(name: string): Policy | undefined {
    return this.#parsed.get(name);
  }

  /** Creates or replaces a custom policy after validating it. */
  async putPolicy(name: string, json: string): Promise<void> {
    checkName(name, "policy");
    if (CANNED_POLICY_NAMES.includes(name)) {
      throw new IamError("InvalidArgument", `Policy "${name}" is a canned policy`);
    }
    // AWS's limit and answer (IAM quotas: managed policy size). Unlike MinIO: MinIO takes up to
    // 20 KiB and answers EntityTooLarge.
    if (policyChars(json) > IAM_POLICY_CHARS_MAX) {
      throw new IamError(
        "LimitExceeded",
        `Cannot exceed quota for PolicySize: ${IAM_POLICY_CHARS_MAX}`,
      );
    }
    parsePolicy(json, { kind: "identity" });
    await this.#change((doc) => {
      doc.policies[name] = json;
    });
  }

  async deletePolicy(name: string): Promise<void> {
    await this.#change((doc) => {
      if (doc.policies[name] === undefined) throw noSuchPolicy(name);
      const users = Object.values(doc.users).filter((u) => u.policies.includes(name));
      const groups = Object.values(doc.groups).filter((g) => g.policies.includes(name));
      if (users.length > 0 || groups.length > 0) {
        throw new IamError("PolicyInUse", `Policy "${name}" is attached; detach it first`);
      }
      delete doc.policies[name];
    });
  }

  /** Attaches policies to a user or a group. */
  async attachPolicies(to: { user: string } | { group: string }, names: string[]): Promise<void> {
    await this.#change((doc) => {
      for (const n of names) {
        if (doc.policies[n] === undefined && !CANNED_POLICY_NAMES.includes(n)) {
          throw noSuchPolicy(n);
        }
      }
      const target = this.#policyHolder(doc, to);
      for (const n of names) if (!target.policies.includes(n)) target.policies.push(n);
    });
  }

  async detachPolicies(from: { user: string } | { group: string }, names: string[]): Promise<void> {
    await this.#change((doc) => {
      const target = this.#policyHolder(doc, from);
      target.policies = target.policies.filter((p) => !names.includes(p));
    });
  }

  // ---- Service accounts ---------------------------------------------------------------------

  listServiceAccounts(parent?: string): ServiceAccountRecord[] {
    return Object.values(this.#doc.serviceAccounts)
      .filter((sa) => parent === undefined || sa.parent === parent)
      .map((sa) => structuredClone(sa));
  }

  /** Creates a service account; keys are generated when not given. Returns the record. */
  async addServiceAccount(options: {
    parent: string;
    accessKey?: string;
    secretKey?: string;
    policy?: string;
    expiresAt?: Date;
    name?: string;
    description?: string;
  }): Promise<ServiceAccountRecord> {
    const accessKey = options.accessKey ?? randomKey(20, ACCESS_ALPHABET);
    const secretKey = options.secretKey ?? randomKey(40, SECRET_ALPHABET);
    checkAccessKey(accessKey);
    checkSecretKey(secretKey);
    if (options.policy !== undefined) parsePolicy(options.policy, { kind: "identity" });
    if (options.expiresAt !== undefined && options.expiresAt <= this.#now()) {
      throw new IamError(
        "InvalidArgument",
        "The expiry of a service account must be in the future",
      );
    }
    const record: ServiceAccountRecord = {
      accessKey,
      secretKey,
      parent: options.parent,
      status: "enabled",
    };
    if (options.policy !== undefined) record.policy = options.policy;
    if (options.expiresAt !== undefined) record.expiresMs = options.expiresAt.getTime();
    if (options.name !== undefined) record.name = options.name;
    if (options.description !== undefined) record.description = options.description;
    await this.#change((doc) => {
      if (options.parent !== this.root.accessKey && doc.users[options.parent] === undefined) {
        throw noSuchUser(options.parent);
      }
      if (
        accessKey === this.root.accessKey || doc.users[accessKey] !== undefined ||
        doc.serviceAccounts[accessKey] !== undefined
      ) {
        throw new IamError("AlreadyExists", `Access key "${accessKey}" is already in use`);
      }
      doc.serviceAccounts[accessKey] = record;
    });
    return structuredClone(record);
  }

  async removeServiceAccount(accessKey: string): Promise<void> {
    await this.#change((doc) => {
      if (doc.serviceAccounts[accessKey] === undefined) {
        throw new IamError("NoSuchServiceAccount", `Service account "${accessKey}" does not exist`);
      }
      delete doc.serviceAccounts[accessKey];
    });
  }

  /** Changes a service account (MinIO's update-service-account); absent fields are kept. */
  async updateServiceAccount(accessKey: string, change: {
    secretKey?: string;
    status?: Status;
    policy?: string;
    expiresAt?: Date;
    name?: string;
    description?: string;
  }): Promise<void> {
    if (change.secretKey !== undefined) checkSecretKey(change.secretKey);
    if (change.policy !== undefined) parsePolicy(change.policy, { kind: "identity" });
    if (change.expiresAt !== undefined && change.expiresAt <= this.#now()) {
      throw new IamError(
        "InvalidArgument",
        "The expiry of a service account must be in the future",
      );
    }
    await this.#change((doc) => {
      const sa = doc.serviceAccounts[accessKey];
      if (sa === undefined) {
        throw new IamError("NoSuchServiceAccount", `Service account "${accessKey}" does not exist`);
      }
      if (change.secretKey !== undefined) sa.secretKey = change.secretKey;
      if (change.status !== undefined) sa.status = change.status;
      if (change.policy !== undefined) sa.policy = change.policy;
      if (change.expiresAt !== undefined) sa.expiresMs = change.expiresAt.getTime();
      if (change.name !== undefined) sa.name = change.name;
      if (change.description !== undefined) sa.description = change.description;
    });
  }

  async setServiceAccountStatus(accessKey: string, status: Status): Promise<void> {
    await this.#change((doc) => {
      const sa = doc.serviceAccounts[accessKey];
      if (sa === undefined) {
        throw new IamError("NoSuchServiceAccount", `Service account "${accessKey}" does not exist`);
      }
      sa.status = status;
    });
  }

  // ---- Internals ----------------------------------------------------------------------------

  #parentEnabled(parent: string): boolean {
    if (parent === this.root.accessKey) return true;
    return this.#doc.users[parent]?.status === "enabled";
  }

  #userPolicies(user: UserRecord): Policy[] {
    const names = new Set(user.policies);
    for (const g of Object.values(this.#doc.groups)) {
      if (g.status === "enabled" && g.members.includes(user.accessKey)) {
        for (const p of g.policies) names.add(p);
      }
    }
    const out: Policy[] = [];
    for (const n of names) {
      const p = this.#parsed.get(n);
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  #inline(sa: ServiceAccountRecord): Policy {
    return parsePolicy(sa.policy!, { kind: "identity" });
  }

  #policyHolder(
    doc: IamDocument,
    to: { user: string } | { group: string },
  ): { policies: string[] } {
    if ("user" in to) {
      const u = doc.users[to.user];
      if (u === undefined) throw noSuchUser(to.user);
      return u;
    }
    const g = doc.groups[to.group];
    if (g === undefined) throw new IamError("NoSuchGroup", `Group "${to.group}" does not exist`);
    return g;
  }

  /** Applies `mutate` to a copy, stores it, then swaps it in; one change at a time. */
  #change(mutate: (doc: IamDocument) => void): Promise<void> {
    const run = async () => {
      const next = structuredClone(this.#doc);
      mutate(next);
      await this.#write(next);
      this.#swap(next);
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => {});
    return p;
  }

  #swap(doc: IamDocument): void {
    const parsed = new Map<string, Policy>();
    for (const [name, json] of Object.entries(CANNED_POLICY_JSON)) {
      parsed.set(name, parsePolicy(json, { kind: "identity" }));
    }
    for (const [name, json] of Object.entries(doc.policies)) {
      parsed.set(name, parsePolicy(json, { kind: "identity" }));
    }
    this.#doc = doc;
    this.#parsed = parsed;
  }

  async #read(): Promise<IamDocument> {
    let reader;
    try {
      reader = await this.objects.openObject(IAM_BUCKET, IAM_OBJECT);
    } catch (e) {
      if (e instanceof ObjectNotFound) return emptyDocument();
      throw e;
    }
    if (reader.info.size > IAM_DOCUMENT_BYTES_MAX) {
      reader.close();
      throw new Error(`IAM document is ${reader.info.size} bytes, over IAM_DOCUMENT_BYTES_MAX`);
    }
    const bytes = new Uint8Array(
      await new Response(reader.stream(0, reader.info.size)).arrayBuffer(),
    );
    const doc = JSON.parse(new TextDecoder().decode(this.#open(bytes))) as IamDocument;
    if (doc.format !== FORMAT || typeof doc.version !== "number" || doc.version > FORMAT_VERSION) {
      throw new Error(`IAM document has unknown format "${String(doc.format)}" v${doc.version}`);
    }
    return { ...emptyDocument(), ...doc };
  }

  async #write(doc: IamDocument): Promise<void> {
    const plain = new TextEncoder().encode(JSON.stringify(doc));
    if (plain.byteLength + SEALED_OVERHEAD_BYTES > IAM_DOCUMENT_BYTES_MAX) {
      throw new IamError("InvalidArgument", "Too many users, groups or policies");
    }
    const bytes = seal(this.#sealKeys[0]!, plain);
    await this.objects.putObject(IAM_BUCKET, IAM_OBJECT, new Blob([bytes]).stream(), {
      size: bytes.byteLength,
      metadata: { contentType: "application/octet-stream", user: {} },
    });
  }

  /** The document's JSON: plain (format 1) or sealed under the current or a previous root key. */
  #open(bytes: Uint8Array): Uint8Array {
    this.#staleSeal = true;
    if (!isSealed(bytes)) return bytes;
    for (const [i, key] of this.#sealKeys.entries()) {
      const plain = unseal(key, bytes);
      if (plain === undefined) continue;
      this.#staleSeal = i > 0;
      return plain;
    }
    throw new Error(
      "The IAM document does not open with the root secret key (sealed under another one, or " +
        "damaged): start with the root credentials it was sealed under",
    );
  }
}

// The sealed IAM document: MAGIC[8] || version u8 (2) || nonce[12] || AES-256-GCM(JSON) || tag[16],
// the first 9 bytes as associated data.
const SEAL_MAGIC = new TextEncoder().encode("SHALEIAM");
const SEAL_VERSION = 2;
const SEAL_HEADER_BYTES = SEAL_MAGIC.byteLength + 1;
const SEAL_NONCE_BYTES = 12;
const SEAL_TAG_BYTES = 16;
const SEALED_OVERHEAD_BYTES = SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + SEAL_TAG_BYTES;

function sealKey(rootSecretKey: string): Uint8Array {
  return new Uint8Array(
    createHmac("sha256", rootSecretKey).update("shale iam document v2").digest(),
  );
}

function isSealed(bytes: Uint8Array): boolean {
  return bytes.byteLength >= SEALED_OVERHEAD_BYTES &&
    SEAL_MAGIC.every((b, i) => bytes[i] === b);
}

function seal(key: Uint8Array, plain: Uint8Array): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(SEAL_HEADER_BYTES);
  header.set(SEAL_MAGIC, 0);
  header[SEAL_MAGIC.byteLength] = SEAL_VERSION;
  const nonce = crypto.getRandomValues(new Uint8Array(SEAL_NONCE_BYTES));
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(header);
  const body = c.update(plain);
  const tail = c.final();
  const out = new Uint8Array(SEALED_OVERHEAD_BYTES + body.byteLength + tail.byteLength);
  out.set(header, 0);
  out.set(nonce, SEAL_HEADER_BYTES);
  out.set(body, SEAL_HEADER_BYTES + SEAL_NONCE_BYTES);
  out.set(tail, SEAL_HEADER_BYTES + SEAL_NONCE_BYTES + body.byteLength);
  out.set(c.getAuthTag(), out.byteLength - SEAL_TAG_BYTES);
  return out;
}

/** The plaintext, or undefined when the key is not the one it was sealed under (or damage). */
function unseal(key: Uint8Array, bytes: Uint8Array): Uint8Array | undefined {
  const version = bytes[SEAL_MAGIC.byteLength];
  if (version !== SEAL_VERSION) {
    throw new Error(`IAM document has unknown sealed version "${String(version)}"`);
  }
  const nonce = bytes.subarray(SEAL_HEADER_BYTES, SEAL_HEADER_BYTES + SEAL_NONCE_BYTES);
  const d = createDecipheriv("aes-256-gcm", key, nonce);
  d.setAAD(bytes.subarray(0, SEAL_HEADER_BYTES));
  d.setAuthTag(bytes.subarray(bytes.byteLength - SEAL_TAG_BYTES));
  try {
    const body = d.update(
      bytes.subarray(SEAL_HEADER_BYTES + SEAL_NONCE_BYTES, bytes.byteLength - SEAL_TAG_BYTES),
    );
    const tail = d.final();
    const out = new Uint8Array(body.byteLength + tail.byteLength);
    out.set(body, 0);
    out.set(tail, body.byteLength);
    return out;
  } catch {
    return undefined;
  }
}

/** The object layer as S3 sees it: the reserved IAM bucket left out of ListBuckets. */
export function hideIamBucket(objects: ObjectLayer): ObjectLayer {
  return new Proxy(objects, {
    get(target, prop, receiver) {
      if (prop === "listBuckets") {
        return async () => (await target.listBuckets()).filter((b) => b.name !== IAM_BUCKET);
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const ACCESS_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function randomKey(length: number, alphabet = SECRET_ALPHABET): string {
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

function checkAccessKey(k: string): void {
  if (
    k.length < ACCESS_KEY_CHARS_MIN || k.length > ACCESS_KEY_CHARS_MAX || !/^[\w.@+=-]+$/.test(k)
  ) {
    throw new IamError(
      "InvalidArgument",
      `Access key must be ${ACCESS_KEY_CHARS_MIN} to ${ACCESS_KEY_CHARS_MAX} characters of letters, digits and .@+=_-`,
    );
  }
}

function checkSecretKey(k: string): void {
  if (k.length < SECRET_KEY_CHARS_MIN || k.length > SECRET_KEY_CHARS_MAX) {
    throw new IamError(
      "InvalidArgument",
      `Secret key must be ${SECRET_KEY_CHARS_MIN} to ${SECRET_KEY_CHARS_MAX} characters`,
    );
  }
}

function checkName(name: string, what: string): void {
  if (name.length === 0 || name.length > IAM_NAME_CHARS_MAX || !/^[\w.@+=,-]+$/.test(name)) {
    throw new IamError("InvalidArgument", `Invalid ${what} name "${name}"`);
  }
}

function noSuchUser(name: string): IamError {
  return new IamError("NoSuchUser", `User "${name}" does not exist`);
}

function noSuchPolicy(name: string): IamError {
  return new IamError("NoSuchPolicy", `Policy "${name}" does not exist`);
}

/** A policy's size as AWS counts it: characters, JSON whitespace (space, tab, CR, LF) not counted. */
function policyChars(json: string): number {
  let n = 0;
  for (const ch of json) {
    if (ch !== " " && ch !== "\t" && ch !== "\n" && ch !== "\r") n++;
  }
  return n;
}
