/** Who signed a request, as authorization needs to know them. */
import type { Policy } from "./policy.ts";

export interface Identity {
  accessKey: string;
  /** The user name: a service account's or an STS session's is its parent user's. */
  username: string;
  /** The root user is allowed everything (bucket policies included), as in MinIO. */
  isRoot: boolean;
  /** Identity-based policies: the user's own and its groups'. */
  policies: readonly Policy[];
  /**
   * Further policy sets that must each allow the request too (a service account's inline policy,
   * an STS session policy): the effective permissions are the intersection.
   */
  limits?: readonly (readonly Policy[])[];
}

export function rootIdentity(accessKey: string): Identity {
  return { accessKey, username: accessKey, isRoot: true, policies: [] };
}
