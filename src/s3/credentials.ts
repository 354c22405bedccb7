/**
 * Where the S3 layer looks up secret keys and, for authorization, who a key belongs to. The root
 * pair alone (`staticCredentialStore`) or the IAM store (`src/iam/store.ts`).
 */
import type { Credentials } from "../auth/types.ts";
import { type Identity, rootIdentity } from "../iam/identity.ts";
import type { AssumedRole } from "../iam/sts.ts";

export interface CredentialStore {
  lookup(accessKey: string): Credentials | undefined | Promise<Credentials | undefined>;
  /**
   * Who the key belongs to and the policies that apply; undefined when it is no longer live.
   * Optional: a store without it treats every key it knows as root (no IAM).
   */
  identity?(accessKey: string): Identity | undefined | Promise<Identity | undefined>;
  /** STS, when the store can issue temporary credentials (AssumeRole at `POST /`). */
  sts?: {
    assumeRole(caller: Identity, form: URLSearchParams): Promise<AssumedRole>;
    assumeRoleWithWebIdentity(form: URLSearchParams): Promise<AssumedRole>;
  };
}

/** A store holding a fixed set of credentials (the root pair): each is root. */
export function staticCredentialStore(creds: Credentials[]): CredentialStore {
  const byKey = new Map(creds.map((c) => [c.accessKey, c]));
  return {
    lookup: (accessKey) => byKey.get(accessKey),
    identity: (accessKey) => (byKey.has(accessKey) ? rootIdentity(accessKey) : undefined),
  };
}
