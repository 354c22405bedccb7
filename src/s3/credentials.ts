/**
 * Where the S3 layer looks up secret keys. Today only the root pair; IAM users and STS
 * credentials implement the same interface later.
 */
import type { Credentials } from "../auth/types.ts";

export interface CredentialStore {
  lookup(accessKey: string): Credentials | undefined | Promise<Credentials | undefined>;
}

/** A store holding a fixed set of credentials (the root pair). */
export function staticCredentialStore(creds: Credentials[]): CredentialStore {
  const byKey = new Map(creds.map((c) => [c.accessKey, c]));
  return { lookup: (accessKey) => byKey.get(accessKey) };
}
