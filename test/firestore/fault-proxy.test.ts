// Lost acknowledgements, for real (packages/dev-stack/src/fault-proxy.ts): the client's writes
// go through a TCP proxy that lets a write reach the emulator, never delivers its answer and
// drops the connection; the Firebase JS SDK reconnects and sends the write again. In a project
// that allows every write, the repeat succeeds and the write resolves. Under firestore.rules,
// which accept a connectivity report or an end request once, the repeat is refused: the write
// rejects with permission-denied although the session holds it. (The SDK logs each refused
// write and each lost stream; those lines are expected here.)
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp } from "firebase/app";
import { connectFirestoreEmulator, doc, getFirestore, onSnapshot, serverTimestamp, setDoc, terminate, updateDoc, writeBatch, type Firestore } from "firebase/firestore";
import { candidatesPath, endRequestFields, sessionPath } from "@webrtc-lite/contract";
import type { AdminDocumentSnapshot } from "@webrtc-lite/dev-stack/admin";
import { startFaultProxy, type FaultProxy } from "@webrtc-lite/dev-stack/fault-proxy";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { loadRules } from "@webrtc-lite/dev-stack/project-rules";
import { IncomingCall, IncomingCalls, OutgoingCall, sessionRef, signIn, type Party } from "../helpers/signaling-client";

/** A project of this suite's own whose rules allow everything: what the SDK does, with no rules in the way. */
const OPEN_PROJECT_ID = "demo-fault-proxy-open";
const ALLOW_ALL = "rules_version = '2';\nservice cloud.firestore {\n  match /databases/{database}/documents {\n    match /{document=**} {\n      allow read, write: if true;\n    }\n  }\n}\n";
/** Lost acknowledgements in a row on one client: each cut must find the SDK reconnecting as the first did. */
const CUTS_IN_A_ROW = 5;

describe("lost acknowledgements through the fault proxy (Auth and Firestore emulators)", function () {
  this.timeout(60_000);
  const suite = useSharedSignalingStack(["auth", "firestore"]);
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function proxy(): Promise<FaultProxy> {
    const started = await startFaultProxy(suite.stack.ports.firestore);
    cleanups.push(() => started.stop());
    return started;
  }

  async function party(firestorePort = suite.stack.ports.firestore): Promise<Party> {
    const signedIn = await signIn({ auth: suite.stack.ports.auth, firestore: firestorePort });
    cleanups.push(() => signedIn.close());
    return signedIn;
  }

  describe("in a project whose rules allow every write", () => {
    before(() => loadRules(suite.stack.ports.firestore, OPEN_PROJECT_ID, ALLOW_ALL));

    /** A Firestore client of the open project, connected through `through`. */
    function openClient(through: FaultProxy): Firestore {
      const app = initializeApp({ projectId: OPEN_PROJECT_ID, apiKey: "fake-api-key" }, `fault-proxy-${randomUUID()}`);
      const db = getFirestore(app);
      connectFirestoreEmulator(db, "127.0.0.1", through.port);
      cleanups.push(async () => {
        await terminate(db);
        await deleteApp(app);
      });
      return db;
    }

    /** The emulator's REST URL of a document of the open project. */
    function documentUrl(path: string): string {
      return `http://127.0.0.1:${suite.stack.ports.firestore}/v1/projects/${OPEN_PROJECT_ID}/databases/(default)/documents/${path}`;
    }

    /** The document's fields as the emulator holds them (`Bearer owner` goes past the rules), or undefined. */
    async function stored(path: string): Promise<Record<string, { integerValue?: string }> | undefined> {
      const response = await fetch(documentUrl(path), { headers: { authorization: "Bearer owner" } });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`reading ${path}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { fields?: Record<string, { integerValue?: string }> }).fields ?? {};
    }

    /** Writes `{ value }` at `path` past the proxy and the SDK, as another client would. */
    async function writeElsewhere(path: string, value: number): Promise<void> {
      const response = await fetch(documentUrl(path), {
        method: "PATCH",
        headers: { authorization: "Bearer owner", "content-type": "application/json" },
        body: JSON.stringify({ fields: { value: { integerValue: String(value) } } }),
      });
      if (!response.ok) throw new Error(`writing ${path}: ${response.status} ${await response.text()}`);
    }

    it(`a plain write survives ${CUTS_IN_A_ROW} lost acknowledgements in a row: each time the SDK reconnects and the write resolves`, async () => {
      const through = await proxy();
      const db = openClient(through);
      const path = `notes/${randomUUID()}`;
      await setDoc(doc(db, path), { round: 0 });
      const connectedBefore = through.connections;
      for (let round = 1; round <= CUTS_IN_A_ROW; round += 1) {
        const { write } = await through.loseAcknowledgement(
          () => setDoc(doc(db, path), { round }),
          async () => (await stored(path))?.round?.integerValue === String(round),
        );
        await write;
      }
      assert.equal(through.cuts, CUTS_IN_A_ROW);
      assert.ok(through.connections >= connectedBefore + CUTS_IN_A_ROW, `the SDK reconnected ${through.connections - connectedBefore} times over ${CUTS_IN_A_ROW} cuts`);
      assert.equal((await stored(path))?.round?.integerValue, String(CUTS_IN_A_ROW));
    });

    it("a batch whose acknowledgement is lost is sent again whole and resolves; a listener on its documents sees each change once and hears the server again", async () => {
      const through = await proxy();
      const db = openClient(through);
      const [first, second] = [`notes/${randomUUID()}`, `notes/${randomUUID()}`];
      const seen: Array<number | undefined> = [];
      const listening = new Promise<void>((resolve, reject) => {
        const stop = onSnapshot(doc(db, first), (snapshot) => {
          if (!snapshot.metadata.fromCache) resolve();
          seen.push(snapshot.get("value") as number | undefined);
        }, reject);
        cleanups.push(stop);
      });
      await listening;
      // The client's first write: its write stream opens (and its handshake is answered) while armed.
      const { write } = await through.loseAcknowledgement(
        () => writeBatch(db).set(doc(db, first), { value: 1 }).set(doc(db, second), { value: 2 }).commit(),
        async () => (await stored(second)) !== undefined,
      );
      await write;
      assert.equal((await stored(first))?.value?.integerValue, "1");
      assert.equal((await stored(second))?.value?.integerValue, "2");
      await writeElsewhere(first, 3);
      await waitFor("the listener to see a change made after the cut", () => (seen.includes(3) ? true : undefined), 10_000, 10);
      assert.deepEqual(seen, [undefined, 1, 3]);
    });
  });

  describe("under firestore.rules, in a call", () => {
    /** A call ringing at the callee, each party's Firestore on the port given (the emulator's or a proxy's). */
    async function ringingCall(callerPort: number, calleePort: number): Promise<{ caller: Party; call: OutgoingCall; ringing: IncomingCall }> {
      const [caller, callee] = [await party(callerPort), await party(calleePort)];
      const incoming = new IncomingCalls(callee);
      cleanups.push(() => incoming.stop());
      await incoming.attached.wait();
      const call = await OutgoingCall.place(caller, callee.uid);
      cleanups.push(() => call.stop());
      const ringing = await incoming.waitForRinging(call.sessionId);
      cleanups.push(() => ringing.stop());
      return { caller, call, ringing };
    }

    /** A call the caller (through `through`) has placed and the callee (direct) has answered. */
    async function answeredCall(through: FaultProxy): Promise<{ caller: Party; call: OutgoingCall }> {
      const { caller, call, ringing } = await ringingCall(through.port, suite.stack.ports.firestore);
      await ringing.accept();
      await call.waitForAnswer();
      return { caller, call };
    }

    /** The session as the emulator holds it (admin SDK, past the rules). */
    function stored(sessionId: string): Promise<AdminDocumentSnapshot> {
      return suite.admin.db.doc(sessionPath(sessionId)).get();
    }

    it("a connectivity report whose acknowledgement is lost is sent again and refused (permission-denied), although the session holds it", async () => {
      const through = await proxy();
      const { call } = await answeredCall(through);
      const { write } = await through.loseAcknowledgement(
        () => call.reportConnected(),
        async () => (await stored(call.sessionId)).get("connectivity") != null,
      );
      await assert.rejects(write, { code: "permission-denied" });
      assert.equal((await stored(call.sessionId)).get("connectivity.by"), "caller");
    });

    it("an answer batch whose acknowledgement is lost (the callee's first write) is sent again whole and refused, although both its documents were written", async () => {
      const through = await proxy();
      const { call, ringing } = await ringingCall(suite.stack.ports.firestore, through.port);
      const { write } = await through.loseAcknowledgement(
        () => ringing.accept(),
        async () => (await stored(call.sessionId)).get("answer") != null,
      );
      await assert.rejects(write, { code: "permission-denied" });
      assert.ok((await suite.admin.db.doc(candidatesPath(call.sessionId, "callee")).get()).exists, "the callee's candidates document, written with the answer");
    });

    it("an end request whose acknowledgement is lost is sent again and refused (permission-denied), although the session holds it", async () => {
      const through = await proxy();
      const { caller, call } = await answeredCall(through);
      const { write } = await through.loseAcknowledgement(
        () => updateDoc(sessionRef(caller.db, call.sessionId), endRequestFields("caller", "hangup", serverTimestamp())),
        async () => (await stored(call.sessionId)).get("end_request") != null,
      );
      await assert.rejects(write, { code: "permission-denied" });
      const ended = await stored(call.sessionId);
      assert.deepEqual([ended.get("end_request.by"), ended.get("end_request.reason")], ["caller", "hangup"]);
    });
  });
});
