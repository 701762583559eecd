import { strict as assert } from "node:assert";
import fc from "fast-check";
import {
  CANDIDATE_LINE_PATTERN,
  MAX_CANDIDATE_LENGTH,
  MAX_SDP_LENGTH,
  SDP_PATTERNS,
  candidateLineProblem,
  sdpProblem,
  wholeMatch,
} from "@webrtc-lite/contract";
import { REAL_CANDIDATE_LINES, candidateLineArbitrary, descriptionArbitrary } from "../../helpers/arbitraries";
import { sampleCandidates, sampleSdp } from "../../helpers/sdp";

const offer = sampleSdp("offer");
const withoutLine = (sdp: string, prefix: string) =>
  sdp
    .split("\r\n")
    .filter((line) => !line.startsWith(prefix))
    .join("\r\n");
const notXValue = (line: number) => `sdp line ${line} is not of the form x=value (a lowercase letter, "=", printable ASCII; lines end with CRLF or LF).`;

describe("sdpProblem", () => {
  it("accepts Chrome-like offers and answers, with CRLF, LF or mixed line ends, with or without the last one", () => {
    assert.equal(sdpProblem(offer), undefined);
    assert.equal(sdpProblem(sampleSdp("answer")), undefined);
    assert.equal(sdpProblem(offer.replaceAll("\r\n", "\n")), undefined);
    assert.equal(sdpProblem(offer.replace("\r\ns=-\r\n", "\ns=-\n")), undefined);
    assert.equal(sdpProblem(offer.slice(0, -2)), undefined);
  });

  it("accepts an SDP of exactly the size limit and refuses one character more", () => {
    const padded = (length: number) => offer + "a=x-pad:" + "p".repeat(length - offer.length - "a=x-pad:".length);
    assert.equal(sdpProblem(padded(MAX_SDP_LENGTH)), undefined);
    assert.equal(sdpProblem(padded(MAX_SDP_LENGTH + 1)), `sdp is ${MAX_SDP_LENGTH + 1} characters long; at most 32768 are accepted.`);
  });

  it("refuses an empty SDP", () => {
    assert.equal(sdpProblem(""), "sdp is empty; send the localDescription.sdp of your RTCPeerConnection.");
  });

  it("refuses characters outside printable ASCII and line breaks", () => {
    for (const character of ["\u00e9", "\t", "\u0000", "\u007f", "\u2028", "🙂"]) {
      assert.equal(sdpProblem(offer.replace("s=-", `s=${character}`)), "sdp must contain only printable ASCII characters and line breaks.", JSON.stringify(character));
    }
  });

  it('refuses an SDP that does not start with the line "v=0"', () => {
    assert.equal(sdpProblem(offer.replace("v=0", "v=1")), 'sdp must start with the line "v=0".');
    assert.equal(sdpProblem(offer.replace("v=0", "v=00")), 'sdp must start with the line "v=0".');
    assert.equal(sdpProblem("\r\n" + offer), 'sdp must start with the line "v=0".');
  });

  it("names the first line that is not x=value: no =, an uppercase type, an empty line, a lone CR", () => {
    assert.equal(sdpProblem(offer.replace("s=-", "hello")), notXValue(3));
    assert.equal(sdpProblem(offer.replace("s=-", "S=-")), notXValue(3));
    assert.equal(sdpProblem(offer.replace("t=0 0\r\n", "t=0 0\r\n\r\n")), notXValue(5));
    assert.equal(sdpProblem(offer.replace("s=-\r\n", "s=-\r")), notXValue(3));
    assert.equal(sdpProblem(offer.replaceAll("\r\n", "\r")), 'sdp must start with the line "v=0".');
  });

  for (const [prefix, name] of [
    ["o=", "origin line (o=)"],
    ["s=", "session-name line (s=)"],
    ["t=", "timing line (t=)"],
    ["m=", "media line (m=)"],
    ["a=ice-ufrag:", "a=ice-ufrag: line"],
    ["a=ice-pwd:", "a=ice-pwd: line"],
    ["a=fingerprint:", "a=fingerprint: line (WebRTC always uses DTLS)"],
  ] as const) {
    it(`refuses an SDP without ${prefix} at the start of a line, even with ${prefix} in the middle of one`, () => {
      const missing = `sdp has no ${name} at the start of a line.`;
      const without = withoutLine(offer, prefix);
      assert.equal(sdpProblem(without), missing);
      const moved = offer.split("\r\n").find((line) => line.startsWith(prefix));
      assert.equal(sdpProblem(without.replace("a=extmap-allow-mixed", `a=extmap-allow-mixed ${moved}`)), missing);
    });
  }

  it("accepts exactly what SDP_PATTERNS accept, up to the length limit (fast-check)", () => {
    const regexes = SDP_PATTERNS.map(wholeMatch);
    fc.assert(
      fc.property(descriptionArbitrary("offer"), ({ value }) => {
        const sdp = (value as { sdp?: unknown }).sdp;
        if (typeof sdp !== "string") return;
        const byPatterns = sdp.length <= MAX_SDP_LENGTH && regexes.every((regex) => regex.test(sdp));
        assert.equal(sdpProblem(sdp) === undefined, byPatterns);
      }),
      { seed: 10, numRuns: 500 },
    );
  });
});

describe("candidateLineProblem", () => {
  const [host, hostTcp, srflx, relay, relayTcp, end] = sampleCandidates("caller").map((entry) => entry.candidate);
  const line = (fields: { priority?: string; port?: string; component?: string; rest?: string }) =>
    `candidate:1 ${fields.component ?? "1"} udp ${fields.priority ?? "1"} 192.0.2.10 ${fields.port ?? "9"} typ host${fields.rest ?? ""}`;

  it("accepts host (mDNS and TCP), srflx and relay candidates and the end-of-candidates marker", () => {
    for (const candidate of [host, hostTcp, srflx, relay, relayTcp, end]) assert.equal(candidateLineProblem(candidate), undefined, candidate);
  });

  it("accepts the lines Chromium (through coturn), libwebrtc and Firefox give", () => {
    for (const candidate of REAL_CANDIDATE_LINES) assert.equal(candidateLineProblem(candidate), undefined, candidate);
  });

  it("accepts a line of exactly the size limit and refuses one character more", () => {
    // An extension value is 256 characters at most, so pad with several extension pairs.
    const padded = (length: number) => {
      let text = "candidate:1 1 udp 1 192.0.2.10 1 typ host";
      while (text.length + 1 + 4 + 1 + 100 <= length) text += " ext " + "v".repeat(100);
      const rest = length - text.length - " ext ".length;
      return rest > 0 ? `${text} ext ${"w".repeat(rest)}` : text;
    };
    assert.equal(padded(MAX_CANDIDATE_LENGTH).length, MAX_CANDIDATE_LENGTH);
    assert.equal(candidateLineProblem(padded(MAX_CANDIDATE_LENGTH)), undefined);
    assert.equal(
      candidateLineProblem(padded(MAX_CANDIDATE_LENGTH + 1)),
      `candidate is ${MAX_CANDIDATE_LENGTH + 1} characters long; at most ${MAX_CANDIDATE_LENGTH} are accepted.`,
    );
  });

  const malformed =
    'candidate must be "" (end of candidates) or a line "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …".';
  for (const [why, candidate, problem] of [
    ["the a= prefix of an SDP line", `a=${host}`, malformed],
    ["a missing typ", "candidate:1 1 udp 1 192.0.2.10 9 host", malformed],
    ["plain text", "hello", malformed],
    ["a double space", "candidate:1  1 udp 1 192.0.2.10 9 typ host", "candidate fields must be separated by single spaces."],
    ["a trailing space", "candidate:1 1 udp 1 192.0.2.10 9 typ host ", "candidate fields must be separated by single spaces."],
    ["a foundation longer than 32", `candidate:${"f".repeat(33)} 1 udp 1 192.0.2.10 9 typ host`, "candidate foundation must be 1 to 32 characters of A-Z, a-z, 0-9, + and /."],
    ["a transport starting with a digit", "candidate:1 1 1udp 1 192.0.2.10 9 typ host", "candidate transport must be a letter followed by up to 15 letters, digits or -, such as udp or tcp."],
    ["a non-numeric port", "candidate:1 1 udp 1 192.0.2.10 port typ host", "candidate port must be a whole number from 0 to 65535, without leading zeros."],
    ["markup as the address", "candidate:1 1 udp 1 <script>alert(1)</script> 9 typ host", "candidate address must be 1 to 253 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (an IP address or a host name)."],
    ["a scoped IPv6 address", "candidate:1 1 udp 1 fe80::1%eth0 9 typ host", "candidate address must be 1 to 253 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (an IP address or a host name)."],
    ["an address with non-ASCII", "candidate:1 1 udp 1 exämple.com 9 typ host", "candidate address must be 1 to 253 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (an IP address or a host name)."],
    ["a line break", "candidate:1 1 udp 1 192.0.2.10 9 typ host\r\na=evil", "candidate type must be host, srflx, prflx or relay."],
    ["an unknown type", "candidate:1 1 udp 1 192.0.2.10 9 typ peer", "candidate type must be host, srflx, prflx or relay."],
    ["an extension without a value", line({ rest: " generation" }), "candidate extensions must come in pairs: <name> <value>."],
    ["an uppercase extension name", line({ rest: " Generation 0" }), "candidate extension names must be 1 to 32 characters of a-z, 0-9 and -, starting with a letter."],
    ["an extension name of 33 characters", line({ rest: ` ${"n".repeat(33)} 0` }), "candidate extension names must be 1 to 32 characters of a-z, 0-9 and -, starting with a letter."],
    ["markup as an extension value", line({ rest: " ufrag <b>x</b>" }), "candidate extension ufrag must have a value of 1 to 256 characters of A-Z, a-z, 0-9, '+', '/', '.', '_', ':' and '-'."],
    ["a quoted extension value", line({ rest: ' ufrag "x"' }), "candidate extension ufrag must have a value of 1 to 256 characters of A-Z, a-z, 0-9, '+', '/', '.', '_', ':' and '-'."],
  ] as const) {
    it(`refuses ${why}`, () => {
      assert.equal(candidateLineProblem(candidate), problem);
    });
  }

  it("accepts components 1–256 and refuses 0, 257 and leading zeros", () => {
    for (const component of ["1", "9", "10", "99", "100", "199", "249", "256"]) assert.equal(candidateLineProblem(line({ component })), undefined, component);
    for (const component of ["0", "257", "300", "01", "001", "-1"]) {
      assert.equal(candidateLineProblem(line({ component })), "candidate component must be a whole number from 1 to 256, without leading zeros.", component);
    }
  });

  it("accepts exactly the priorities 0 to 2^32 − 1, written without leading zeros (fast-check)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 33n }), fc.bigInt({ min: 2n ** 32n - 1000n, max: 2n ** 32n + 1000n })), (priority) => {
        const problem = candidateLineProblem(line({ priority: String(priority) }));
        assert.equal(problem === undefined, priority <= 2n ** 32n - 1n, String(priority));
      }),
      { seed: 10, numRuns: 2_000 },
    );
    for (const priority of ["4294967295", "0", "2122260223"]) assert.equal(candidateLineProblem(line({ priority })), undefined, priority);
    for (const priority of ["4294967296", "01", "00", "-1", "1e3", "42949672950"]) {
      assert.equal(candidateLineProblem(line({ priority })), "candidate priority must be a whole number from 0 to 4294967295, without leading zeros.", priority);
    }
  });

  it("accepts exactly the ports 0 to 65535, written without leading zeros (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), (port) => {
        assert.equal(candidateLineProblem(line({ port: String(port) })) === undefined, port <= 65_535, String(port));
        assert.equal(candidateLineProblem(line({ rest: ` raddr 192.0.2.1 rport ${port}` })) === undefined, port <= 65_535, `rport ${port}`);
      }),
      { seed: 10, numRuns: 2_000 },
    );
    for (const port of ["65535", "65536", "00", "080"]) {
      const accepted = port === "65535";
      assert.equal(candidateLineProblem(line({ port })), accepted ? undefined : "candidate port must be a whole number from 0 to 65535, without leading zeros.", port);
    }
  });

  it("takes raddr and rport only as a pair right after the type, raddr first", () => {
    assert.equal(candidateLineProblem(line({ rest: " raddr 192.0.2.1 rport 9 generation 0" })), undefined);
    assert.equal(candidateLineProblem(line({ rest: " raddr 192.0.2.1 generation 0" })), "candidate raddr must be followed by rport.");
    assert.equal(candidateLineProblem(line({ rest: " raddr 192.0.2.1" })), "candidate raddr must be followed by rport.");
    assert.equal(candidateLineProblem(line({ rest: " raddr <b> rport 9" })), "candidate raddr must be 1 to 253 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (an IP address or a host name).");
    assert.equal(candidateLineProblem(line({ rest: " raddr 192.0.2.1 rport 65536" })), "candidate rport must be a whole number from 0 to 65535, without leading zeros.");
    const misplaced = "candidate raddr <address> rport <port> must come right after typ <type>, raddr first.";
    assert.equal(candidateLineProblem(line({ rest: " rport 9" })), misplaced);
    assert.equal(candidateLineProblem(line({ rest: " rport 9 raddr 192.0.2.1" })), misplaced);
    assert.equal(candidateLineProblem(line({ rest: " generation 0 raddr 192.0.2.1 rport 9" })), misplaced);
    // "raddr" as an extension value is not the raddr attribute.
    assert.equal(candidateLineProblem(line({ rest: " x-note raddr" })), undefined);
  });

  it("accepts every extension name of a-z, 0-9 and - that starts with a letter, but raddr and rport (fast-check)", () => {
    // Mostly the letters of raddr and rport, to come near them often.
    const name = fc.string({ unit: fc.constantFrom(..."radpotx-1"), minLength: 1, maxLength: 7 });
    fc.assert(
      fc.property(name, (extension) => {
        const expected = /^[a-z][a-z0-9-]*$/.test(extension) && extension !== "raddr" && extension !== "rport";
        assert.equal(candidateLineProblem(line({ rest: ` ${extension} 0 generation 0` })) === undefined, expected, extension);
      }),
      { seed: 10, numRuns: 3_000 },
    );
  });

  it("names the part that is wrong whenever a line has the candidate's shape (fast-check)", () => {
    const regex = wholeMatch(CANDIDATE_LINE_PATTERN);
    fc.assert(
      fc.property(candidateLineArbitrary(), (candidate) => {
        const problem = candidateLineProblem(candidate);
        assert.equal(problem === undefined, candidate.length <= MAX_CANDIDATE_LENGTH && regex.test(candidate), candidate);
        const words = candidate.slice("candidate:".length).split(" ");
        const shaped = candidate.startsWith("candidate:") && !/^candidate: | $| {2}/.test(candidate) && words.length >= 8 && words[6] === "typ";
        if (shaped) assert.notEqual(problem, malformed, candidate);
      }),
      { seed: 10, numRuns: 3_000 },
    );
  });
});
