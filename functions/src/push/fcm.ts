import type { App } from "firebase-admin/app";
import type { PushTransport } from "./deliver";

/**
 * FCM through firebase-admin messaging: `sendEach` posts each message to FCM HTTP v1
 * (`projects/{project}/messages:send`, over one HTTP/2 connection) with the app's OAuth token,
 * and retries 503s and dropped connections itself. Loaded on the first send, so events that
 * send nothing never load it.
 */
export function firebaseMessagingSender(app: App): PushTransport["sendFcm"] {
  return async (messages) => {
    const { getMessaging } = await import("firebase-admin/messaging");
    const batch = await getMessaging(app).sendEach(messages);
    return batch.responses.map((response) => (response.success ? undefined : (response.error?.code ?? "messaging/unknown-error")));
  };
}
