// Runs every conformance vector file (packages/contract/conformance/*.json) against the client
// written from docs/signaling.md alone (test/helpers/docs-client), as a Kotlin or Swift port
// runs them in JUnit or XCTest: the JSON in, the port's own function, the expected outcome. And
// holds that client to its premise: it imports nothing of this repository's protocol code.
import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { entryGrammarProblem, isGatheredAddress, lineProblem, receiveEntry } from "../helpers/docs-client/entries";
import { MAX_SDP_LENGTH, sdpProblem } from "../helpers/docs-client/sdp";
import { RECOVERY_WINDOW_MS } from "../helpers/docs-client/constants";
import { CredentialsCache, CredentialsUnavailable, refreshMarginMs } from "../helpers/docs-client/credentials";
import { FIRST_PEER_STATE, incomingAction, peerSnapshot, sessionAction } from "../helpers/docs-client/listeners";
import { candidateEntryVectors, loadVectorArrays, loadVectors, readConformanceFile, sdpVectors } from "./conformance/vectors";
import { diagnoseRefusal, type RefusalFacts } from "../helpers/docs-client/diagnosis";
import { planDial } from "../helpers/docs-client/limits";
import { callLapsed, ringForMs } from "../helpers/docs-client/ring";
import { z } from "zod";

const CLIENT_FOLDER = join(__dirname, "..", "helpers", "docs-client");
const CONFORMANCE_FOLDER = dirname(createRequire(__filename).resolve("@webrtc-lite/contract/conformance/patterns.json"));

/** JSON with every map's keys sorted: two outcomes compare equal whatever order their maps were built in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === "object" && inner !== null && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1))) : inner,
  );
}

/** "`name`: expected …, got …" for each vector whose outcome differs (one failure lists them all). */
function disagreements<V extends { name: string }>(vectors: V[], got: (vector: V) => unknown, want: (vector: V) => unknown): string[] {
  return vectors.flatMap((vector) => {
    const [actual, expected] = [canonical(got(vector)), canonical(want(vector))];
    return actual === expected ? [] : [`"${vector.name}": expected ${expected}, got ${actual}`];
  });
}

/** A pattern of patterns.json as a whole-string JavaScript regex (RE2's leading `(?s)` becomes the `s` flag). */
function whole(pattern: string): RegExp {
  const dotAll = pattern.startsWith("(?s)");
  return new RegExp(`^(?:${dotAll ? pattern.slice(4) : pattern})$`, dotAll ? "s" : "");
}

const entries = candidateEntryVectors();
const sdps = sdpVectors();

/** Every string of the vectors that a pattern judges, to compare the patterns with the client's checks written from the prose. */
function sampleLines(): string[] {
  const lines = entries.map(({ given }) => (given.entry as { candidate?: unknown } | null)?.candidate).filter((line): line is string => typeof line === "string" && line !== "");
  return [...new Set(lines)];
}

// The shapes this runner reads, strict (an unknown key fails the load); values are the client's to judge.
const snapshotOf = <Data extends z.ZodObject>(data: Data) => z.strictObject({ fromCache: z.boolean(), exists: z.boolean(), data: data.optional() });
const peerState = z.strictObject({ handled: z.number(), peerGeneration: z.number(), generation: z.number(), offering: z.boolean() });
const peerAction = z.looseObject({ type: z.string() });

const millis = z.number().int();
const sessionTimes = z.strictObject({
  status: z.string(),
  created_at: millis,
  ring_seconds: z.number().optional(),
  answer: z.unknown(),
  end_request: z.unknown(),
  expire_at: millis.optional(),
});
const knownLimits = z.strictObject({ live: z.record(z.string(), z.string()), recent: z.record(z.string(), millis) });
const refusal = z.strictObject({ reason: z.string(), retryAtMillis: millis.optional(), sentence: z.string() });

/** Each vector file, and the tests that run it against the docs client. */
const RUNNERS: Record<string, () => void> = {
  "candidate-entries.json": () => {
    it(`what the receiver does with each of ${entries.length} entries ("One entry at a time"), with the first reason`, () => {
      const receipt = ({ given }: (typeof entries)[number]) => {
        const outcome = receiveEntry(given.entry);
        return outcome.action === "skip" ? { receiver: "skip", reason: outcome.reason } : { receiver: outcome.action };
      };
      assert.deepEqual(disagreements(entries, receipt, ({ expect }) => ({ receiver: expect.receiver, ...(expect.reason ? { reason: expect.reason } : {}) })), []);
    });
    it("whether the rules take each entry (the Data model's grammar, checked before a write)", () => {
      assert.deepEqual(disagreements(entries, ({ given }) => (entryGrammarProblem(given.entry) ? "refuse" : "accept"), ({ expect }) => expect.rules), []);
    });
  },
  "sdp.json": () => {
    it(`whether the rules take each of ${sdps.length} sdps, and the first problem`, () => {
      assert.deepEqual(disagreements(sdps, ({ given }) => sdpProblem(given.sdp) ?? "accept", ({ expect }) => expect.reason ?? "accept"), []);
    });
  },
  "session-listener.json": () => {
    const vectors = loadVectors(
      "session-listener.json",
      z.strictObject({ snapshot: snapshotOf(z.strictObject({ status: z.string(), answer: z.unknown().optional(), end_request: z.unknown().optional(), ended_reason: z.string().optional() })) }),
      z.strictObject({ action: z.string(), reason: z.string().optional(), deleteOwnCandidates: z.boolean().optional() }),
    );
    it(`what each of ${vectors.length} snapshots of the caller's session listener means`, () => {
      // The client also carries the sdp it applies; the vectors name only the action.
      const step = ({ given }: (typeof vectors)[number]) => {
        const { sdp: _sdp, ...action } = sessionAction(given.snapshot) as { sdp?: string };
        return action;
      };
      assert.deepEqual(disagreements(vectors, step, ({ expect }) => expect), []);
    });
  },
  "peer-candidates.json": () => {
    const vectors = loadVectors(
      "peer-candidates.json",
      z.strictObject({
        role: z.enum(["caller", "callee"]),
        state: peerState,
        snapshot: snapshotOf(z.strictObject({ candidates: z.unknown(), generation: z.number().optional(), description: z.unknown().optional(), restart_request: z.number().optional() })),
      }),
      z.strictObject({ actions: z.array(peerAction), state: peerState }),
    );
    it(`what each of ${vectors.length} snapshots of a peer-candidates listener means, restarts included`, () => {
      const step = ({ given }: (typeof vectors)[number]) => {
        const { actions, state } = peerSnapshot(given.role, given.state, given.snapshot);
        // The vectors name an entry by its index; the client also carries the entry and the sdp it applies.
        return { actions: actions.map(({ entry: _entry, sdp: _sdp, ...action }: Record<string, unknown>) => action), state };
      };
      assert.deepEqual(disagreements(vectors, step, ({ expect }) => expect), []);
      assert.deepEqual(FIRST_PEER_STATE, { handled: 0, peerGeneration: 0, generation: 0, offering: false });
    });
  },
  "incoming-calls.json": () => {
    const file = loadVectorArrays("incoming-calls.json", {
      vectors: {
        given: z.strictObject({ createdAtMillis: millis, ringSeconds: z.number(), inFirstServerSnapshot: z.boolean(), deviceNowMillis: millis }),
        expect: z.strictObject({ ringForMs: z.number() }),
      },
      incoming: {
        given: z.strictObject({ fromCache: z.boolean(), firstServerSnapshot: z.boolean(), document: sessionTimes.omit({ expire_at: true }), deviceNowMillis: millis }),
        expect: z.strictObject({ action: z.string(), ringForMs: z.number().optional() }),
      },
      lapsed: {
        given: z.strictObject({ session: sessionTimes.nullable(), deviceNowMillis: millis }),
        expect: z.strictObject({ lapsed: z.boolean() }),
      },
    });
    it(`how long each of ${file.vectors.length} calls rings from its first sighting ("The ring deadline")`, () => {
      assert.deepEqual(disagreements(file.vectors, ({ given }) => ({ ringForMs: ringForMs(given) }), ({ expect }) => expect), []);
    });
    it(`what each of ${file.incoming.length} documents of an incoming-calls snapshot means`, () => {
      assert.deepEqual(disagreements(file.incoming, ({ given }) => incomingAction(given), ({ expect }) => expect), []);
    });
    it(`whether each of ${file.lapsed.length} calls has lapsed (device clock, 5 s tolerance)`, () => {
      assert.deepEqual(disagreements(file.lapsed, ({ given }) => ({ lapsed: callLapsed(given.session, given.deviceNowMillis) }), ({ expect }) => expect), []);
    });
  },
  "limits-plan.json": () => {
    const vectors = loadVectors(
      "limits-plan.json",
      z.strictObject({
        known: knownLimits.nullable(),
        liveHere: z.record(z.string(), z.enum(["ringing", "answered"])),
        call: z.strictObject({ sessionId: z.string(), calleeId: z.string() }),
        deviceNowMillis: millis,
        read: z.strictObject({ limits: knownLimits.nullable(), sessions: z.record(z.string(), sessionTimes.nullable()) }).optional(),
      }),
      z.strictObject({
        batch: z.strictObject({ slot: z.string(), live: z.record(z.string(), z.string()), ends: z.array(z.strictObject({ sessionId: z.string(), reason: z.string() })) }).optional(),
        refuse: refusal.optional(),
      }),
    );
    it(`the dial batch's limits write, or the refusal on the device, for each of ${vectors.length} states of knowledge`, () => {
      const plan = ({ given, expect }: (typeof vectors)[number]) => {
        const planned = planDial(given);
        if ("refuse" in planned) return planned;
        // "any-unwritten": any slot the knowledge the plan used shows unwritten.
        const recent = given.read ? (given.read.limits?.recent ?? {}) : (given.known?.recent ?? {});
        const slot = expect.batch?.slot === "any-unwritten" && recent[planned.batch.slot] === undefined ? "any-unwritten" : planned.batch.slot;
        return { batch: { ...planned.batch, slot } };
      };
      assert.deepEqual(disagreements(vectors, plan, ({ expect }) => expect), []);
    });
  },
  "refusal-diagnosis.json": () => {
    const vectors = loadVectors(
      "refusal-diagnosis.json",
      z.strictObject({
        write: z.enum(["dial", "answer", "append", "restart", "restart-request", "connectivity", "end-request"]),
        role: z.enum(["caller", "callee"]),
        sent: z.record(z.string(), z.unknown()),
        read: z.strictObject({ outcome: z.enum(["found", "missing", "permission-denied"]), data: z.record(z.string(), z.unknown()).optional() }),
        limits: knownLimits.optional(),
        signInProvider: z.string().optional(),
        deviceNowMillis: millis,
        serverNowMillis: millis.optional(),
      }),
      z.strictObject({ cause: z.string(), then: z.enum(["continue", "retry-once", "show"]), sentence: z.string().optional() }),
    );
    it(`the cause, the next step and the sentence of each of ${vectors.length} refusals`, () => {
      assert.deepEqual(disagreements(vectors, ({ given }) => diagnoseRefusal(given as RefusalFacts), ({ expect }) => expect), []);
    });
  },
  "patterns.json": () => {
    const patterns = readConformanceFile("patterns.json") as {
      candidateLine: string;
      candidateLineMaxLength: number;
      sdpLines: string[];
      sdpMaxLength: number;
      ipv4: string;
      ipv6: string;
      mdnsName: string;
    };
    it("the candidate-line grammar written from the prose judges every line of the vectors as candidateLine does", () => {
      const line = whole(patterns.candidateLine);
      const byPattern = (sample: string) => sample.length <= patterns.candidateLineMaxLength && line.test(sample);
      const lines = sampleLines();
      const wrong = lines.filter((sample) => byPattern(sample) !== (lineProblem(sample) === undefined));
      assert.deepEqual(wrong, [], `${wrong.length} of ${lines.length} lines judged differently`);
    });
    it("the address rule written from the prose (IP literal or <label>.local) takes exactly what ipv4, ipv6 and mdnsName take", () => {
      const address = [patterns.ipv4, patterns.ipv6, patterns.mdnsName].map(whole);
      const samples = [...sampleLines().map((line) => line.split(" ")[4] ?? ""), "::1", "fe80::1%eth0", "::ffff:192.0.2.1", "01.2.3.4", "a.b.local", "example.com", "1.2.3"];
      const wrong = samples.filter((sample) => address.some((pattern) => pattern.test(sample)) !== isGatheredAddress(sample));
      assert.deepEqual(wrong, []);
    });
    it("the SDP form written from the prose judges every sdp of the vectors as sdpLines and sdpMaxLength do", () => {
      assert.equal(MAX_SDP_LENGTH, patterns.sdpMaxLength);
      const lines = patterns.sdpLines.map(whole);
      const wrong = sdps.filter(({ given }) => (given.sdp.length <= patterns.sdpMaxLength && lines.every((pattern) => pattern.test(given.sdp))) !== (sdpProblem(given.sdp) === undefined));
      assert.deepEqual(wrong.map(({ name }) => name), []);
    });
  },
};

describe("conformance vectors against the client written from the docs alone (test/helpers/docs-client)", () => {
  it("runs every vector file there is", () => {
    const files = readdirSync(CONFORMANCE_FOLDER).filter((file) => file.endsWith(".json")).sort();
    assert.deepEqual(files, Object.keys(RUNNERS).sort());
  });

  it("imports nothing but firebase/*, @roamhq/wrtc, node:*, its own files and two plumbing helpers, snapshots and chat-channel (no @webrtc-lite package, no packages/client, no web/src)", () => {
    const specifiersOf = (source: string) =>
      [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|\brequire\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g)].map((match) => match[1] ?? match[2] ?? match[3] ?? match[4]);
    // The scan itself sees every form of import.
    assert.deepEqual(specifiersOf('import { x } from "@webrtc-lite/contract";\nexport * from "../../packages/client/src";\nconst y = await import("web/src/main");\nrequire("a");\nimport "@webrtc-lite/client";'), ["@webrtc-lite/contract", "../../packages/client/src", "web/src/main", "a", "@webrtc-lite/client"]);
    const files = readdirSync(CLIENT_FOLDER).filter((file) => file.endsWith(".ts"));
    const imports = files.flatMap((file) => specifiersOf(readFileSync(join(CLIENT_FOLDER, file), "utf8")).map((specifier) => ({ file, specifier })));
    assert.ok(["@roamhq/wrtc", "firebase/firestore"].every((used) => imports.some(({ specifier }) => specifier === used)), "the scan finds the client's imports");
    const wrong = imports
      .filter(({ specifier }) => !/^(?:firebase\/[a-z]+|@roamhq\/wrtc|node:[a-z_/]+|\.\/[a-z-]+|\.\.\/(?:snapshots|chat-channel))$/.test(specifier))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    assert.deepEqual(wrong, []);
  });

  for (const [file, run] of Object.entries(RUNNERS)) describe(file, run);

  // No vector file holds the credentials cache's rule yet; these are its cases, on a fake clock.
  describe("the TURN credentials cache (README: getTurnCredentials; the rule at the top of credentials.ts)", () => {
    const answer = (ttl: number, user = "a") => ({ username: `1:${user}`, credential: "c", ttl, expiresAt: 1, uris: ["turn:x"], iceServers: [] });

    it("fetches again once less than a fifth of the ttl is left (at most 5 min before the end), counted from when the request was sent", async () => {
      let now = 0;
      let fetches = 0;
      const cache = new CredentialsCache(async () => {
        fetches += 1;
        now += 1_000; // the callable takes a second
        return answer(600, String(fetches));
      }, () => now);
      await cache.get();
      now = 479_999; // 600 s − 120 s (a fifth), from the send at 0
      assert.equal((await cache.get()).username, "1:1");
      now = 480_000;
      assert.equal((await cache.get()).username, "1:2");
      assert.equal(refreshMarginMs(3_600), 300_000, "a fifth of an hour is 12 min: capped at 5");
      // The server's clock: minted at expiresAt − ttl (server) in the middle of its request (device 480 000 to 481 000), run on since.
      now = 500_000;
      assert.equal(cache.serverNowMillis(), (1 - 600) * 1_000 + (500_000 - 480_500));
      assert.equal(refreshMarginMs(600), 120_000);
    });

    it("falls back to the cached credential while it is good when the callable fails, and fails with a sentence when none is", async () => {
      let now = 0;
      let fail = false;
      const cache = new CredentialsCache(async () => {
        if (fail) throw Object.assign(new Error("internal"), { code: "functions/internal" });
        return answer(3_600);
      }, () => now);
      await cache.get();
      fail = true;
      now = 3_400_000; // refresh due (past 55 min), still good until 60 min
      assert.equal((await cache.get()).username, "1:a");
      now = 3_580_000; // 20 s left
      assert.equal((await cache.get()).username, "1:a");
      await assert.rejects(cache.get(RECOVERY_WINDOW_MS), CredentialsUnavailable, "a restart needs it good for 30 s more");
      now = 3_600_000;
      await assert.rejects(cache.get(), (error: unknown) => error instanceof CredentialsUnavailable && /could not be reached/.test(error.message));
      await assert.rejects(new CredentialsCache(async () => ({ username: 1 })).get(), /cannot use/);
    });

    it("asks once for callers that ask at the same time", async () => {
      let fetches = 0;
      const cache = new CredentialsCache(async () => {
        fetches += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return answer(3_600);
      });
      await Promise.all([cache.get(), cache.get(), cache.get()]);
      assert.equal(fetches, 1);
    });
  });
});
