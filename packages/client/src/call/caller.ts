import { describeIssues, sessionCreateInputSchema, type Session } from "@webrtc-lite/contract";
import type { Call, CallOptions, Participants } from "./call.js";
import { collectGatheredCandidates, type PeerConnection } from "./peer.js";
import { CallSession, callErrorFrom, readSessionOrFail } from "./session.js";
import { CallError } from "./state.js";
import { sessionListenerStep } from "./listeners.js";
import type { ListenedSnapshot, SignalingStore, Unsubscribe } from "./store.js";

/**
 * Calls `participants.calleeId`: makes the offer on `pc`, creates the session and the caller's
 * candidates document in one batch, and follows docs/signaling.md until the call ends. Resolves
 * once that batch has committed, with the call `ringing` (no function needs to have run);
 * rejects with a `CallError` if the session cannot be created. Later failures end the call
 * with `reason: "error"` and the error in its state.
 */
export async function startCall(store: SignalingStore, pc: PeerConnection, participants: Participants, options: CallOptions = {}): Promise<Call> {
  // Gathering starts with setLocalDescription, before the session exists.
  const gathered = collectGatheredCandidates(pc);
  let offer: RTCSessionDescriptionInit;
  try {
    offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
  } catch (error) {
    throw callErrorFrom(error, "create the offer");
  }
  const input = sessionCreateInputSchema.safeParse({
    caller_id: participants.callerId,
    callee_id: participants.calleeId,
    offer: { type: "offer", sdp: offer.sdp ?? "" },
    ring_seconds: options.ringSeconds,
  });
  if (!input.success) throw new CallError("invalid-argument", `Cannot start this call: ${describeIssues(input.error)}`);

  const sessionId = store.newSessionId();
  const call = new CallSession(store, pc, "caller", sessionId, participants.calleeId, options, gathered);
  try {
    await store.createCall(sessionId, input.data, call.firstCandidates());
  } catch (error) {
    throw callErrorFrom(error, "create the call session");
  }
  call.documentCreated();
  followSession(store, pc, call);
  call.startRingTimer(input.data.ring_seconds);
  return call;
}

/**
 * The session listener: the caller's listener on its session, from after the create (the rules refuse it
 * before) until the answer is in; after that the callee's candidates document carries the
 * end signal, so the session costs no further reads. What each snapshot means is
 * `sessionListenerStep`'s; a session that breaks the contract ends the call first.
 */
function followSession(store: SignalingStore, pc: PeerConnection, call: CallSession): void {
  // Filled in once watchSession returns; a first snapshot may arrive before it does.
  const listener: { stop?: Unsubscribe } = {};
  let done = false;
  const finish = (): void => {
    done = true;
    listener.stop?.();
  };
  const changed = (snapshot: ListenedSnapshot): void => {
    if (done) return;
    let session: Session | undefined;
    try {
      if (snapshot.exists) session = readSessionOrFail(snapshot.data ?? {}, call.sessionId);
    } catch (error) {
      finish();
      call.fail(error, "read the session", "cancel");
      return;
    }
    const step = sessionListenerStep(snapshot);
    if (step.action === "ended") {
      finish();
      const gone = session ? undefined : new CallError("unavailable", `Session ${call.sessionId} is gone from Firestore: the call is over.`);
      call.endSignalled(step.reason, step.deleteOwnCandidates, gone);
    } else if (step.action === "apply-answer" && session?.answer) {
      finish();
      pc.setRemoteDescription(session.answer).then(
        () => {
          call.apply({ type: "answered" });
          call.markRemoteReady();
          call.watchPeerCandidates();
        },
        (error: unknown) => call.fail(error, "apply the callee's answer"),
      );
    }
  };
  const stop = store.watchSession(call.sessionId, changed, (error) => call.fail(error, "listen to the call session", "cancel"));
  listener.stop = stop;
  if (done) stop();
  call.track(stop);
}
