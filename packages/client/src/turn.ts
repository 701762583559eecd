import { getAuth } from "firebase/auth";
import { getFunctions, httpsCallable, type Functions } from "firebase/functions";
import { FUNCTIONS_REGION, TURN_CREDENTIALS_CALLABLE } from "@webrtc-lite/contract";
import { createCredentialCache, type TurnCredentials } from "./credentials.js";

/** TURN credentials for the signed-in user, cached until shortly before they expire. */
export interface TurnClient {
  /** `iceServers` for `new RTCPeerConnection({ iceServers })`. */
  getIceServers(): Promise<RTCIceServer[]>;
  /** The whole checked answer, including `expiresAt` and the TURN `uris`. */
  getCredentials(): Promise<TurnCredentials>;
  /** Forgets the cached credentials; call it when the user signs out. */
  clear(): void;
  /** The server's time as the last credentials imply it (epoch ms), for `firestoreSignaling`'s `serverNowMillis`; `undefined` before any. */
  serverNowMillis(): number | undefined;
}

/** Options for `createTurnClient`. */
export interface TurnClientOptions {
  /** Seconds the credentials should live (60–86400); the function's default (3600) when left out. */
  ttl?: number;
  /** The clock, in milliseconds; tests replace it. */
  now?: () => number;
}

/** A `TurnClient` that calls `getTurnCredentials` on the given Functions instance. */
export function createTurnClient(functions: Functions, options: TurnClientOptions = {}): TurnClient {
  const callable = httpsCallable<{ ttl?: number }, unknown>(functions, TURN_CREDENTIALS_CALLABLE);
  const request = options.ttl === undefined ? {} : { ttl: options.ttl };
  const cache = createCredentialCache(async () => (await callable(request)).data, options.now);
  return {
    getIceServers: async () => (await cache.get()).iceServers,
    getCredentials: () => cache.get(),
    clear: () => cache.clear(),
    serverNowMillis: () => cache.serverNowMillis(),
  };
}

const clients = new WeakMap<Functions, { uid: string | undefined; client: TurnClient }>();

/**
 * `iceServers` from `getTurnCredentials` for the signed-in user, cached per Functions instance
 * (the default app's, in `us-central1`, when none is given) and per user: the TURN username
 * names the uid, so another user signing in gets credentials of their own.
 */
export function getIceServers(functions: Functions = getFunctions(undefined, FUNCTIONS_REGION)): Promise<RTCIceServer[]> {
  const uid = getAuth(functions.app).currentUser?.uid;
  let cached = clients.get(functions);
  if (!cached || cached.uid !== uid) {
    cached = { uid, client: createTurnClient(functions) };
    clients.set(functions, cached);
  }
  return cached.client.getIceServers();
}
