// conformance/patterns.json is what a Kotlin or Swift port copies instead of reading
// TypeScript: the contract's RE2 patterns and the bounds that go with them. It must say exactly
// what the contract exports, so that the two cannot drift; and each pattern must mean in a
// whole-string match what the contract's checks mean.
import { strict as assert } from "node:assert";
import fc from "fast-check";
import {
  APNS_TOKEN_PATTERN,
  CANDIDATE_LINE_PATTERN,
  FCM_TOKEN_PATTERN,
  INSTALLATION_ID_PATTERN,
  IPV4_PATTERN,
  IPV6_PATTERN,
  LIMITS,
  MAX_CANDIDATE_LENGTH,
  MAX_FCM_TOKEN_LENGTH,
  MAX_SDP_LENGTH,
  MDNS_NAME_PATTERN,
  PUSH_APP_ID_PATTERN,
  PUSH_TARGET_ID_PATTERN,
  SDP_MID_PATTERN,
  SDP_PATTERNS,
  SESSION_ID_PATTERN,
  UID_PATTERN,
  USERNAME_FRAGMENT_PATTERN,
  wholeMatch,
} from "@webrtc-lite/contract";
import { readConformanceFile } from "./vectors";

/** What patterns.json must hold, from the contract's exports. */
const expected = {
  uid: UID_PATTERN,
  sessionId: SESSION_ID_PATTERN,
  sdpLines: SDP_PATTERNS,
  sdpMaxLength: MAX_SDP_LENGTH,
  candidateLine: CANDIDATE_LINE_PATTERN,
  candidateLineMaxLength: MAX_CANDIDATE_LENGTH,
  sdpMid: SDP_MID_PATTERN,
  sdpMLineIndexMax: LIMITS.maxSdpMLineIndex,
  usernameFragment: USERNAME_FRAGMENT_PATTERN,
  ipv4: IPV4_PATTERN,
  ipv6: IPV6_PATTERN,
  mdnsName: MDNS_NAME_PATTERN,
  push: {
    targetId: PUSH_TARGET_ID_PATTERN,
    fcmToken: FCM_TOKEN_PATTERN,
    fcmTokenMaxLength: MAX_FCM_TOKEN_LENGTH,
    apnsToken: APNS_TOKEN_PATTERN,
    appId: PUSH_APP_ID_PATTERN,
    installationId: INSTALLATION_ID_PATTERN,
  },
};

/** Whether the WHATWG URL parser (browsers, Node) takes `address` as an IPv6 literal. */
function urlParserTakesIPv6(address: string): boolean {
  try {
    new URL(`http://[${address}]/`);
    return true;
  } catch {
    return false;
  }
}

describe("conformance: patterns.json", () => {
  let file: unknown;
  before(() => {
    file = readConformanceFile("patterns.json");
  });

  it("holds exactly the contract's patterns and bounds, and an about", () => {
    const { about, ...patterns } = file as Record<string, unknown>;
    assert.equal(typeof about, "string");
    assert.deepEqual(patterns, expected);
  });

  // Java, ICU and RE2 read these alike; \d is any Unicode digit in ICU, and ICU's "." takes CR LF
  // as one character, so a "." (outside a class) or a flag could make a port's copy disagree.
  it("uses no construct a port's regex engine reads differently (\\d \\w \\s \\b, \".\", flags, lookarounds, backreferences)", () => {
    const patterns = [expected.uid, expected.sessionId, ...expected.sdpLines, expected.candidateLine, expected.sdpMid, expected.usernameFragment, expected.ipv4, expected.ipv6, expected.mdnsName];
    for (const pattern of [...patterns, expected.push.targetId, expected.push.fcmToken, expected.push.apnsToken, expected.push.appId, expected.push.installationId]) {
      assert.doesNotMatch(pattern, /\\[dwsbDWSB1-9]|\(\?[=!<a-z]/, pattern);
      assert.doesNotMatch(pattern.replace(/\\./g, "").replace(/\[[^\]]*\]/g, ""), /\./, pattern);
    }
  });

  it("ipv6 takes exactly what the WHATWG URL parser takes as an IPv6 literal (IPv6 characters, 2 000 generated)", () => {
    const ipv6 = wholeMatch(IPV6_PATTERN);
    const hex = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength, maxLength });
    const group = fc.oneof(
      { arbitrary: hex(1, 4), weight: 12 },
      { arbitrary: fc.constant(""), weight: 3 },
      { arbitrary: hex(5, 5), weight: 1 },
      { arbitrary: fc.constantFrom("1.2.3.4", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3"), weight: 1 },
    );
    const addresses = fc.sample(
      fc.array(group, { minLength: 2, maxLength: 10 }).map((groups) => groups.join(":")),
      { seed: 16, numRuns: 2_000 },
    );
    const disagreements = addresses.filter((address) => ipv6.test(address) !== urlParserTakesIPv6(address));
    assert.deepEqual(disagreements, []);
    const taken = addresses.filter((address) => ipv6.test(address)).length;
    assert.ok(taken > 100 && taken < addresses.length - 100, `too one-sided to compare: ${taken} of ${addresses.length} taken`);
  });
});
