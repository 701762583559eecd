import { z } from "zod";
import { TTL_LIMITS } from "./policy.js";

/** One entry of `iceServers`, as `RTCPeerConnection` takes it. */
export const iceServerSchema = z.object({
  // The function always sends a list; RTCPeerConnection also takes a single string.
  urls: z.array(z.string().min(1)).min(1),
  username: z.string().min(1).optional(),
  credential: z.string().min(1).optional(),
});

/**
 * What `getTurnCredentials` answers. Not strict: a server that adds a field must not break
 * clients already in the field.
 */
export const turnCredentialsSchema = z.object({
  username: z.string().regex(/^\d+:.+$/, "must look like <unix expiry>:<uid>"),
  credential: z.string().min(1),
  ttl: z.number().int().min(TTL_LIMITS.min).max(TTL_LIMITS.max),
  expiresAt: z.number().int().positive(),
  // The TURN URIs of every host the credential names, the caller's own host first (with several
  // hosts, a fallback follows, which ICE relays through when the first is down).
  uris: z.array(z.string().regex(/^turns?:/, "must be a turn: or turns: URI")).min(1),
  // One STUN entry, then one TURN entry per named host in preference order.
  iceServers: z.array(iceServerSchema).min(1),
});

/** What `getTurnCredentials` returns: the credential, its lifetime, the TURN URIs and `iceServers`. */
export type TurnCredentials = z.infer<typeof turnCredentialsSchema>;

/** One entry of `TurnCredentials.iceServers`. */
export type IceServer = z.infer<typeof iceServerSchema>;
