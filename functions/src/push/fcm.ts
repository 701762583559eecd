import type { App } from "firebase-admin/app";
import type { PushTransport } from "./deliver";

/**
 * FCM through firebase-admin messaging: `send` posts each message to FCM HTTP v1
 * (`projects/{project}/messages:send`) with the app's OAuth token, the messages of one event
 * side by side over kept-alive connections, and retries 503s and dropped connections itself.
 * (Not `sendEach`: its HTTP/2 requests carry the pseudo-header `:scheme: https:`, which
 * strict HTTP/2 servers, the test's FCM among them, refuse.) Loaded on the first send, so
 * events that send nothing never load it.
 */
export function firebaseMessagingSender(app: App): PushTransport["sendFcm"] {
  return async (messages) => {
    const { getMessaging } = await import("firebase-admin/messaging");
    const messaging = getMessaging(app);
    return Promise.all(
      messages.map((message) =>
        messaging.send(message).then(
          () => undefined,
          (error: { code?: unknown }) => (typeof error.code === "string" ? error.code : "messaging/unknown-error"),
        ),
      ),
    );
  };
}
