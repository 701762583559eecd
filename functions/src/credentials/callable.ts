import { onCall } from "firebase-functions/v2/https";
import { enforceAppCheck, stunUris, turnSharedSecret, turnUris } from "../config";
import { handleGetTurnCredentials } from "./handler";

/** Callable `getTurnCredentials`: short-lived TURN REST API credentials for the signed-in user. */
export const getTurnCredentials = onCall(
  { secrets: [turnSharedSecret] },
  (request) =>
    handleGetTurnCredentials(request, {
      secret: turnSharedSecret.value(),
      turnUris: turnUris.value(),
      stunUris: stunUris.value(),
      enforceAppCheck: enforceAppCheck.value(),
    }),
);
