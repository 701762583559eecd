/** Bounds of a credential's lifetime, in seconds : 60 ≤ ttl ≤ 86400, 3600 when the caller leaves it out. */
export const TTL_LIMITS = Object.freeze({ min: 60, max: 86_400, default: 3_600 });

/**
 * Shortest shared secret we sign with. 32 characters is what `openssl rand -hex 16` gives;
 * anything shorter is guessable offline from a single captured credential.
 */
export const MIN_SECRET_LENGTH = 32;
