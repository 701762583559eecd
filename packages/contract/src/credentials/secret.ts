import { MIN_SECRET_LENGTH } from "./policy.js";

// coturn reads `static-auth-secret=<value>` from a line of its config file: whitespace or
// control characters would be cut off or break the line, so the two sides would disagree.
const CONFIG_SAFE = /^[\x21-\x7e]+$/;

/**
 * Says what makes a shared secret unusable, or `undefined` when it is fine. The answer never
 * contains the secret or anything derived from it (not even its length).
 */
export function sharedSecretProblem(secret: string): string | undefined {
  if (secret.length === 0) {
    return "TURN_SHARED_SECRET is not set: run `firebase functions:secrets:set TURN_SHARED_SECRET`";
  }
  if (!CONFIG_SAFE.test(secret)) {
    return "TURN_SHARED_SECRET contains whitespace, control or non-ASCII characters, which a coturn config line cannot carry";
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    return `TURN_SHARED_SECRET is shorter than ${MIN_SECRET_LENGTH} characters: generate one with \`openssl rand -hex 32\``;
  }
  return undefined;
}
