/** Credential look-up and session-token checks shared by SigV4, SigV2 and POST policies. */
import { constantTimeEqual } from "./_crypto.ts";
import { type AuthOptions, type Credentials, SigV4Error } from "./types.ts";

export async function lookupCredentials(
  accessKey: string,
  opts: AuthOptions,
): Promise<Credentials> {
  const creds = await opts.lookup(accessKey);
  if (creds === undefined) {
    throw new SigV4Error(
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
      { AWSAccessKeyId: accessKey },
    );
  }
  return creds;
}

export function checkSessionToken(
  creds: Credentials,
  token: string | undefined,
  now: Date,
): void {
  const expected = creds.sessionToken;
  if (expected !== undefined || token !== undefined) {
    if (expected === undefined || token === undefined || !constantTimeEqual(expected, token)) {
      throw new SigV4Error(
        "InvalidTokenId",
        "The security token included in the request is invalid.",
      );
    }
  }
  if (creds.expiresAt !== undefined && now.getTime() >= creds.expiresAt.getTime()) {
    throw new SigV4Error("ExpiredToken", "The provided token has expired.");
  }
}
