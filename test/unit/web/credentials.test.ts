import { strict as assert } from "node:assert";
import {
  TurnCredentialsError,
  createCredentialCache,
  credentialsErrorFrom,
  parseTurnCredentials,
  refreshMarginSeconds,
} from "@webrtc-lite/client/credentials";
import { serverTimeOfCredential } from "@webrtc-lite/contract";

function answer(ttl = 3600, serial = 1): Record<string, unknown> {
  const username = `${1_800_000_000 + serial}:user-${serial}`;
  return {
    username,
    credential: `credential-${serial}`,
    ttl,
    expiresAt: 1_800_000_000 + serial,
    uris: ["turn:127.0.0.1:3478?transport=udp"],
    iceServers: [{ urls: ["turn:127.0.0.1:3478?transport=udp"], username, credential: `credential-${serial}` }],
  };
}

/** A fetch that answers with a new serial each time and counts its calls. */
function countingFetch(ttl = 3600): { fetch: () => Promise<unknown>; calls: () => number } {
  let calls = 0;
  return {
    fetch: async () => {
      calls += 1;
      return answer(ttl, calls);
    },
    calls: () => calls,
  };
}

describe("web client: getTurnCredentials answers", () => {
  it("accepts the documented shape, and tolerates fields a newer server adds", () => {
    const parsed = parseTurnCredentials({ ...answer(), region: "eu" });
    assert.equal(parsed.username, "1800000001:user-1");
    assert.deepEqual(parsed.iceServers, answer().iceServers);
  });

  const refused: Array<[string, unknown, string]> = [
    ["null", null, "the answer must be an object"],
    ["a missing credential", { ...answer(), credential: undefined }, "credential must be a string"],
    ["a ttl below 60", { ...answer(), ttl: 59 }, "ttl must be at least 60"],
    ["a fractional expiresAt", { ...answer(), expiresAt: 1.5 }, "expiresAt must be a whole number"],
    ["a username without expiry", { ...answer(), username: "alice" }, "username must look like <unix expiry>:<uid>"],
    ["a stun: URI among the TURN URIs", { ...answer(), uris: ["stun:127.0.0.1:3478"] }, "uris.0 must be a turn: or turns: URI"],
    ["no ICE servers", { ...answer(), iceServers: [] }, "iceServers must hold at least 1 entry"],
    ["an ICE server without urls", { ...answer(), iceServers: [{ username: "u" }] }, "iceServers.0.urls must be a list"],
  ];
  for (const [name, data, problem] of refused) {
    it(`refuses ${name} with a sentence naming the field`, () => {
      assert.throws(
        () => parseTurnCredentials(data),
        (error: unknown) =>
          error instanceof TurnCredentialsError &&
          error.failure === "invalid-response" &&
          error.message === `getTurnCredentials answered with something this client cannot use: ${problem}.`,
      );
    });
  }
});

describe("web client: callable failures", () => {
  it("tells an unreachable function (the SDK's 'internal' with HTTP status 0) from a refusal", () => {
    const unreachable = credentialsErrorFrom(Object.assign(new Error("internal [0]"), { code: "functions/internal" }));
    assert.equal(unreachable.failure, "unreachable");
    assert.equal(
      unreachable.message,
      "Could not reach the getTurnCredentials function: it is not deployed, the emulator is not running, or the network is down.",
    );
  });

  it("passes the function's own sentence on, with its code", () => {
    const refused = credentialsErrorFrom(
      Object.assign(new Error("Sign in with Firebase Auth before asking for TURN credentials. [401]"), { code: "functions/unauthenticated" }),
    );
    assert.equal(refused.failure, "refused");
    assert.equal(refused.code, "unauthenticated");
    assert.equal(
      refused.message,
      "getTurnCredentials refused the request (unauthenticated): Sign in with Firebase Auth before asking for TURN credentials.",
    );
  });

  it("keeps an internal error the function itself answered as a refusal", () => {
    const internal = credentialsErrorFrom(
      Object.assign(new Error("Could not mint TURN credentials; try again later. [500]"), { code: "functions/internal" }),
    );
    assert.deepEqual(
      [internal.failure, internal.message],
      ["refused", "getTurnCredentials refused the request (internal): Could not mint TURN credentials; try again later."],
    );
  });

  it("reports timeouts as unreachable", () => {
    const late = credentialsErrorFrom(Object.assign(new Error("deadline-exceeded"), { code: "functions/deadline-exceeded" }));
    assert.deepEqual([late.failure, late.code], ["unreachable", "deadline-exceeded"]);
  });

  it("wraps errors without a code", () => {
    const plain = credentialsErrorFrom(new TypeError("fetch failed"));
    assert.deepEqual([plain.failure, plain.message], ["unreachable", "Could not call getTurnCredentials: fetch failed"]);
  });
});

describe("web client: credential cache", () => {
  let clock: number;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it("refreshes a fifth of the TTL before the end, at most five minutes before", () => {
    assert.equal(refreshMarginSeconds(60), 12);
    assert.equal(refreshMarginSeconds(600), 120);
    assert.equal(refreshMarginSeconds(3600), 300);
    assert.equal(refreshMarginSeconds(86_400), 300);
  });

  it("serves the cached credentials until the refresh point, then fetches new ones", async () => {
    const source = countingFetch(3600);
    const cache = createCredentialCache(source.fetch, now);
    assert.equal((await cache.get()).username, "1800000001:user-1");
    clock += (3600 - 300) * 1000 - 1;
    assert.equal((await cache.get()).username, "1800000001:user-1");
    assert.equal(source.calls(), 1);
    clock += 1;
    assert.equal((await cache.get()).username, "1800000002:user-2");
    assert.equal(source.calls(), 2);
  });

  it("measures the lifetime from when the request was sent, not from when the answer came", async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const cache = createCredentialCache(
      () =>
        new Promise((resolve) => {
          calls += 1;
          release = () => resolve(answer(60, calls));
        }),
      now,
    );
    const first = cache.get();
    clock += 10_000;
    release!();
    await first;
    // ttl 60 s, margin 12 s: the refresh point is 48 s after the request was sent.
    clock = 1_000_000 + 48_000 - 1;
    assert.equal((await cache.get()).username, "1800000001:user-1");
    assert.equal(calls, 1);
    clock += 1;
    const second = cache.get();
    assert.equal(calls, 2);
    release!();
    assert.equal((await second).username, "1800000002:user-2");
  });

  it("estimates the server's time from the credential's username (expiry − ttl), carried forward on the device clock", async () => {
    // The server issued serial 1 at (1_800_000_001 − 3600) s; this device's clock reads a day later.
    const issued = (1_800_000_001 - 3_600) * 1_000;
    let now = issued + 86_400_000;
    const cache = createCredentialCache(async () => {
      now += 200;
      return answer(3_600, 1);
    }, () => now);
    assert.equal(cache.serverNowMillis(), undefined);
    await cache.get();
    // Taken as issued halfway through the request's 200 ms.
    assert.equal(cache.serverNowMillis(), issued + 100);
    now += 5_000;
    assert.equal(cache.serverNowMillis(), issued + 5_100);
    assert.equal(serverTimeOfCredential({ username: "1800000001:user-1", ttl: 3_600 }), issued);
    assert.equal(serverTimeOfCredential({ username: "user-1", ttl: 3_600 }), undefined);
  });

  it("shares one request between concurrent callers", async () => {
    const source = countingFetch();
    const cache = createCredentialCache(source.fetch, now);
    const [a, b, c] = await Promise.all([cache.get(), cache.get(), cache.get()]);
    assert.equal(source.calls(), 1);
    assert.equal(a, b);
    assert.equal(b, c);
  });

  it("keeps using still-valid credentials when a refresh fails, and throws once they expired", async () => {
    let failing = false;
    const cache = createCredentialCache(async () => {
      if (failing) throw Object.assign(new Error("internal"), { code: "functions/internal" });
      return answer(3600);
    }, now);
    await cache.get();
    failing = true;
    clock += 3400 * 1000;
    assert.equal((await cache.get()).username, "1800000001:user-1");
    clock += 200 * 1000;
    await assert.rejects(cache.get(), (error: unknown) => error instanceof TurnCredentialsError && error.failure === "unreachable");
  });

  it("does not cache a failure: the next call asks again", async () => {
    let attempts = 0;
    const cache = createCredentialCache(async () => {
      attempts += 1;
      return attempts === 1 ? { nonsense: true } : answer();
    }, now);
    await assert.rejects(cache.get(), (error: unknown) => error instanceof TurnCredentialsError && error.failure === "invalid-response");
    assert.equal((await cache.get()).username, "1800000001:user-1");
    assert.equal(attempts, 2);
  });

  it("forgets credentials on clear(), including an answer still in flight", async () => {
    let release: (() => void) | undefined;
    let serial = 0;
    const cache = createCredentialCache(
      () =>
        new Promise((resolve) => {
          serial += 1;
          const mine = serial;
          release = () => resolve(answer(3600, mine));
        }),
      now,
    );
    const stale = cache.get();
    cache.clear();
    const releaseStale = release!;
    const fresh = cache.get();
    releaseStale();
    assert.equal((await stale).username, "1800000001:user-1");
    release!();
    assert.equal((await fresh).username, "1800000002:user-2");
    assert.equal((await cache.get()).username, "1800000002:user-2");
  });
});
