// Fixtures for the security-rules suites (test/firestore/rules*.test.ts), quickstart-testing
// style: the rules read from disk into a Firestore emulator of the suite's own, cleared before
// each test, documents seeded with the rules off, and a fresh context for every request.
// Calls are seeded as their participants' fields leave them in each phase, with the server's
// `status` either up to date or lagging behind (a late trigger).
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment, type TokenOptions } from "@firebase/rules-unit-testing";
import {
  Timestamp,
  deleteDoc,
  deleteField,
  doc,
  serverTimestamp,
  setDoc,
  writeBatch,
  type DocumentData,
  type DocumentReference,
  type Firestore,
} from "firebase/firestore";
import { LIMITS, RING_SECONDS, candidatesCreateFields, candidatesPath, sessionCreateFields, sessionPath, type CandidateEntry, type Role, type SessionStatus, CALL_LIMITS_COLLECTION, callLimitsFields } from "@webrtc-lite/contract";
import type { CallPhase } from "#functions/sessions/transitions";
import { PROJECT_ID, REPO_ROOT, startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { sampleSdp } from "./sdp";
import { quietSdkLogInSuite } from "./sdk-log";

/** The caller of every seeded call. */
export const CALLER = "alice";
/** The callee of every seeded call. */
export const CALLEE = "bob";
/** Signed in, in no call. */
export const STRANGER = "mallory";
/** The uid of each role in a seeded call. */
export const UID: Readonly<Record<Role, string>> = Object.freeze({ caller: CALLER, callee: CALLEE });

/** The caller's offer. */
export const offer = { type: "offer" as const, sdp: sampleSdp("offer") };
/** The callee's answer. */
export const answer = { type: "answer" as const, sdp: sampleSdp("answer") };

/** An SDP padded to exactly `length` characters with an extra attribute line. */
export function sdpOfLength(type: "offer" | "answer", length: number): string {
  const base = sampleSdp(type) + "a=x-pad:";
  return base + "p".repeat(length - base.length);
}

/** The phases a call goes through, as its participants' fields show them. */
export const PHASES: readonly CallPhase[] = ["offered", "answered", "connected"];

/** The statuses the server's record may show for a call in `phase`: up to date, or behind it. */
export const STATUSES_BEHIND: Readonly<Record<CallPhase, readonly SessionStatus[]>> = Object.freeze({
  offered: ["pending", "offered"],
  answered: ["pending", "offered", "answered"],
  connected: ["pending", "offered", "answered", "connected"],
});

/** `count` distinct, small host candidates numbered from `from`. */
export function numberedEntries(from: number, count: number): CandidateEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    candidate: `candidate:${from + index} 1 udp 1 192.0.2.10 ${1000 + from + index} typ host`,
    sdpMid: "0",
    sdpMLineIndex: 0,
  }));
}

/** A valid `candidate:` line of exactly `LIMITS.maxCandidateLength` characters, its foundation made of `index`. */
export function maximalCandidateLine(index: number): string {
  const foundation = String(index).padEnd(32, "F");
  let line = `candidate:${foundation} 256 udp 4294967295 198.51.100.20 65535 typ relay`;
  // Fill with extension pairs " <name ≤ 32> <value ≤ 256>"; the smallest pair takes 4 characters.
  while (line.length < LIMITS.maxCandidateLength) {
    const room = LIMITS.maxCandidateLength - line.length;
    let take = Math.min(room, 2 + 32 + 256);
    if (room - take > 0 && room - take < 4) take = room - 4;
    const name = Math.min(32, take - 3);
    line += ` ${"n".repeat(name)} ${"v".repeat(take - 2 - name)}`;
  }
  assert.equal(line.length, LIMITS.maxCandidateLength);
  return line;
}

/** `count` entries as large as the rules allow: longest line, sdpMid and usernameFragment, largest index. */
export function maximalEntries(count: number): CandidateEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    candidate: maximalCandidateLine(index),
    sdpMid: "m".repeat(LIMITS.maxSdpMidLength),
    sdpMLineIndex: LIMITS.maxSdpMLineIndex,
    usernameFragment: "U".repeat(LIMITS.maxUsernameFragmentLength),
  }));
}

/** Path of `uid`'s limits document. */
export function limitsPath(uid: string): string {
  return `${CALL_LIMITS_COLLECTION}/${uid}`;
}

/** The limits write of a dial of session `sessionId` to `calleeId` (callLimitsFields), taking `slot` and releasing `released`. */
export function limitsFields(sessionId: string, calleeId: string, slot = "0", released: string[] = []): DocumentData {
  return callLimitsFields({ sessionId, calleeId, slot, released }, serverTimestamp(), deleteField());
}

/** The session document the caller's client writes (sessionCreateFields), with `overrides`. */
export function createFields(overrides: DocumentData = {}): DocumentData {
  return { ...sessionCreateFields({ caller_id: CALLER, callee_id: CALLEE, offer }, serverTimestamp(), Date.now()), ...overrides };
}

/** The candidates document `sender`'s client writes (candidatesCreateFields), with `overrides`. */
export function candidateFields(sender: Role, entries: CandidateEntry[] = [], overrides: DocumentData = {}): DocumentData {
  return { ...candidatesCreateFields({ caller_id: CALLER, callee_id: CALLEE }, sender, entries, serverTimestamp(), Date.now()), ...overrides };
}

/** `fields` without `key` (the SDK refuses `undefined` values, so a missing key is left out). */
export function without(fields: DocumentData, key: string): DocumentData {
  const { [key]: _removed, ...rest } = fields;
  return rest;
}

/** A `Timestamp` `seconds` from now by this machine's clock (the emulator's clock too). */
export function secondsFromNow(seconds: number): Timestamp {
  return Timestamp.fromMillis(Date.now() + seconds * 1_000);
}

/** Awaits a refusal and checks it is the rules' (`permission-denied`), not some other error. */
export async function denied(operation: Promise<unknown>): Promise<void> {
  const error = (await assertFails(operation)) as { code?: string };
  assert.equal(error.code, "permission-denied");
}

/** Awaits a write or read the rules must let through. */
export async function allowed<T>(operation: Promise<T>): Promise<T> {
  return assertSucceeds(operation);
}

/** How a call is seeded: its phase, the status the server shows, the candidate documents that exist. */
export interface SeedOptions {
  /** The server's status (default: the phase itself, i.e. the trigger is up to date). */
  status?: SessionStatus;
  /** Fields to add or override (e.g. `end_request`, `created_at`). */
  fields?: DocumentData;
  /** Which candidate documents exist (default: the caller's, and the callee's once answered; none once ended). */
  candidates?: readonly Role[];
}

/** One call's documents, reached through a fresh context of the given user for every request. */
export interface Call {
  readonly id: string;
  /** The session document, as `uid` (signed out without one). */
  session(uid?: string): DocumentReference;
  /** One side's candidates document, as `uid`. */
  candidates(uid: string | undefined, sender: Role): DocumentReference;
  /**
   * The caller's dial: ONE batch creating the session, (when given) the caller's candidates
   * document, and the caller's limits write. By default `uid`'s limits document is removed
   * first (rules off) and the write takes slot "0", so that suites about other rules dial as
   * often as they like; pass `limits` (merge fields for call_limits/{uid}) to write exactly
   * that, or `null` to leave the limits document out of the batch.
   */
  dial(uid: string | undefined, session: DocumentData, callerCandidates?: DocumentData, limits?: DocumentData | null): Promise<void>;
  /** ONE batch updating the session and creating `sender`'s candidates document (the callee's answer). */
  updateWithCandidates(uid: string | undefined, update: DocumentData, sender: Role, candidates: DocumentData): Promise<void>;
  /** ONE batch updating the session and deleting `sender`'s candidates document (a hang-up). */
  updateAndDelete(uid: string | undefined, update: DocumentData, sender: Role): Promise<void>;
}

/** What a rules suite works with. */
export interface RulesFixture {
  /** A fresh Firestore of `uid` (signed out without one); `token` adds claims, e.g. `{ firebase: { sign_in_provider: "anonymous" } }`. */
  db(uid?: string, token?: TokenOptions): Firestore;
  /** A call nobody has created yet (a new id). */
  newCall(): Call;
  /** Writes `data` at `path` with the rules off. */
  seed(path: string, data: DocumentData): Promise<void>;
  /** Deletes the document at `path` with the rules off. */
  clear(path: string): Promise<void>;
  /** Seeds a live (or ended) call between CALLER and CALLEE in `phase`. */
  seedCall(phase: CallPhase, options?: SeedOptions): Promise<Call>;
  /** Seeds `count` such calls at once (a few batches instead of a request per document). */
  seedCalls(count: number, phase: CallPhase, options?: SeedOptions): Promise<Call[]>;
}

/** The documents of call `id` seeded in `phase` (written with the rules off), by path. */
export function seededCallDocuments(id: string, phase: CallPhase, options: SeedOptions = {}): Array<[string, DocumentData]> {
  const status = options.status ?? phase;
  const now = Timestamp.now();
  const expireAt = secondsFromNow(25 * 3_600);
  const session: DocumentData = {
    caller_id: CALLER,
    callee_id: CALLEE,
    status,
    offer,
    answer: phase === "offered" ? null : answer,
    end_request: null,
    ring_seconds: RING_SECONDS.default,
    created_at: now,
    updated_at: now,
    expire_at: expireAt,
    ...(phase === "connected" ? { connectivity: { by: "caller", at: now } } : {}),
    ...options.fields,
  };
  const existing = options.candidates ?? (status === "ended" ? [] : phase === "offered" ? ["caller" as const] : ["caller" as const, "callee" as const]);
  return [
    [sessionPath(id), session],
    ...existing.map((sender): [string, DocumentData] => [
      candidatesPath(id, sender),
      { sender, caller_id: CALLER, callee_id: CALLEE, candidates: [], created_at: now, expire_at: expireAt },
    ]),
  ];
}

/**
 * Starts a Firestore emulator with firestore.rules (or `options.rules` of its text, e.g. a
 * setting changed) for the enclosing `describe`, clears it before each test, and stops it afterwards.
 */
export function useRulesFixture(options: { rules?: (source: string) => string } = {}): RulesFixture {
  let stack: EmulatorStack | undefined;
  let env: RulesTestEnvironment | undefined;

  quietSdkLogInSuite();
  before(async function () {
    this.timeout(120_000);
    stack = await startEmulatorStack({ emulators: ["firestore"], params: {}, secrets: {} });
    env = await initializeTestEnvironment({
      projectId: PROJECT_ID,
      firestore: { host: "127.0.0.1", port: stack.ports.firestore, rules: (options.rules ?? ((source) => source))(readFileSync(join(REPO_ROOT, "firestore.rules"), "utf8")) },
    });
  });
  after(async function () {
    this.timeout(60_000);
    await env?.cleanup();
    await stack?.stop();
  });
  beforeEach(async () => {
    await environment().clearFirestore();
  });

  function environment(): RulesTestEnvironment {
    assert.ok(env, "the rules test environment did not start");
    return env;
  }

  // The contexts hand out the compat type; the modular functions take the same object.
  const db = (uid?: string, token?: TokenOptions): Firestore =>
    (uid ? environment().authenticatedContext(uid, token) : environment().unauthenticatedContext()).firestore() as unknown as Firestore;

  async function seed(path: string, data: DocumentData): Promise<void> {
    await environment().withSecurityRulesDisabled(async (context) => {
      await setDoc(doc(context.firestore(), path), data);
    });
  }

  async function clear(path: string): Promise<void> {
    await environment().withSecurityRulesDisabled(async (context) => {
      await deleteDoc(doc(context.firestore(), path));
    });
  }

  function newCall(id: string = randomUUID()): Call {
    return {
      id,
      session: (uid) => doc(db(uid), sessionPath(id)),
      candidates: (uid, sender) => doc(db(uid), candidatesPath(id, sender)),
      dial: async (uid, session, callerCandidates, limits) => {
        // A caller whose uid cannot name a document (a custom token's "a/b"), or a callee that
        // cannot even be a field name (empty, not a string), leaves the limits write out: the
        // SDK would refuse the batch before the rules see it.
        const callee: unknown = session.callee_id;
        const limitsPossible = !!uid && !uid.includes("/") && !/^\.\.?$|^__.*__$/.test(uid) && typeof callee === "string" && callee !== "";
        if (limits === undefined && limitsPossible) await clear(limitsPath(uid));
        const fields = limits === undefined ? (limitsPossible ? limitsFields(id, callee) : null) : limits;
        const store = db(uid);
        const batch = writeBatch(store);
        batch.set(doc(store, sessionPath(id)), session);
        if (callerCandidates) batch.set(doc(store, candidatesPath(id, "caller")), callerCandidates);
        if (fields && uid) batch.set(doc(store, limitsPath(uid)), fields, { merge: true });
        await batch.commit();
      },
      updateWithCandidates: (uid, update, sender, candidates) => {
        const store = db(uid);
        const batch = writeBatch(store);
        batch.update(doc(store, sessionPath(id)), update);
        batch.set(doc(store, candidatesPath(id, sender)), candidates);
        return batch.commit();
      },
      updateAndDelete: (uid, update, sender) => {
        const store = db(uid);
        const batch = writeBatch(store);
        batch.update(doc(store, sessionPath(id)), update);
        batch.delete(doc(store, candidatesPath(id, sender)));
        return batch.commit();
      },
    };
  }

  async function seedCalls(count: number, phase: CallPhase, options: SeedOptions = {}): Promise<Call[]> {
    const calls = Array.from({ length: count }, () => newCall());
    const documents = calls.flatMap((call) => seededCallDocuments(call.id, phase, options));
    await environment().withSecurityRulesDisabled(async (context) => {
      const store = context.firestore() as unknown as Firestore;
      // A batch holds at most 500 writes.
      for (let start = 0; start < documents.length; start += 500) {
        const batch = writeBatch(store);
        for (const [path, data] of documents.slice(start, start + 500)) batch.set(doc(store, path), data);
        await batch.commit();
      }
    });
    return calls;
  }

  async function seedCall(phase: CallPhase, options: SeedOptions = {}): Promise<Call> {
    const [call] = await seedCalls(1, phase, options);
    return call;
  }

  return { db, newCall: () => newCall(), seed, clear, seedCall, seedCalls };
}
