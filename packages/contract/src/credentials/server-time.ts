/**
 * The server's time when it issued a TURN credential, in epoch ms: the expiry its username
 * starts with (`<unix expiry>:<uid>`) minus its `ttl`, to the second. A device compares it with
 * its own clock to tell a clock too far off (refused `expire_at`s) from other refusals.
 * `undefined` when the username does not start with a whole number.
 */
export function serverTimeOfCredential(credential: { username: string; ttl: number }): number | undefined {
  const expiry = /^(\d+):/.exec(credential.username);
  return expiry ? (Number(expiry[1]) - credential.ttl) * 1_000 : undefined;
}
