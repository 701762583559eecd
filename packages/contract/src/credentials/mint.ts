import { createHmac } from "node:crypto";

/** A TURN REST API credential pair as coturn's `use-auth-secret` checks it. */
export interface MintedCredential {
  username: string;
  credential: string;
  /** Unix seconds after which coturn refuses the username. */
  expiresAt: number;
}

/**
 * Mints a credential: `username = "<unix expiry>:<uid>"`,
 * `credential = base64(HMAC-SHA1(secret, username))`.
 */
export function mintTurnCredential(
  secret: string,
  uid: string,
  ttlSeconds: number,
  nowMillis: number,
): MintedCredential {
  // Floor, not round: the expiry must never lie later than now + ttl.
  const expiresAt = Math.floor(nowMillis / 1000) + ttlSeconds;
  const username = `${expiresAt}:${uid}`;
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return { username, credential, expiresAt };
}
