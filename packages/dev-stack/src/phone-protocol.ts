// What a test says to a phone (a libwebrtc client driving one side of a call with the project's
// web client) and what the phone reports back. Both directions are checked at the edge: the
// phone parses each command, the test parses each event.
import { z } from "zod";

const endpointSchema = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) });

const iceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string()).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** The peer connection's configuration, from the test: its ICE servers (TURN credentials included) and policy; other fields pass through. */
export const rtcConfigurationSchema = z.looseObject({
  iceServers: z.array(iceServerSchema),
  iceTransportPolicy: z.enum(["all", "relay"]).optional(),
});

/** A peer connection's configuration as a phone takes it. */
export type PhoneRtcConfiguration = z.infer<typeof rtcConfigurationSchema>;

/** `CallOptions` as JSON: handed to startCall / answer untouched (only `onWarning` is the phone's own). */
const callOptionsSchema = z.record(z.string(), z.unknown());

const id = z.number().int().nonnegative();

/** One command; each is answered by one `result` event with the same `id`. */
export const phoneCommandSchema = z.discriminatedUnion("type", [
  /**
   * Signs a new anonymous user in on the Auth emulator and connects Firestore to its emulator;
   * the result is the uid. With `restartStreamsOnNetworkChange`, the phone watches its own
   * addresses and restarts Firestore's streams when they change, as the Android and iOS SDKs do
   * on a connectivity change and as Chromium's aborted requests (ERR_NETWORK_CHANGED) make the
   * web SDK do: Node gives the SDK no such signal, and a stream whose local address is gone
   * would otherwise wait for TCP to give up (minutes). It also tells its call
   * (`Call.restartIce()`), as an app's network monitor does.
   */
  z.object({
    id,
    type: z.literal("sign-in"),
    projectId: z.string().min(1),
    auth: endpointSchema,
    firestore: endpointSchema,
    restartStreamsOnNetworkChange: z.boolean(),
  }),
  /** Opens a data channel labelled `channel` on a new peer connection and calls `calleeId`; the result is `{ sessionId }` once it rings. */
  z.object({ id, type: z.literal("call"), calleeId: z.string().min(1), rtc: rtcConfigurationSchema, options: callOptionsSchema, channel: z.string().min(1) }),
  /** Answers the first call that rings within `timeoutMs` (one ringing already counts); the result is `{ sessionId, callerId }`. */
  z.object({ id, type: z.literal("answer"), rtc: rtcConfigurationSchema, options: callOptionsSchema, timeoutMs: z.number().int().positive() }),
  /** Sends `text` on the call's data channel (it must be open). */
  z.object({ id, type: z.literal("send"), text: z.string() }),
  /** The selected candidate pair of the call's peer connection, or null while there is none. */
  z.object({ id, type: z.literal("stats") }),
  /** Hangs the call up and closes its peer connection. */
  z.object({ id, type: z.literal("hang-up") }),
]);
/** A command to a phone. */
export type PhoneCommand = z.infer<typeof phoneCommandSchema>;
/** A command as the test writes it (the phone numbers them). */
export type PhoneRequest = PhoneCommand extends infer C ? (C extends PhoneCommand ? Omit<C, "id"> : never) : never;
/** What a phone's command resolves with, per command type. */
export interface PhoneResults {
  "sign-in": string;
  call: { sessionId: string };
  answer: { sessionId: string; callerId: string };
  send: null;
  stats: SelectedPair | null;
  "hang-up": null;
}

const at = z.number();
const candidateSchema = z.object({ candidateType: z.string(), address: z.string(), port: z.number(), protocol: z.string(), relayProtocol: z.string().optional() });

/** The selected candidate pair, from `getStats()`. */
export const selectedPairSchema = z.object({
  state: z.string(),
  local: candidateSchema,
  remote: candidateSchema,
  bytesSent: z.number(),
  bytesReceived: z.number(),
});
/** The candidate pair a peer connection uses. */
export type SelectedPair = z.infer<typeof selectedPairSchema>;

/** What a phone reports; `at` is its `Date.now()` (one machine, one clock). */
export const phoneEventSchema = z.discriminatedUnion("type", [
  /** The phone listens for commands (sent once, first). */
  z.object({ type: z.literal("ready"), at }),
  /** The outcome of command `id`: its value, or the error's message. */
  z.object({ type: z.literal("result"), id, ok: z.boolean(), value: z.unknown(), error: z.string().optional() }),
  /** The call's state (Call.onStateChange). */
  z.object({ type: z.literal("state"), at, phase: z.enum(["ringing", "connecting", "connected", "reconnecting", "ended"]), reason: z.string().optional(), error: z.string().optional() }),
  /** The peer connection's ICE and connection states, on each of its two change events (`cause`). */
  z.object({ type: z.literal("ice"), at, cause: z.enum(["iceconnectionstatechange", "connectionstatechange"]), iceConnectionState: z.string(), connectionState: z.string() }),
  /** The phone's IPv4 addresses changed (`at`); Firestore's streams were restarted by `restartedAt`. */
  z.object({ type: z.literal("network"), at, addresses: z.array(z.string()), restartedAt: z.number().optional() }),
  /** The data channel opened or closed. */
  z.object({ type: z.literal("channel"), at, label: z.string(), state: z.enum(["open", "closed"]) }),
  /** A data-channel message arrived. */
  z.object({ type: z.literal("message"), at, text: z.string() }),
  /** The client reported a problem that does not end the call (CallOptions.onWarning), or the incoming-calls listener failed. */
  z.object({ type: z.literal("warning"), at, code: z.string(), message: z.string() }),
]);
/** An event from a phone. */
export type PhoneEvent = z.infer<typeof phoneEventSchema>;
/** An event a phone reports of its own accord (every one but command results), each with its time. */
export type PhoneReport = Exclude<PhoneEvent, { type: "result" }>;
