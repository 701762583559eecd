import { answerSchema, describeIssues, ringDeadlineMillis, type Session } from "@webrtc-lite/contract";
import type { CallOptions, IncomingCall } from "./call.js";
import { collectGatheredCandidates } from "./peer.js";
import { CallSession, callErrorFrom, readSessionOrFail } from "./session.js";
import { CallError } from "./state.js";
import type { RawRingingSession, SignalingStore, Unsubscribe } from "./store.js";

/** How far the device clock may be ahead of the server's before a call found already ringing is hidden early. */
const DEFAULT_CLOCK_TOLERANCE_MS = 120_000;

/** When this device first saw a session, and whether it arrived after the listener had synced (so it is new). */
interface Sighting {
  at: number;
  arrivedLive: boolean;
}

/**
 * Listens for calls ringing for `calleeId` (the incoming-calls query of docs/signaling.md) and reports the list
 * whenever it changes. A call rings while nobody has answered or ended it and until its ring
 * deadline: `ring_seconds` after this device first saw it, and, for a call that was already
 * there when the listener started, `created_at + ring_seconds` by this device's clock with
 * `clockToleranceMs` of slack. A call that arrives while listening is new by construction, so
 * a device clock that is off never hides it. Sessions that break the contract are reported
 * once to `onError` and left out.
 */
export function listenForCalls(
  store: SignalingStore,
  calleeId: string,
  onCalls: (calls: IncomingCall[]) => void,
  onError: (error: CallError) => void,
  options: CallOptions = {},
): Unsubscribe {
  const tolerance = options.clockToleranceMs ?? DEFAULT_CLOCK_TOLERANCE_MS;
  const sightings = new Map<string, Sighting>();
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
      const seen = sightings.get(id)!;
      const localEnd = seen.at + session.ring_seconds * 1_000;
      const end = seen.arrivedLive ? localEnd : Math.min(localEnd, ringDeadlineMillis(session) + tolerance);
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

  const changed = (sessions: RawRingingSession[], initial: boolean): void => {
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
      if (!sightings.has(id)) sightings.set(id, { at: now, arrivedLive: !initial });
      const live = session.status === "pending" || session.status === "offered";
      if (!live || session.callee_id !== calleeId || !session.offer || session.answer || session.end_request) continue;
      ringing.push({ id, session });
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
        call.fail(failure, "answer the call");
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
