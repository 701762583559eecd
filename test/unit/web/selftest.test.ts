import { strict as assert } from "node:assert";
import { TurnCredentialsError } from "@webrtc-lite/client/credentials";
import { parseEmulatorAddresses, parseFirebaseConfig } from "#selftest/config";
import {
  candidateRow,
  connectedVerdict,
  credentialsFailureSentence,
  median,
  noRelaySentence,
  notConnectedSentence,
  signInFailureSentence,
} from "#selftest/diagnosis";

const UDP = "turn:127.0.0.1:3478?transport=udp";
const TCP = "turn:127.0.0.1:3478?transport=tcp";

describe("self-test page: candidate table", () => {
  it("shows a relay candidate with the transport to the TURN server", () => {
    const row = candidateRow("A", { type: "relay", protocol: "udp", relayProtocol: "tcp", address: "127.0.0.1", port: 50000 }, 12.5);
    assert.deepEqual(row, { peer: "A", type: "relay", protocol: "tcp", address: "127.0.0.1:50000", ms: 12.5 });
  });

  it("brackets IPv6 addresses and falls back to the candidate's transport", () => {
    const row = candidateRow("B", { type: "host", protocol: "udp", address: "::1", port: 9 }, 0);
    assert.deepEqual(row, { peer: "B", type: "host", protocol: "udp", address: "[::1]:9", ms: 0 });
  });

  it("says when the browser hid the address", () => {
    const row = candidateRow("A", { type: null, protocol: null, address: null, port: null }, 1);
    assert.deepEqual(row, { peer: "A", type: "unknown", protocol: "unknown", address: "(hidden)", ms: 1 });
  });
});

describe("self-test page: failure sentences", () => {
  it("names a secret mismatch when coturn answers 401, listing each refusing URI once in configured order", () => {
    const sentence = noRelaySentence({
      turnUris: [UDP, TCP],
      errors: [
        { errorCode: 401, url: TCP },
        { errorCode: 401, url: UDP },
        { errorCode: 401, url: TCP },
      ],
      complete: true,
      timeoutMs: 10_000,
    });
    assert.equal(
      sentence,
      `The TURN server refused the credentials (401 Unauthorized from ${UDP}, ${TCP}). ` +
        "The secret coturn checks (static-auth-secret) is not the one the functions sign with (TURN_SHARED_SECRET), " +
        "or the TURN server's clock is far off.",
    );
  });

  it("says no TURN server answered when gathering gave up or timed out", () => {
    const timedOut = noRelaySentence({ turnUris: [UDP], errors: [{ errorCode: 701, url: UDP }], complete: false, timeoutMs: 10_000 });
    assert.equal(
      timedOut,
      `No TURN server answered within 10 s (${UDP}). ` +
        "Check that coturn is running and that these addresses and ports (TURN_URIS) are reachable from this browser.",
    );
    const ended = noRelaySentence({ turnUris: [UDP, TCP], errors: [], complete: true, timeoutMs: 10_000 });
    assert.match(ended, /^No TURN server answered before ICE gathering ended \(turn:.*udp, turn:.*tcp\)\. Check that/);
  });

  it("explains relay candidates that never connect", () => {
    assert.equal(
      notConnectedSentence("failed", 15_000),
      "Relay candidates were gathered but the two peers could not connect through the relay (ICE failed). " +
        "coturn allocated relays but did not pass data between them: check its peer rules (denied-peer-ip, and allow-loopback-peers for a server on 127.0.0.1).",
    );
    assert.match(notConnectedSentence("connecting", 15_000), /\(they were still connecting after 15 s\)/);
  });

  it("passes only a relay-to-relay pair", () => {
    const relay = { localType: "relay", remoteType: "relay", protocol: "udp", localAddress: "127.0.0.1:50000" };
    assert.deepEqual(connectedVerdict(relay, 0.84), {
      pass: true,
      sentence:
        "TURN works: the two peers connected through the relay (127.0.0.1:50000, udp to the TURN server) and exchanged data with a round-trip time of 0.8 ms.",
    });
    const direct = connectedVerdict({ ...relay, remoteType: "host" }, 1);
    assert.deepEqual(direct, {
      pass: false,
      sentence: "The peers connected, but not through the relay (relay to host); this self-test only counts relayed connections.",
    });
    assert.equal(connectedVerdict(undefined, 1).pass, false);
  });

  it("turns sign-in errors into sentences", () => {
    const disabled = Object.assign(new Error("Firebase: Error (auth/operation-not-allowed)."), { code: "auth/operation-not-allowed" });
    assert.equal(
      signInFailureSentence(disabled),
      "Anonymous sign-in is turned off for this project: turn it on in the Firebase console under Authentication → Sign-in method.",
    );
    const offline = Object.assign(new Error("x"), { code: "auth/network-request-failed" });
    assert.equal(signInFailureSentence(offline), "Could not reach Firebase Authentication: the Auth emulator is not running or the network is down.");
    assert.equal(signInFailureSentence(new Error("boom")), "Sign-in failed (no error code): boom");
  });

  it("shows the client's own sentence for credential failures", () => {
    const refused = new TurnCredentialsError("refused", "getTurnCredentials refused the request (failed-precondition): not configured.");
    assert.equal(credentialsFailureSentence(refused), refused.message);
    assert.equal(credentialsFailureSentence("odd"), "Getting TURN credentials failed: odd");
  });

  it("takes the median of odd and even sample counts, and refuses none", () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), RangeError);
  });
});

describe("self-test page: configuration it reads", () => {
  it("accepts Hosting's init.json and refuses a page served elsewhere", () => {
    assert.deepEqual(parseFirebaseConfig({ apiKey: "fake-api-key", projectId: "demo-webrtc-lite", databaseURL: "x" }), {
      apiKey: "fake-api-key",
      projectId: "demo-webrtc-lite",
    });
    assert.throws(() => parseFirebaseConfig(undefined), /it is missing or incomplete: serve the page with Firebase Hosting or its emulator\.$/);
  });

  it("accepts emulator addresses and refuses a port out of range", () => {
    const addresses = { auth: { host: "127.0.0.1", port: 9099 }, functions: { host: "127.0.0.1", port: 5001 } };
    assert.deepEqual(parseEmulatorAddresses(addresses), addresses);
    assert.throws(
      () => parseEmulatorAddresses({ ...addresses, auth: { host: "127.0.0.1", port: 70_000 } }),
      /^Error: emulators\.json beside this page is not usable/,
    );
  });
});
