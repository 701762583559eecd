// A signed-in app: places calls (with the limits write planned from memory), keeps the
// incoming-calls query, accepts and declines, and gets TURN credentials through its cache.
// Written from docs/signaling.md and the README's getTurnCredentials section only.
import { performance } from "node:perf_hooks";
import wrtc from "@roamhq/wrtc";
import { deleteApp, initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInAnonymously } from "firebase/auth";
import {
  collection,
  connectFirestoreEmulator,
  deleteField,
  doc,
  getFirestore,
  limit,
  onSnapshot,
  orderBy,
  query,
  serverTimestamp,
  terminate,
  updateDoc,
  where,
  writeBatch,
  type DocumentData,
  type DocumentReference,
  type Firestore,
} from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import { randomUUID } from "node:crypto";
import { Signal, waitOnChanges } from "../snapshots";
import { CANDIDATES, EXPIRE_AFTER_MS, FUNCTIONS_REGION, INCOMING_CALLS_LIMIT, LIMITS_COLLECTION, RING_SECONDS_DEFAULT, SESSIONS, TURN_CREDENTIALS_CALLABLE } from "./constants";
import { CredentialsCache } from "./credentials";
import { DocsCall, REPLACED, isPermissionDenied, readFromServer } from "./call";
import { diagnoseRefusal, type Diagnosis, type RefusalFacts } from "./diagnosis";
import { callEnded } from "./ring";
import { incomingAction } from "./listeners";
import { afterDial, planDial, type DialPlan, type KnownLimits, type LimitsRead, type LiveHere } from "./limits";
import { sdpProblem } from "./sdp";

/** Where the app's Firebase services run. */
export interface DocsAppConfig {
  projectId: string;
  auth: { host: string; port: number };
  firestore: { host: string; port: number };
  /** Where `getTurnCredentials` is served (the Functions emulator, or a forward in front of it). */
  functions: { host: string; port: number } | { answer: () => Promise<unknown> };
  /** The device clock the credentials cache reads (a test moves it on); `Date.now` by default. */
  clock?: () => number;
  /** `relay` in the tests: every packet through TURN. */
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/** A call this app may answer, as the incoming-calls query shows it ringing. */
export interface Ring {
  sessionId: string;
  callerId: string;
  offerSdp: string;
}

/** A call the app would not place or that the rules refused, with the sentence to show. */
export class DialRefused extends Error {
  override readonly name = "DialRefused";
  constructor(
    readonly cause: string,
    sentence: string,
  ) {
    super(sentence);
  }
}

/** One dial batch sent, and what became of it. */
export interface DialAttempt {
  sessionId: string;
  outcome: "committed" | "refused";
  ends: DialPlan["ends"];
}

function millis(value: unknown): number | null {
  return typeof (value as { toMillis?: unknown } | null)?.toMillis === "function" ? (value as { toMillis(): number }).toMillis() : null;
}

/** A session as the decisions read it: timestamps as epoch ms. */
function sessionTimes(data: DocumentData | undefined): Record<string, unknown> | null {
  if (!data) return null;
  return { ...data, created_at: millis(data.created_at), expire_at: millis(data.expire_at) };
}

export class DocsApp {
  /** Every dial batch this app sent. */
  readonly dials: DialAttempt[] = [];
  private known: KnownLimits | null = null;
  private readonly liveHere = new Map<string, DocsCall>();
  private readonly calls: DocsCall[] = [];
  private readonly policy: RTCIceTransportPolicy;

  private constructor(
    readonly uid: string,
    readonly db: Firestore,
    readonly credentials: CredentialsCache,
    private readonly signInProvider: string,
    private readonly shutdown: () => Promise<void>,
    config: DocsAppConfig,
  ) {
    this.policy = config.iceTransportPolicy ?? "all";
  }

  /** Signs a new anonymous user in, with Firestore and Functions on the given hosts. */
  static async start(config: DocsAppConfig): Promise<DocsApp> {
    const app = initializeApp({ projectId: config.projectId, apiKey: "fake-api-key" }, `docs-client-${randomUUID()}`);
    const auth = getAuth(app);
    connectAuthEmulator(auth, `http://${config.auth.host}:${config.auth.port}`, { disableWarnings: true });
    const db = getFirestore(app);
    connectFirestoreEmulator(db, config.firestore.host, config.firestore.port);
    let fetch: () => Promise<unknown>;
    if ("answer" in config.functions) {
      fetch = config.functions.answer;
    } else {
      const functions = getFunctions(app, FUNCTIONS_REGION);
      connectFunctionsEmulator(functions, config.functions.host, config.functions.port);
      const callable = httpsCallable(functions, TURN_CREDENTIALS_CALLABLE);
      fetch = async () => (await callable({})).data;
    }
    const { user } = await signInAnonymously(auth);
    const provider = String((await user.getIdTokenResult()).signInProvider ?? "");
    const credentials = new CredentialsCache(fetch, config.clock);
    return new DocsApp(user.uid, db, credentials, provider, async () => {
      await terminate(db);
      await deleteApp(app);
    }, config);
  }

  private async peerConnection(): Promise<RTCPeerConnection> {
    const { iceServers } = await this.credentials.get();
    return new wrtc.RTCPeerConnection({ iceServers, iceTransportPolicy: this.policy });
  }

  private newCall(pc: RTCPeerConnection, sessionId: string, role: "caller" | "callee"): DocsCall {
    const call = new DocsCall(pc, doc(this.db, SESSIONS, sessionId), role, {
      iceServers: async (validForMs) => (await this.credentials.get(validForMs)).iceServers,
      iceTransportPolicy: this.policy,
      ended: (ended) => this.liveHere.delete(ended.sessionId),
    });
    this.calls.push(call);
    return call;
  }

  /** The calls this device has live, ringing or answered, for the limits plan. */
  private liveStates(): LiveHere {
    return Object.fromEntries([...this.liveHere].map(([id, call]) => [id, call.answered ? "answered" : "ringing"]));
  }

  /**
   * Caller steps 1–4: the offer, one dial batch (a previous call to this callee ends in it), the
   * session listener and the ring timer. A dial the device knows the rules would refuse is not sent.
   */
  async call(calleeId: string, options: { ringSeconds?: number } = {}): Promise<DocsCall> {
    const ringSeconds = options.ringSeconds ?? RING_SECONDS_DEFAULT;
    const pc = await this.peerConnection();
    const session = doc(collection(this.db, SESSIONS));
    const call = this.newCall(pc, session.id, "caller");
    call.openChannel(pc.createDataChannel("chat"));
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const sdp = offer.sdp ?? "";
    const problem = sdpProblem(sdp);
    if (problem) throw new Error(`libwebrtc made an offer the rules would refuse (${problem})`);
    const target = { sessionId: session.id, calleeId };

    const refused = (reason: string, sentence: string): never => {
      call.finish(`refused: ${reason}`);
      throw new DialRefused(reason, sentence);
    };
    let planned = planDial({ known: this.known, liveHere: this.liveStates(), call: target, deviceNowMillis: Date.now() });
    if ("refuse" in planned) return refused(planned.refuse.reason, planned.refuse.sentence);
    let plan = planned.batch;
    let limits: LimitsRead | undefined;
    for (;;) {
      try {
        await this.commitDial(call, plan, calleeId, sdp, ringSeconds);
        break;
      } catch (error) {
        if (!isPermissionDenied(error)) throw error;
        const diagnosis = await this.diagnoseDial(session.id, sdp, limits);
        if (diagnosis.then === "continue") break;
        if (diagnosis.then === "show" || limits) return refused(diagnosis.cause, diagnosis.sentence ?? diagnosis.cause);
        // What the device knew was stale: one read of the limits and of the sessions they name, then once more.
        limits = await this.readLimits();
        planned = planDial({ known: this.known, liveHere: this.liveStates(), call: target, deviceNowMillis: Date.now(), read: limits });
        if ("refuse" in planned) return refused(planned.refuse.reason, planned.refuse.sentence);
        plan = planned.batch;
      }
    }
    this.known = afterDial(this.known, plan, Date.now());
    this.liveHere.set(session.id, call);
    call.outbox.documentReady();
    call.startRingTimer(ringSeconds);
    call.listenToSession();
    return call;
  }

  /** The dial batch: the ends it carries, the session, the own candidates document and the limits write. */
  private async commitDial(call: DocsCall, plan: DialPlan, calleeId: string, sdp: string, ringSeconds: number): Promise<void> {
    const batch = writeBatch(this.db);
    const replaced = plan.ends.map((end) => this.liveHere.get(end.sessionId)).filter((old): old is DocsCall => old !== undefined);
    for (const old of replaced) {
      old.outbox.stop();
      old.replacing = true;
    }
    for (const end of plan.ends) {
      const old = doc(this.db, SESSIONS, end.sessionId);
      batch.update(old, { end_request: { by: "caller", reason: end.reason, at: serverTimestamp() } });
      // Its callee learns of the end from this deletion.
      batch.delete(doc(old, CANDIDATES, "caller"));
    }
    const expireAt = new Date(Date.now() + EXPIRE_AFTER_MS);
    batch.set(call.session, {
      caller_id: this.uid,
      callee_id: calleeId,
      status: "pending",
      offer: { type: "offer", sdp },
      answer: null,
      end_request: null,
      ring_seconds: ringSeconds,
      created_at: serverTimestamp(),
      updated_at: serverTimestamp(),
      expire_at: expireAt,
    });
    batch.set(call.own, { sender: "caller", caller_id: this.uid, callee_id: calleeId, candidates: call.outbox.take(), created_at: serverTimestamp(), expire_at: expireAt });
    const live: Record<string, unknown> = {};
    for (const [callee, value] of Object.entries(plan.live)) live[callee] = value === "delete" ? deleteField() : value;
    batch.set(doc(this.db, LIMITS_COLLECTION, this.uid), { live, recent: { [plan.slot]: serverTimestamp() }, slot: plan.slot, session_id: call.sessionId, callee_id: calleeId }, { merge: true });
    try {
      await batch.commit();
    } catch (error) {
      this.dials.push({ sessionId: call.sessionId, outcome: "refused", ends: plan.ends });
      for (const old of replaced) old.replacing = false;
      throw error;
    }
    this.dials.push({ sessionId: call.sessionId, outcome: "committed", ends: plan.ends });
    for (const old of replaced) old.finish(REPLACED);
  }

  /** After a refused dial: the limits document and each session it names that is not live here. */
  private async readLimits(): Promise<LimitsRead> {
    const read = await readFromServer(doc(this.db, LIMITS_COLLECTION, this.uid));
    if (read === "permission-denied" || !read.exists()) return { limits: null, sessions: {} };
    const live = (read.get("live") ?? {}) as Record<string, string>;
    const recent = Object.fromEntries(Object.entries((read.get("recent") ?? {}) as Record<string, unknown>).map(([slot, at]) => [slot, millis(at) ?? 0]));
    const sessions: LimitsRead["sessions"] = {};
    for (const sessionId of Object.values(live)) {
      if (this.liveHere.has(sessionId)) continue;
      const session = await readFromServer(doc(this.db, SESSIONS, sessionId)).catch(() => "permission-denied" as const);
      sessions[sessionId] = session === "permission-denied" ? null : sessionTimes(session.data());
    }
    return { limits: { live, recent }, sessions };
  }

  /** A refused dial: one read of its session (its own repeat?), and after a retry what the limits showed. */
  private async diagnoseDial(sessionId: string, sdp: string, limits: LimitsRead | undefined): Promise<Diagnosis> {
    const deviceNowMillis = Date.now();
    return diagnoseRefusal({
      write: "dial",
      role: "caller",
      sent: { callerId: this.uid, offerSdp: sdp },
      read: await this.readForDiagnosis(doc(this.db, SESSIONS, sessionId)),
      // The entries whose calls have not ended, as the read showed them.
      limits: limits && {
        live: Object.fromEntries(Object.entries(limits.limits?.live ?? {}).filter(([, id]) => this.liveHere.has(id) || !callEnded(limits.sessions[id], deviceNowMillis))),
        recent: limits.limits?.recent ?? {},
      },
      signInProvider: this.signInProvider,
      deviceNowMillis,
      serverNowMillis: this.serverNow(),
    });
  }

  /** One read from the server, as the diagnosis takes it. */
  private async readForDiagnosis(ref: DocumentReference): Promise<RefusalFacts["read"]> {
    const read = await readFromServer(ref);
    if (read === "permission-denied") return { outcome: "permission-denied" };
    return read.exists() ? { outcome: "found", data: sessionTimes(read.data()) ?? {} } : { outcome: "missing" };
  }

  /** The server's clock, as the cached TURN credential tells it (see the cache). */
  private serverNow(): number | undefined {
    return this.credentials.serverNowMillis();
  }

  /** Callee step 1: the incoming-calls query. */
  listenForCalls(): IncomingCalls {
    return new IncomingCalls(this.db, this.uid);
  }

  /** Callee step 2: decline with the end request alone (no candidates document yet). */
  async decline(ring: Ring, reason: "reject" | "busy" = "reject"): Promise<void> {
    await updateDoc(doc(this.db, SESSIONS, ring.sessionId), { end_request: { by: "callee", reason, at: serverTimestamp() } });
  }

  /** Callee step 3: the peer-candidates listener first (buffered), then the answer batch. */
  async accept(ring: Ring): Promise<DocsCall> {
    const pc = await this.peerConnection();
    const call = this.newCall(pc, ring.sessionId, "callee");
    pc.ondatachannel = (event) => call.openChannel(event.channel);
    call.listenToPeer();
    await call.peerAttached.wait();
    if (call.ended.fired) return call;
    await pc.setRemoteDescription({ type: "offer", sdp: ring.offerSdp });
    call.remoteDescriptionSet();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const batch = writeBatch(this.db);
    batch.update(call.session, { answer: { type: "answer", sdp: answer.sdp } });
    batch.set(call.own, { sender: "callee", caller_id: ring.callerId, callee_id: this.uid, candidates: call.outbox.take(), created_at: serverTimestamp(), expire_at: new Date(Date.now() + EXPIRE_AFTER_MS) });
    try {
      await batch.commit();
    } catch (error) {
      if (!isPermissionDenied(error)) {
        // Unknown whether it landed (its acknowledgement may be lost): its document goes, with an end request.
        await call.hangUp("hangup", `the answer batch failed: ${(error as Error).message}`);
        return call;
      }
      const diagnosis = diagnoseRefusal({
        write: "answer",
        role: "callee",
        sent: { answerSdp: answer.sdp ?? "" },
        read: await this.readForDiagnosis(call.session),
        deviceNowMillis: Date.now(),
        serverNowMillis: this.serverNow(),
      });
      if (diagnosis.then !== "continue") {
        // A missed call. Refused and not its own repeat: nothing of the batch landed, and an end
        // request could end the call another device of this user answered.
        call.finish(`missed: ${diagnosis.cause}: ${diagnosis.sentence ?? ""}`);
        return call;
      }
    }
    call.answered = true;
    call.outbox.documentReady();
    return call;
  }

  /** Closes every call's peer connection and listeners, then Firestore. */
  async close(): Promise<void> {
    for (const call of this.calls) call.finish("the app closed");
    await this.shutdown();
  }
}

/** The incoming-calls query with the ringing rules of "The ring deadline". */
export class IncomingCalls {
  private readonly ringing = new Map<string, Ring & { until: number }>();
  private readonly changes = new Set<() => void>();
  private synced = false;
  /** The next server snapshot counts as a first one: at attach, and after snapshots from the cache alone. */
  private fresh = true;
  private readonly unsubscribe: () => void;
  failure: Error | undefined;
  readonly attached = new Signal("the incoming-calls query's first server snapshot");

  constructor(db: Firestore, uid: string) {
    const incoming = query(
      collection(db, SESSIONS),
      where("callee_id", "==", uid),
      where("status", "in", ["pending", "offered"]),
      where("answer", "==", null),
      where("end_request", "==", null),
      orderBy("created_at", "desc"),
      limit(INCOMING_CALLS_LIMIT),
    );
    this.unsubscribe = onSnapshot(
      incoming,
      { includeMetadataChanges: true },
      (snapshot) => {
        const first = this.fresh;
        const present = new Set<string>();
        for (const document of snapshot.docs) {
          const data = document.data({ serverTimestamps: "estimate" });
          const action = incomingAction({
            fromCache: snapshot.metadata.fromCache,
            firstServerSnapshot: first,
            document: { answer: data.answer, end_request: data.end_request, status: data.status, created_at: millis(data.created_at) ?? Date.now(), ring_seconds: data.ring_seconds },
            deviceNowMillis: Date.now(),
          });
          // A call keeps the ring time decided when it was first seen (a monotonic deadline).
          if (action.action === "ring" && !this.ringing.has(document.id)) {
            this.ringing.set(document.id, { sessionId: document.id, callerId: String(data.caller_id), offerSdp: String((data.offer as { sdp?: unknown }).sdp), until: performance.now() + action.ringForMs });
            setTimeout(() => this.changes.forEach((check) => check()), action.ringForMs + 1).unref();
          }
          if (action.action === "ring") present.add(document.id);
        }
        if (snapshot.metadata.fromCache) {
          // It decides nothing; and the next server snapshot may hold calls that rang meanwhile, like a first one.
          this.fresh = true;
          return;
        }
        for (const id of this.ringing.keys()) if (!present.has(id)) this.ringing.delete(id);
        this.fresh = false;
        this.synced = true;
        this.attached.resolve();
        this.changes.forEach((check) => check());
      },
      (error) => {
        this.failure = error;
        this.attached.reject(error);
        this.changes.forEach((check) => check());
      },
    );
  }

  /** The calls ringing now. */
  rings(): Ring[] {
    const now = performance.now();
    return [...this.ringing.values()].filter((ring) => ring.until > now);
  }

  /** Resolves with the first ringing call from `callerId` (optionally a given session). */
  waitForRinging(callerId: string, sessionId?: string, timeoutMs = 20_000): Promise<Ring> {
    return this.waitUntil(`a call from ${callerId} to ring`, () => this.rings().find((ring) => ring.callerId === callerId && (sessionId === undefined || ring.sessionId === sessionId)), timeoutMs);
  }

  /** Resolves once the session no longer rings. */
  waitForSilence(sessionId: string, timeoutMs = 20_000): Promise<true> {
    return this.waitUntil(`session ${sessionId} to stop ringing`, () => (this.rings().some((ring) => ring.sessionId === sessionId) ? undefined : true), timeoutMs);
  }

  private waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return waitOnChanges(what, this.changes, () => (this.synced ? probe() : undefined), () => this.failure, timeoutMs);
  }

  stop(): void {
    this.unsubscribe();
  }
}
