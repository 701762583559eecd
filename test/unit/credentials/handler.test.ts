import { strict as assert } from "node:assert";
import { HttpsError } from "../../helpers/functions-sdk";
import {
  handleGetTurnCredentials,
  type CredentialCall,
  type CredentialHandlerConfig,
} from "#functions/credentials/handler";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { captureOutput } from "../../helpers/capture";

const SECRET = "f00dfeed".repeat(8);
const NOW = 1_700_000_000_000;
const CONFIG: CredentialHandlerConfig = {
  secret: SECRET,
  turnUris: "turn:turn.example.com:3478?transport=udp,turn:turn.example.com:3478?transport=tcp,turns:turn.example.com:5349?transport=tcp",
  stunUris: "",
  enforceAppCheck: false,
};

function call(data: unknown, uid: string | null = "alice", app = false): CredentialCall {
  return {
    data,
    auth: uid ? ({ uid, token: {} } as unknown as CredentialCall["auth"]) : undefined,
    app: app ? ({ appId: "1:123:web:abc", token: {} } as unknown as CredentialCall["app"]) : undefined,
  };
}

function refusal(request: CredentialCall, config = CONFIG): { error: InstanceType<typeof HttpsError>; output: string } {
  const { error, output } = captureOutput(() => handleGetTurnCredentials(request, config, NOW));
  assert.ok(error instanceof HttpsError, `expected an HttpsError, got ${String(error)}`);
  assert.ok(!output.includes(SECRET) && !error.message.includes(SECRET), "the secret leaked");
  return { error, output };
}

describe("handleGetTurnCredentials", () => {
  it("mints for the caller's uid with the default ttl and builds the documented response", () => {
    const { result, output } = captureOutput(() => handleGetTurnCredentials(call(null), CONFIG, NOW));
    const expected = mintTurnCredential(SECRET, "alice", 3600, NOW);
    const turnUris = [
      "turn:turn.example.com:3478?transport=udp",
      "turn:turn.example.com:3478?transport=tcp",
      "turns:turn.example.com:5349?transport=tcp",
    ];
    assert.deepEqual(result, {
      username: "1700003600:alice",
      credential: expected.credential,
      ttl: 3600,
      expiresAt: 1_700_003_600,
      uris: turnUris,
      iceServers: [
        { urls: ["stun:turn.example.com:3478"] },
        { urls: turnUris, username: "1700003600:alice", credential: expected.credential },
      ],
    });
    assert.equal(output, "", "a successful mint writes no log line");
  });

  it("names the uid's host of a fleet and then its fallback: URIs and STUN of both, the same for each call of a uid", () => {
    const fleet: CredentialHandlerConfig = {
      ...CONFIG,
      turnUris:
        "turn:turn-1.example.com:3478?transport=udp,turns:turn-1.example.com:443?transport=tcp;" +
        "turn:turn-2.example.com:3478?transport=udp,turns:turn-2.example.com:443?transport=tcp",
    };
    const urisOf = (host: string): string[] => [`turn:${host}:3478?transport=udp`, `turns:${host}:443?transport=tcp`];
    // carol hashes to turn-1 and alice to turn-2 (pinned in hosts.test.ts); each falls back on the other.
    for (const [uid, host, fallback] of [["carol", "turn-1.example.com", "turn-2.example.com"], ["alice", "turn-2.example.com", "turn-1.example.com"]] as const) {
      const result = handleGetTurnCredentials(call(null, uid), fleet, NOW);
      const credential = mintTurnCredential(SECRET, uid, 3600, NOW).credential;
      assert.deepEqual(result.uris, [...urisOf(host), ...urisOf(fallback)]);
      assert.deepEqual(result.iceServers, [
        { urls: [`stun:${host}:3478`, `stun:${fallback}:3478`] },
        { urls: urisOf(host), username: result.username, credential },
        { urls: urisOf(fallback), username: result.username, credential },
      ]);
      assert.deepEqual(handleGetTurnCredentials(call({ ttl: 60 }, uid), fleet, NOW + 5_000).uris, result.uris);
    }
  });

  it("names one shared STUN entry once when STUN_URIS is explicit, and two hosts of a larger fleet", () => {
    const fleet: CredentialHandlerConfig = {
      ...CONFIG,
      stunUris: "stun:stun.example.com:3478",
      turnUris: ["turn-1", "turn-2", "turn-3"].map((host) => `turn:${host}.example.com:3478?transport=udp`).join(";"),
    };
    const result = handleGetTurnCredentials(call(null, "carol"), fleet, NOW);
    assert.equal(result.iceServers.length, 3);
    assert.deepEqual(result.iceServers[0], { urls: ["stun:stun.example.com:3478"] });
    assert.equal(new Set(result.uris).size, 2);
  });

  it("honours a requested ttl", () => {
    const result = handleGetTurnCredentials(call({ ttl: 60 }), CONFIG, NOW);
    assert.equal(result.ttl, 60);
    assert.equal(result.expiresAt, 1_700_000_060);
    assert.equal(result.username, "1700000060:alice");
  });

  it("hands out fresh arrays, so a caller's mutation cannot change the next response", () => {
    const first = handleGetTurnCredentials(call(null), CONFIG, NOW);
    first.uris.push("turn:evil.example.com");
    first.iceServers[0]?.urls.push("stun:evil.example.com");
    const second = handleGetTurnCredentials(call(null), CONFIG, NOW);
    assert.equal(second.uris.length, 3);
    assert.deepEqual(second.iceServers[0]?.urls, ["stun:turn.example.com:3478"]);
  });

  it("refuses a caller who is not signed in with unauthenticated", () => {
    const { error, output } = refusal(call({ ttl: 600 }, null));
    assert.equal(error.code, "unauthenticated");
    assert.equal(error.message, "Sign in with Firebase Auth before asking for TURN credentials.");
    assert.match(output, /"message":"turn credential request refused"/);
  });

  it("checks sign-in before input, so an anonymous caller learns nothing about validation", () => {
    assert.equal(refusal(call({ ttl: "bad" }, null)).error.code, "unauthenticated");
  });

  it("refuses bad input with invalid-argument and the validation sentence", () => {
    const { error } = refusal(call({ ttl: 59 }));
    assert.equal(error.code, "invalid-argument");
    assert.equal(
      error.message,
      "ttl must be a whole number of seconds from 60 to 86400 (leave it out for 3600); got 59.",
    );
  });

  it("refuses with failed-precondition and logs every problem when the configuration is unusable", () => {
    const { error, output } = refusal(call(null), { ...CONFIG, secret: "", turnUris: "" });
    assert.equal(error.code, "failed-precondition");
    assert.equal(
      error.message,
      "TURN credentials are not available: the server's TURN configuration is incomplete. The operator has been told in the function logs.",
    );
    assert.match(output, /turn configuration unusable/);
    assert.match(output, /TURN_SHARED_SECRET is not set/);
    assert.match(output, /TURN_URIS is empty/);
  });

  it("refuses a weak secret without logging it", () => {
    const weak = "weak-but-not-empty";
    const { error, output } = refusal(call(null), { ...CONFIG, secret: weak });
    assert.equal(error.code, "failed-precondition");
    assert.match(output, /TURN_SHARED_SECRET is shorter than 32 characters/);
    assert.ok(!output.includes(weak) && !error.message.includes(weak));
  });

  describe("with App Check enforced", () => {
    const enforced = { ...CONFIG, enforceAppCheck: true };

    it("refuses a call without a verified App Check token", () => {
      const { error } = refusal(call(null, "alice", false), enforced);
      assert.equal(error.code, "unauthenticated");
      assert.equal(
        error.message,
        "This app must send a valid App Check token: App Check is enforced for TURN credentials.",
      );
    });

    it("mints for a call with a verified App Check token", () => {
      assert.equal(handleGetTurnCredentials(call(null, "alice", true), enforced, NOW).username, "1700003600:alice");
    });
  });
});
