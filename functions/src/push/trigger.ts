import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { SESSIONS_COLLECTION } from "@webrtc-lite/contract";
import { adminApp, adminFirestore } from "../admin";
import { configuredTimeouts } from "../sessions/settings";
import { ApnsClient } from "./apns";
import { handleSessionPush, type PushTransport } from "./deliver";
import { firebaseMessagingSender } from "./fcm";
import { apnsAuthKey, configuredApns } from "./settings";

// Events this instance has handled: the first one paid for loading the modules (a cold start).
let handled = 0;

// One APNs client per instance and key, so a warm instance reuses its connection and provider token.
let apns: { pem: string; client: ApnsClient } | undefined;

function apnsTransport(): PushTransport["apns"] {
  const settings = configuredApns();
  if (!settings.configured) return { problem: settings.problem };
  if (apns?.pem !== settings.privateKeyPem) {
    apns?.client.close();
    try {
      apns = { pem: settings.privateKeyPem, client: new ApnsClient(settings) };
    } catch (error) {
      apns = undefined;
      return { problem: (error as Error).message };
    }
  }
  return { send: (request) => apns!.client.send(request), bundleIds: settings.bundleIds };
}

/**
 * Firestore trigger, beside the session trigger and independent of it: rings the callee's
 * registered devices when a session is created and tells them when it stops ringing. A write
 * that does neither costs no read. If this function is down, calls still ring in the app's
 * incoming-calls listener; only devices whose app is not running miss them.
 */
export const notifyCallee = onDocumentWritten({ document: `${SESSIONS_COLLECTION}/{sessionId}`, secrets: [apnsAuthKey] }, async (event) => {
  const transport: PushTransport = {
    sendFcm: firebaseMessagingSender(await adminApp()),
    // Resolved only when an iOS target is about to be pushed to.
    get apns() {
      return apnsTransport();
    },
  };
  const change = { sessionId: event.params.sessionId, before: event.data?.before.data(), after: event.data?.after.data() };
  await handleSessionPush(await adminFirestore(), transport, change, configuredTimeouts(), { coldStart: handled++ === 0 });
});
