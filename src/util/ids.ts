/** Request ids look like MinIO's and AWS's: 16 upper-case hex characters, time-ordered. */
export function newRequestId(): string {
  const time = BigInt(Date.now()) * 1000n + BigInt(Math.floor(performance.now() * 1000) % 1000);
  const rand = crypto.getRandomValues(new Uint8Array(2));
  return (time.toString(16).padStart(13, "0").slice(-13) +
    (((rand[0] ?? 0) << 8 | (rand[1] ?? 0)) & 0xfff).toString(16).padStart(3, "0")).toUpperCase();
}

/** A random RFC 4122 version 4 UUID. */
export function newUuid(): string {
  return crypto.randomUUID();
}
