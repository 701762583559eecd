import { answerSchema, describeIssues, incomingCallAction, type Session } from "@webrtc-lite/contract";
import type { CallOptions, IncomingCall } from "./call.js";
import { collectGatheredCandidates } from "./peer.js";
import { CallSession, callErrorFrom, readSessionOrFail } from "./session.js";
import { CallError } from "./state.js";
import type { RawRingingSession, RingingSnapshot, SignalingStore, Unsubscribe } from "./store.js";

/**
 * Listens for calls ringing for `calleeId` (the incoming-calls query of docs/signaling.md) and
 * reports the list whenever it changes. Which documents ring, and for how long, is the
 * contract's `incomingCallAction`: snapshots from the cache are ignored; a call nobody has
 * answered or ended rings from its first sighting in a server snapshot, for `ring_seconds` if it
 * arrived while listening, or until its ring deadline plus `RING_DEADLINE.clockToleranceMs` by
 * this device's clock if it was in the first server snapshot. A device clock that is off
 * therefore never hides a call that arrives while listening. Sessions that break the contract
 * are reported once to `onError` and left out.
 */
export function listenForCalls(
  store: SignalingStore,
  calleeId: string,
  onCalls: (calls: IncomingCall[]) => void,
  onError: (error: CallError) => void,
  options: CallOptions = {},
): Unsubscribe {
  /** When each call stops ringing by this device's clock, decided when it was first seen. */
  const ringsUntil = new Map<string, number>();
  const known = new Map<string, IncomingCall>();
  const reported = new Set<string>();
  let ringing: Array<{ id: string; session: Session }> = [];
  let shown: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const render = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const now = Date.now();
    let next = Infinity;
    const calls: IncomingCall[] = [];
    for (const { id, session } of ringing) {
      const end = ringsUntil.get(id)!;
      if (now >= end) continue;
      next = Math.min(next, end);
      if (!known.has(id)) known.set(id, incomingCall(store, id, session, options));
      calls.push(known.get(id)!);
    }
    // Nothing may change in Firestore when a call stops ringing: a timer takes it off the list.
    if (next < Infinity) timer = setTimeout(render, next - now);
    const ids = calls.map((call) => call.sessionId).join(",");
    if (ids === shown) return;
    shown = ids;
    onCalls(calls);
  };

  const changed = (sessions: RawRingingSession[], snapshot: RingingSnapshot): void => {
    // A cached snapshot decides nothing: what rings keeps ringing until the server says otherwise.
    if (snapshot.fromCache) return;
    const now = Date.now();
    ringing = [];
    for (const { id, data } of sessions) {
      let session: Session;
      try {
        session = readSessionOrFail(data, id);
      } catch (error) {
        if (!reported.has(id)) onError(callErrorFrom(error, "read a ringing call"));
        reported.add(id);
        continue;
      }
      if (session.callee_id !== calleeId || !session.offer) continue;
      const decision = incomingCallAction({ ...snapshot, document: session, deviceNowMillis: now });
      // The first sighting decides how long a call rings (0: not at all), whatever later snapshots hold.
      if (!ringsUntil.has(id)) ringsUntil.set(id, now + (decision.action === "ring" ? decision.ringForMs : 0));
      if (decision.action === "ring") ringing.push({ id, session });
    }
    render();
  };

  const stop = store.watchRinging(calleeId, changed, (error) => onError(callErrorFrom(error, "listen for incoming calls")));
  return () => {
    clearTimeout(timer);
    stop();
  };
}

function endedBeforeAnswer(): CallError {
  return new CallError("permission-denied", "The call ended before it was answered: the caller hung up or gave up.");
}

function incomingCall(store: SignalingStore, sessionId: string, session: Session, options: CallOptions): IncomingCall {
  const offer = session.offer!;
  return {
    sessionId,
    callerId: session.caller_id,
    async answer(pc) {
      const call = new CallSession(store, pc, "callee", sessionId, session.caller_id, options, collectGatheredCandidates(pc));
      // The peer-candidates listener first: the caller's candidates are waiting in its document; they are buffered until the offer is set.
      call.watchPeerCandidates();
      try {
        await pc.setRemoteDescription(offer);
        call.markRemoteReady();
        const local = await pc.createAnswer();
        await pc.setLocalDescription(local);
        const answer = answerSchema.safeParse({ type: "answer", sdp: local.sdp ?? "" });
        if (!answer.success) throw new CallError("invalid-argument", `This browser's answer cannot be sent: ${describeIssues(answer.error)}`);
        // The caller's document went away while this side was busy: nothing to answer any more.
        if (call.state.phase === "ended") throw endedBeforeAnswer();
        // From here the answer batch may have landed even if it reports a failure (a lost
        // acknowledgement): an end must then delete the document the caller listens to.
        call.documentMayExist();
        await store.answerCall(sessionId, session, answer.data, call.firstCandidates());
      } catch (error) {
        if (call.state.phase === "ended" && !call.state.error) throw endedBeforeAnswer();
        const failure = callErrorFrom(error, "answer the call");
        // A refusal that was not this side's own resent batch (the store reads back and tells
        // them apart) means nothing of the batch landed: an end request now could end the call
        // that another device of this user answered. Any other failure may hide a batch that
        // landed with its acknowledgement lost, so the end deletes the document the caller listens to.
        if (failure.code === "permission-denied") call.failHere(failure, "answer the call");
        else call.fail(failure, "answer the call");
        throw failure;
      }
      call.documentCreated();
      call.apply({ type: "answered" });
      return call;
    },
    async reject(reason = "reject") {
      try {
        await store.requestEnd(sessionId, "callee", reason, false);
      } catch (error) {
        const failure = callErrorFrom(error, "reject the call");
        if (failure.code !== "permission-denied") throw failure;
      }
    },
  };
}
