/**
 * Root credentials when none are in the environment: a random pair generated on first start,
 * stored with mode 0600 next to the drives (in the first drive's parent folder), reused later.
 */
import type { RootCredentials } from "./cli.ts";

export const CREDENTIALS_FILE_NAME = ".shale-credentials";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Where the generated pair lives for this drive list: `<parent of drives[0]>/.shale-credentials`. */
export function credentialsFilePath(firstDrive: string): string {
  const trimmed = firstDrive.replace(/\/+$/, "") || "/";
  const cut = trimmed.lastIndexOf("/");
  const parent = cut < 0 ? "." : cut === 0 ? "/" : trimmed.slice(0, cut);
  return `${parent === "/" ? "" : parent}/${CREDENTIALS_FILE_NAME}`;
}

/** A random access key (20 upper-case letters and digits) and secret key (40 characters). */
export function generateRootCredentials(): RootCredentials {
  return { accessKey: randomString(ALNUM, 20), secretKey: randomString(SECRET_CHARS, 40) };
}

/**
 * Reads the stored pair, or generates and stores one (mode 0600, never overwriting a file another
 * process wrote first). `generated` tells whether this call created it.
 */
export async function loadOrCreateRootCredentials(
  path: string,
): Promise<{ credentials: RootCredentials; generated: boolean }> {
  const existing = await readCredentials(path);
  if (existing !== undefined) return { credentials: existing, generated: false };
  const credentials = generateRootCredentials();
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  await Deno.mkdir(parent, { recursive: true });
  try {
    await Deno.writeTextFile(path, JSON.stringify(credentials) + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    const raced = await readCredentials(path);
    if (raced === undefined) throw new Error(`Credentials file "${path}" is unreadable`);
    return { credentials: raced, generated: false };
  }
  await Deno.chmod(path, 0o600);
  return { credentials, generated: true };
}

async function readCredentials(path: string): Promise<RootCredentials | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const parsed = JSON.parse(text) as Partial<RootCredentials>;
  if (typeof parsed.accessKey !== "string" || typeof parsed.secretKey !== "string") {
    throw new Error(`Credentials file "${path}" does not hold accessKey and secretKey`);
  }
  return { accessKey: parsed.accessKey, secretKey: parsed.secretKey };
}

function randomString(alphabet: string, length: number): string {
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
