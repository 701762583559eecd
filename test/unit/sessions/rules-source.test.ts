// firestore.rules cannot be compiled offline, so this reads its text and checks that the limits,
// the end-request table, the document shapes and the regular expressions agree with the pure
// modules that the trigger and the clients use. The Firestore tier then runs the rules for real.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CANDIDATE_ENTRY_FIELDS, CREATE_EXPIRY, LIMITS, RING_SECONDS, ROLES, SESSION_FIELDS, candidatesCreateFields, sessionCreateFields, type Role, CALL_LIMITS, SESSION_ID_PATTERN, callLimitsFields, sessionIdSchema, CANDIDATE_LINE_PATTERN, SDP_MID_PATTERN, SDP_PATTERNS, UID_PATTERN, USERNAME_FRAGMENT_PATTERN, wholeMatch } from "@webrtc-lite/contract";
import { END_RULES, reachedPhase, type CallPhase } from "#functions/sessions/transitions";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { sampleSdp } from "../../helpers/sdp";

const rules = readFileSync(join(REPO_ROOT, "firestore.rules"), "utf8");

/** The body of one rules function, up to the closing brace at its indentation. */
function ruleFunction(name: string): string {
  const start = rules.indexOf(`function ${name}(`);
  assert.ok(start >= 0, `firestore.rules has no function ${name}`);
  const indent = start - rules.lastIndexOf("\n", start) - 1;
  return rules.slice(start, rules.indexOf(`\n${" ".repeat(indent)}}`, start));
}

/** The condition of one `allow` statement inside the `match` block that starts with `match`. */
function allowRule(match: string, operation: string): string {
  const block = rules.indexOf(`match ${match} {`);
  assert.ok(block >= 0, `firestore.rules has no match ${match}`);
  const start = rules.indexOf(`allow ${operation}:`, block);
  assert.ok(start >= 0, `match ${match} has no allow ${operation}`);
  return rules.slice(start, rules.indexOf(";", start));
}

/** The patterns of the `matches('…')` calls in `body`, as written. */
function quotedPatterns(body: string): string[] {
  return [...body.matchAll(/matches\('([^']*)'\)/g)].map((match) => match[1]);
}

/** The quoted names in a rules list literal such as `['a', 'b']`. */
function listItems(text: string | undefined): string[] {
  return [...(text ?? "").matchAll(/'(\w+)'/g)].map((match) => match[1]);
}

/** The names a `keys().hasOnly([...])` or `hasAll([...])` in `body` lists, one array per occurrence. */
function keyLists(body: string, method: "hasOnly" | "hasAll"): string[][] {
  return [...body.matchAll(new RegExp(`keys\\(\\)\\.${method}\\(\\[([^\\]]*)\\]\\)`, "g"))].map((match) => listItems(match[1]));
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe("firestore.rules agrees with the signaling modules", () => {
  it("uses the model's size limits", () => {
    assert.match(ruleFunction("isDescription"), new RegExp(`value\\.sdp\\.size\\(\\) <= ${LIMITS.maxSdpLength}\\b`));
    assert.match(ruleFunction("isCandidateEntry"), new RegExp(`entry\\.candidate\\.size\\(\\) <= ${LIMITS.maxCandidateLength}\\b`));
    assert.match(ruleFunction("isCandidateEntry"), new RegExp(`entry\\.sdpMLineIndex <= ${LIMITS.maxSdpMLineIndex}\\b`));
    assert.match(rules, new RegExp(`request\\.query\\.limit <= ${LIMITS.maxQueryLimit}\\b`));
  });

  it(`bounds ring_seconds to ${RING_SECONDS.min}–${RING_SECONDS.max} whole seconds at create`, () => {
    const create = allowRule("/webrtc_sessions/{sessionId}", "create");
    assert.match(create, /request\.resource\.data\.ring_seconds is int\b/);
    assert.match(create, new RegExp(`request\\.resource\\.data\\.ring_seconds >= ${RING_SECONDS.min}\\b`));
    assert.match(create, new RegExp(`request\\.resource\\.data\\.ring_seconds <= ${RING_SECONDS.max}\\b`));
    assert.ok(RING_SECONDS.min <= RING_SECONDS.default && RING_SECONDS.default <= RING_SECONDS.max);
  });

  it(`accepts a create expire_at from ${CREATE_EXPIRY.minSeconds} to ${CREATE_EXPIRY.maxSeconds} s after request.time, which the client's own offset falls in`, () => {
    const body = ruleFunction("isCreateExpiry");
    assert.match(body, new RegExp(`value >= request\\.time \\+ duration\\.value\\(${CREATE_EXPIRY.minSeconds}, 's'\\)`));
    assert.match(body, new RegExp(`value <= request\\.time \\+ duration\\.value\\(${CREATE_EXPIRY.maxSeconds}, 's'\\)`));
    assert.ok(CREATE_EXPIRY.minSeconds < CREATE_EXPIRY.clientSeconds && CREATE_EXPIRY.clientSeconds < CREATE_EXPIRY.maxSeconds);
    // Both create rules (session and candidates) use it.
    assert.match(allowRule("/webrtc_sessions/{sessionId}", "create"), /isCreateExpiry\(request\.resource\.data\.expire_at\)/);
    assert.match(ruleFunction("isNewDocument"), /isCreateExpiry\(data\.expire_at\)/);
  });

  it("asks for exactly the keys that sessionCreateFields and candidatesCreateFields write", () => {
    const session = sessionCreateFields({ caller_id: "a", callee_id: "b", offer: { type: "offer", sdp: sampleSdp("offer") } }, "now", 0);
    const sessionRule = allowRule("/webrtc_sessions/{sessionId}", "create");
    assert.deepEqual(keyLists(sessionRule, "hasOnly").map(sorted), [sorted(Object.keys(session))]);
    assert.deepEqual(keyLists(sessionRule, "hasAll").map(sorted), [sorted(Object.keys(session))]);
    const candidates = candidatesCreateFields(session, "caller", [], "now", 0);
    // The candidates create reads every key (a missing one is an error), so it needs no hasAll.
    const candidatesRule = ruleFunction("isNewDocument");
    assert.deepEqual(keyLists(candidatesRule, "hasOnly").map(sorted), [sorted(Object.keys(candidates))]);
    for (const key of Object.keys(candidates).filter((key) => key !== "sender")) assert.match(candidatesRule, new RegExp(`data\\.${key}\\b`), key);
    assert.match(candidatesRule, /isOwner\(data\)/);
  });

  it("lets participants update only the answer, the connectivity report and the end request", () => {
    const update = allowRule("/webrtc_sessions/{sessionId}", "update");
    const [writable] = [...update.matchAll(/affectedKeys\(\)\.hasOnly\(\[([^\]]*)\]\)/g)].map((match) => listItems(match[1]));
    assert.deepEqual(sorted(writable), sorted([SESSION_FIELDS.answer, SESSION_FIELDS.connectivity, SESSION_FIELDS.endRequest]));
  });

  it("asks of a candidate entry the keys of RTCIceCandidateInit, reading every one but usernameFragment", () => {
    const body = ruleFunction("isCandidateEntry");
    const { usernameFragment, ...required } = CANDIDATE_ENTRY_FIELDS;
    assert.deepEqual(keyLists(body, "hasOnly").map(sorted), [sorted([...Object.values(required), usernameFragment])]);
    // No hasAll (it would cost expressions): reading a missing key is an error, which refuses.
    for (const key of Object.values(required)) assert.match(body, new RegExp(`entry\\.${key}\\b(?! is)`), key);
    assert.match(body, new RegExp(`entry\\.get\\('${usernameFragment}', null\\) == null`));
  });

  // validation.ts defines uids, SDPs and candidate lines once; the rules must carry the very same
  // patterns (rules-differential.test.ts then checks, in the emulator, that they also behave alike).
  it("checks uids with validation.ts's UID_PATTERN, on both ids at create", () => {
    assert.deepEqual(quotedPatterns(ruleFunction("isUid")), [UID_PATTERN]);
    const create = allowRule("/webrtc_sessions/{sessionId}", "create");
    assert.match(create, /isUid\(request\.resource\.data\.caller_id\)/);
    assert.match(create, /isUid\(request\.resource\.data\.callee_id\)/);
  });

  it("checks an SDP with validation.ts's SDP_PATTERNS, all of them, in order", () => {
    const body = ruleFunction("isDescription");
    assert.deepEqual(quotedPatterns(body), [...SDP_PATTERNS]);
    for (const pattern of SDP_PATTERNS) assert.ok(body.includes(`value.sdp.matches('${pattern}')`), pattern);
  });

  it("checks a candidate line with validation.ts's CANDIDATE_LINE_PATTERN", () => {
    assert.deepEqual(quotedPatterns(ruleFunction("isCandidateLine")), [CANDIDATE_LINE_PATTERN]);
  });

  it("checks sdpMid and usernameFragment with validation.ts's patterns", () => {
    const body = ruleFunction("isCandidateEntry");
    assert.deepEqual(quotedPatterns(body), [SDP_MID_PATTERN, USERNAME_FRAGMENT_PATTERN]);
    assert.ok(body.includes(`entry.sdpMid.matches('${SDP_MID_PATTERN}')`));
    assert.ok(body.includes(`entry.usernameFragment.matches('${USERNAME_FRAGMENT_PATTERN}')`));
  });

  it(`checks each of the up to ${LIMITS.maxCandidatesPerWrite} entries a write adds, and the total of ${LIMITS.maxCandidatesPerSide}`, () => {
    const body = ruleFunction("isCandidateList");
    assert.match(body, new RegExp(`after\\.size\\(\\) <= ${LIMITS.maxCandidatesPerSide}\\b`));
    assert.match(body, new RegExp(`after\\.size\\(\\) - before\\.size\\(\\) <= ${LIMITS.maxCandidatesPerWrite}\\b`));
    const offsets = [...body.matchAll(/isNewEntry\(after, before\.size\(\), (\d+)\)/g)].map((match) => Number(match[1]));
    assert.deepEqual(offsets, Array.from({ length: LIMITS.maxCandidatesPerWrite }, (_, index) => index));
  });

  it("reads the phase from the same fields, in the same order, as reachedPhase", () => {
    // phaseOf is a chain `data.get('field', null) != null ? 'phase' : …`: the first field set decides.
    const body = ruleFunction("phaseOf");
    const chain = [...body.matchAll(/data\.get\('(\w+)', null\) != null \? '(\w+)'/g)].map((match) => ({ field: match[1], phase: match[2] }));
    assert.deepEqual(
      chain.map(({ field }) => field),
      [SESSION_FIELDS.connectivity, SESSION_FIELDS.answer],
    );
    assert.equal(chain[0].phase, reachedPhase({ connectivity: { by: "caller" }, answer: { type: "answer" } }));
    assert.equal(chain[1].phase, reachedPhase({ connectivity: null, answer: { type: "answer" } }));
    assert.equal(/:\s*'(\w+)';/.exec(body)?.[1], reachedPhase({ connectivity: null, answer: null }));
  });

  it("allows the same end requests as the transition table", () => {
    const table: Record<string, { by: Role[]; in: CallPhase[] }> = {};
    for (const clause of ruleFunction("mayEnd").split("||")) {
      const single = /reason == '(\w+)'/.exec(clause)?.[1];
      const reasons = single ? [single] : listItems(/reason in \[([^\]]*)\]/.exec(clause)?.[1]);
      const role = /role == '(\w+)'/.exec(clause)?.[1] as Role | undefined;
      const phase = /phase == '(\w+)'/.exec(clause)?.[1];
      const phases = (phase ? [phase] : /phase in \[([^\]]*)\]/.test(clause) ? listItems(/phase in \[([^\]]*)\]/.exec(clause)?.[1]) : ["offered", "answered", "connected"]) as CallPhase[];
      for (const reason of reasons) table[reason] = { by: role ? [role] : [...ROLES], in: phases };
    }
    const expected = Object.fromEntries(Object.entries(END_RULES).map(([reason, rule]) => [reason, { by: [...rule.by], in: [...rule.in] }]));
    assert.deepEqual(table, expected);
  });

  describe("the caller's limits (packages/contract/src/sessions/limits.ts)", () => {
    const returned = (name: string) => /return ([^;]+);/.exec(ruleFunction(name))?.[1];

    it("holds the same numbers in its settings as CALL_LIMITS", () => {
      assert.equal(returned("maxLiveCalls"), String(CALL_LIMITS.maxLiveCalls));
      assert.equal(returned("callsPerMinute"), String(CALL_LIMITS.callsPerMinute));
      assert.match(ruleFunction("isLimitsStep"), new RegExp(`before\\.recent\\[after\\.slot\\] \\+ duration\\.value\\(${CALL_LIMITS.windowSeconds}, 's'\\)`));
      assert.equal(returned("anonymousCallersAllowed"), "true", "the shipped default lets anonymous users call");
    });

    it(`checks up to ${CALL_LIMITS.maxReleasedPerWrite} released entries by position, which covers maxLiveCalls`, () => {
      const body = ruleFunction("hasReleasedOnlyEnded");
      const positions = [...body.matchAll(/keptOrEnded\(before, after, (\d+)\)/g)].map((match) => Number(match[1]));
      assert.deepEqual(positions, Array.from({ length: CALL_LIMITS.maxReleasedPerWrite }, (_, index) => index));
      assert.match(body, new RegExp(`before\\.size\\(\\) <= ${CALL_LIMITS.maxReleasedPerWrite}\\b`));
      assert.ok(CALL_LIMITS.maxLiveCalls <= CALL_LIMITS.maxReleasedPerWrite);
    });

    it("asks for exactly the keys callLimitsFields writes, and session ids the schema accepts", () => {
      const fields = callLimitsFields({ slot: "0", sessionId: "s", calleeId: "b", released: [] }, "now", "delete");
      const step = ruleFunction("isLimitsStep");
      assert.deepEqual(keyLists(step, "hasOnly").map(sorted), [sorted(Object.keys(fields))]);
      assert.ok(step.includes(`after.session_id.matches('${SESSION_ID_PATTERN}')`), "isLimitsStep checks session_id with SESSION_ID_PATTERN");
      const sessionIdPattern = SESSION_ID_PATTERN;
      for (const id of ["abcDEF0123456789wxyz", "a", "a-b_c", "x".repeat(128)]) {
        assert.equal(sessionIdSchema.safeParse(id).success, true, id);
        assert.equal(wholeMatch(sessionIdPattern).test(id), true, id);
      }
      for (const id of ["", "a/b", "a b", "<b>", "x".repeat(129), "é"]) {
        assert.equal(sessionIdSchema.safeParse(id).success, false, id);
        assert.equal(wholeMatch(sessionIdPattern).test(id), false, id);
      }
    });

    it("decides that a call has ended from the same fields as callHasEnded", () => {
      const body = ruleFunction("hasEnded");
      for (const clause of ["!existsAfter(path)", "session.data.status == 'ended'", "session.data.get('end_request', null) != null", "request.time >= session.data.expire_at"]) {
        assert.ok(body.includes(clause), clause);
      }
      // A call left ringing past its deadline counts until it is ended (callHasLapsed).
      assert.equal(body.split("\n").filter((line) => line.trim().startsWith("|| ") || line.includes("return !existsAfter")).length, 4);
    });

    it("ties every session create to its limits write, and to the anonymous switch", () => {
      const create = allowRule("/webrtc_sessions/{sessionId}", "create");
      assert.match(create, /isCountedCreate\(sessionId, request\.resource\.data\.callee_id\)/);
      assert.match(create, /anonymousCallersAllowed\(\) \|\| request\.auth\.token\.firebase\.sign_in_provider != 'anonymous'/);
    });
  });
});
