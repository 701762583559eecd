// The Firestore emulator's Listen streams stay whole under load. The emulator answers a Listen
// stream from two threads at once (the request's, adding a target, and any commit's, changing a
// target the stream already watches); without the launcher's agent
// (packages/dev-stack/java/SerializedStreamResponses.java) their messages' bytes interleave, the
// SDK drops the stream as "Received message larger than max" and its listeners go silent for up to
// a minute. This load broke a client's stream in 7 of 10 runs without the agent. Every other suite
// depends on what it proves: a listener that waits is waiting for the code under test. The agent's
// other changes (a target added whole under the emulator's listener lock, so that a commit's change
// is never sent before the older documents read for the target; and every stream of a commit told
// it is in sync even when another client's stream closed meanwhile, which lost-acks.test.ts cuts
// on purpose) are checked by their reports.
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { doc, onSnapshot, serverTimestamp, setDoc, type DocumentSnapshot } from "firebase/firestore";
import { pushTargetFields, pushTargetPath, type PushTargetInput } from "@webrtc-lite/contract";
import { firestoreEmulatorEnv } from "@webrtc-lite/dev-stack/firestore-emulator";
import { StreamFailureWatch } from "@webrtc-lite/dev-stack/listen-stream";
import { useSharedSignalingStack } from "@webrtc-lite/dev-stack/signaling-stack";
import { signIn, type Party } from "../helpers/signaling-client";
import { waitForSnapshot } from "../helpers/snapshots";

/** Clients at once: each has a Listen stream of its own. */
const CLIENTS = 16;
/** Targets each client adds (and removes) one after the other while the writes go on. */
const RELISTENS_PER_CLIENT = 60;
/** The push-target slot each client keeps a listener on and keeps rewriting; the others are re-listened to. */
const WATCHED_SLOT = "0";
const RELISTENED_SLOTS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

function target(): PushTargetInput {
  return { platform: "android", token: `android-${randomUUID()}:APA91b`, app_id: "com.example.calls", installation_id: `install-${randomUUID()}` };
}

describe("the Firestore emulator's Listen streams under load (the launcher's agent serializes each stream's responses)", function () {
  this.timeout(120_000);
  const suite = useSharedSignalingStack(["auth", "firestore"]);
  const parties: Party[] = [];
  afterEach(async () => {
    await Promise.all(parties.splice(0).map((party) => party.close()));
  });

  it(`keeps every stream whole while ${CLIENTS} clients add ${RELISTENS_PER_CLIENT} targets each and every write changes a target already watched`, async () => {
    parties.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => signIn(suite.stack.ports)))));
    const watched = parties.map((party) => doc(party.db, pushTargetPath(party.uid, WATCHED_SLOT)));
    await Promise.all(watched.map((ref) => setDoc(ref, pushTargetFields(target(), serverTimestamp(), Date.now()))));
    const heard = parties.map(() => 0);
    const stopWatching = watched.map((ref, index) => onSnapshot(ref, (snapshot) => void (snapshot.metadata.fromCache || (heard[index] += 1))));

    let writing = true;
    let writes = 0;
    const writers = watched.map(async (ref) => {
      while (writing) {
        await setDoc(ref, pushTargetFields(target(), serverTimestamp(), Date.now()));
        writes += 1;
      }
    });
    // One watch for the whole test: the SDK's log does not say which client's stream broke.
    const watch = new StreamFailureWatch();
    const started = Date.now();
    try {
      await Promise.all(
        parties.map(async (party) => {
          for (let round = 0; round < RELISTENS_PER_CLIENT; round += 1) {
            const ref = doc(party.db, pushTargetPath(party.uid, RELISTENED_SLOTS[round % RELISTENED_SLOTS.length]));
            await watch.race(
              waitForSnapshot<DocumentSnapshot>(
                `client ${parties.indexOf(party)}'s listener ${round + 1} (its first snapshot from the emulator)`,
                (next, error) => onSnapshot(ref, { includeMetadataChanges: true }, next, error),
                (snapshot) => !snapshot.metadata.fromCache,
              ),
            );
          }
        }),
      );
    } finally {
      writing = false;
      await Promise.all(writers);
      stopWatching.forEach((stop) => stop());
      watch.stop();
    }
    const elapsed = Date.now() - started;
    console.log(`      ${CLIENTS * RELISTENS_PER_CLIENT} listeners added in ${elapsed} ms beside ${writes} writes to watched documents; no stream broke`);
    watch.check();
    assert.ok(heard.every((count) => count > 1), `every watched document's listener hears the writes: ${heard.join(", ")}`);
  });

  it("runs with the launcher's agent, each of its changes reported by the emulator (or says why not)", () => {
    const log = suite.stack.firestoreLog();
    const reports = log.split("\n").filter((line) => line.startsWith("webrtc-lite agent:"));
    const { warning } = firestoreEmulatorEnv();
    if (warning) {
      // Java below 24, or firebase-tools' own JAR: the launcher has no agent, and test.mjs said so in a !!! line.
      assert.deepEqual(reports, [], warning);
      return;
    }
    assert.deepEqual(
      reports.map((line) => line.replace(/^webrtc-lite agent: \S+ /, "")).sort(),
      [
        "adds each target whole under the ListenStreamManager's lock",
        "sends one message at a time (onCompleted, onError, onNext synchronized)",
        "tells every open stream it is in sync, past one that has closed",
      ].sort(),
      `the emulator's log:\n${reports.join("\n")}`,
    );
  });
});
