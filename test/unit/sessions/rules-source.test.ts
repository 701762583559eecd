// firestore.rules cannot be compiled offline, so this reads its text and checks that the limits,
// the end-request table and the regular expressions agree with the pure modules that the
// trigger and the clients use. The Firestore tier then runs the rules for real.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LIMITS, ROLES, type Role } from "../../../functions/src/sessions/model";
import { END_RULES } from "../../../functions/src/sessions/transitions";
import { candidateLineProblem, sdpProblem } from "../../../functions/src/sessions/validation";
import { REPO_ROOT } from "../../helpers/emulators";
import { sampleCandidates, sampleSdp } from "../../helpers/sdp";

const rules = readFileSync(join(REPO_ROOT, "firestore.rules"), "utf8");

/** The body of one rules function, up to the closing brace at its indentation. */
function ruleFunction(name: string): string {
  const start = rules.indexOf(`function ${name}(`);
  assert.ok(start >= 0, `firestore.rules has no function ${name}`);
  return rules.slice(start, rules.indexOf("\n    }", start));
}

/** Rules' matches() is a full match in RE2; `(?s)` at the front becomes JavaScript's `s` flag. */
function rulesRegex(pattern: string): RegExp {
  const dotAll = pattern.startsWith("(?s)");
  return new RegExp(`^(?:${dotAll ? pattern.slice(4) : pattern})$`, dotAll ? "s" : "");
}

function quotedPatterns(body: string): string[] {
  return [...body.matchAll(/matches\('([^']*)'\)/g)].map((match) => match[1]);
}

describe("firestore.rules agrees with the signaling modules", () => {
  it("uses the model's size limits", () => {
    assert.match(ruleFunction("isDescription"), new RegExp(`value\\.sdp\\.size\\(\\) <= ${LIMITS.maxSdpLength}\\b`));
    assert.match(ruleFunction("isCandidateEntry"), new RegExp(`entry\\.candidate\\.size\\(\\) <= ${LIMITS.maxCandidateLength}\\b`));
    assert.match(ruleFunction("isCandidateEntry"), new RegExp(`entry\\.sdpMid\\.size\\(\\) <= ${LIMITS.maxSdpMidLength}\\b`));
    assert.match(ruleFunction("isCandidateEntry"), new RegExp(`entry\\.sdpMLineIndex <= ${LIMITS.maxSdpMLineIndex}\\b`));
    assert.match(ruleFunction("isUid"), new RegExp(`value\\.size\\(\\) <= ${LIMITS.maxUidLength}\\b`));
    assert.match(rules, new RegExp(`request\\.query\\.limit <= ${LIMITS.maxQueryLimit}\\b`));
  });

  it(`checks each of the up to ${LIMITS.maxCandidatesPerWrite} entries a write appends, and the total`, () => {
    const body = ruleFunction("isCandidateAppend");
    assert.match(body, new RegExp(`after\\.size\\(\\) <= ${LIMITS.maxCandidatesPerSide}\\b`));
    assert.match(body, new RegExp(`after\\.size\\(\\) - before\\.size\\(\\) <= ${LIMITS.maxCandidatesPerWrite}\\b`));
    const offsets = [...body.matchAll(/isNewEntry\(after, before\.size\(\), (\d+)\)/g)].map((match) => Number(match[1]));
    assert.deepEqual(offsets, Array.from({ length: LIMITS.maxCandidatesPerWrite }, (_, index) => index));
  });

  it("allows the same end requests as the transition table", () => {
    const clauses = ruleFunction("mayEnd").split("||");
    const table: Record<string, { by: Role[]; from: string[] }> = {};
    for (const clause of clauses) {
      const list = (text: string | undefined) => [...(text ?? "").matchAll(/'(\w+)'/g)].map((match) => match[1]);
      const reasons = /reason == '(\w+)'/.exec(clause)?.[1] ? [/reason == '(\w+)'/.exec(clause)![1]] : list(/reason in \[([^\]]*)\]/.exec(clause)?.[1]);
      const role = /role == '(\w+)'/.exec(clause)?.[1] as Role | undefined;
      const from = /status == '(\w+)'/.exec(clause)?.[1] ? [/status == '(\w+)'/.exec(clause)![1]] : list(/status in \[([^\]]*)\]/.exec(clause)?.[1]);
      for (const reason of reasons) table[reason] = { by: role ? [role] : [...ROLES], from };
    }
    const expected = Object.fromEntries(Object.entries(END_RULES).map(([reason, rule]) => [reason, { by: [...rule.by], from: [...rule.from] }]));
    assert.deepEqual(table, expected);
  });

  it("accepts the SDPs the trigger accepts, and refuses what it can recognise as not SDP", () => {
    const patterns = quotedPatterns(ruleFunction("isDescription")).map(rulesRegex);
    assert.equal(patterns.length, 5);
    const plausible = (sdp: string) => patterns.every((pattern) => pattern.test(sdp));
    for (const sdp of [sampleSdp("offer"), sampleSdp("answer"), sampleSdp("offer").replaceAll("\r\n", "\n")]) {
      assert.equal(sdpProblem(sdp), undefined);
      assert.equal(plausible(sdp), true);
    }
    for (const prefix of ["v=0", "m=", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"]) {
      const broken = sampleSdp("offer").replaceAll(prefix, "x-gone");
      assert.notEqual(sdpProblem(broken), undefined);
      assert.equal(plausible(broken), false, `rules accepted an SDP without ${prefix}`);
    }
  });

  it("accepts the candidate lines the model accepts, and refuses the malformed ones", () => {
    const [pattern] = quotedPatterns(ruleFunction("isCandidateLine")).map(rulesRegex);
    const edges = ["candidate:1 256 udp 1 192.0.2.10 65535 typ host", "candidate:1 1 udp 1 192.0.2.10 0 typ host"];
    for (const candidate of [...sampleCandidates("caller").filter((entry) => entry.candidate !== "").map((entry) => entry.candidate), ...edges]) {
      assert.equal(candidateLineProblem(candidate), undefined);
      assert.equal(pattern.test(candidate), true, candidate);
    }
    for (const line of [
      "a=candidate:1 1 udp 1 192.0.2.10 9 typ host",
      "candidate:1 1 udp 1 192.0.2.10 9 typ peer",
      "candidate:1 1 udp 1 192.0.2.10 9 typ host generation",
      "candidate:1 1 udp 1 192.0.2.10 9 typ host\na=x",
      "candidate:1 0 udp 1 192.0.2.10 9 typ host",
      "candidate:1 257 udp 1 192.0.2.10 9 typ host",
      "candidate:1 1 udp 1 192.0.2.10 65536 typ host",
    ]) {
      assert.notEqual(candidateLineProblem(line), undefined);
      assert.equal(pattern.test(line), false, line);
    }
  });
});
