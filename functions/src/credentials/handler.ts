import { HttpsError, type CallableRequest } from "firebase-functions/v2/https";
import { logCredentialRequestRefused, logTurnConfigUnusable, logUnexpectedError } from "../logs";
import { pickCredentialHosts } from "./hosts";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { parseCredentialRequest, type TurnCredentials } from "@webrtc-lite/contract/credentials";
import { buildCredentialsResponse } from "./response";
import { resolveTurnSettings, type RawTurnSettings } from "./settings";

/** The part of a callable request the handler reads. */
export type CredentialCall = Pick<CallableRequest<unknown>, "auth" | "app" | "data">;

/** How the handler is configured: the raw TURN settings and the App Check switch. */
export interface CredentialHandlerConfig extends RawTurnSettings {
  enforceAppCheck: boolean;
}

/**
 * Answers one `getTurnCredentials` call: signed-in caller, valid `data`, usable configuration,
 * then a credential for `now + ttl` naming the uid's TURN host and its fallback. Errors are `HttpsError`s whose messages never carry the secret.
 */
export function handleGetTurnCredentials(
  call: CredentialCall,
  config: CredentialHandlerConfig,
  nowMillis: number = Date.now(),
): TurnCredentials {
  const uid = call.auth?.uid;
  if (!uid) {
    logCredentialRequestRefused("unauthenticated", undefined, "no Firebase Auth user");
    throw new HttpsError("unauthenticated", "Sign in with Firebase Auth before asking for TURN credentials.");
  }

  // Checked here rather than with onCall's enforceAppCheck option so that the switch is a
  // runtime param, and so a missing and an invalid token get the same actionable answer.
  if (config.enforceAppCheck && !call.app) {
    logCredentialRequestRefused("unauthenticated", uid, "no valid App Check token");
    throw new HttpsError("unauthenticated", "This app must send a valid App Check token: App Check is enforced for TURN credentials.");
  }

  const parsed = parseCredentialRequest(call.data);
  if (!parsed.ok) {
    logCredentialRequestRefused("invalid-argument", uid, parsed.message);
    throw new HttpsError("invalid-argument", parsed.message);
  }

  const checked = resolveTurnSettings(config);
  if (!checked.ok) {
    logTurnConfigUnusable(checked.problems);
    throw new HttpsError(
      "failed-precondition",
      "TURN credentials are not available: the server's TURN configuration is incomplete. The operator has been told in the function logs.",
    );
  }

  try {
    const minted = mintTurnCredential(checked.settings.secret, uid, parsed.request.ttl, nowMillis);
    // The uid's own host and its fallback, the same for every call of this uid: a client
    // allocates on two coturns, not on each host of TURN_URIS, and relays through the first
    // unless it is down.
    const [host, ...fallbacks] = pickCredentialHosts(checked.settings.hosts, uid);
    if (!host) throw new RangeError("the settings name no TURN host");
    return buildCredentialsResponse(minted, parsed.request.ttl, host, ...fallbacks);
  } catch (error) {
    logUnexpectedError("mint turn credential", error);
    throw new HttpsError("internal", "Could not mint TURN credentials; try again later.");
  }
}
