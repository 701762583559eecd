import { strict as assert } from "node:assert";
import { MAX_CANDIDATE_LENGTH, MAX_SDP_LENGTH, candidateLineProblem, sdpProblem } from "../../../functions/src/sessions/validation";
import { sampleCandidates, sampleSdp } from "../../helpers/sdp";

const offer = sampleSdp("offer");
const withoutLine = (sdp: string, prefix: string) =>
  sdp
    .split("\r\n")
    .filter((line) => !line.startsWith(prefix))
    .join("\r\n");

describe("sdpProblem", () => {
  it("accepts Chrome-like offers and answers, with CRLF or LF line ends", () => {
    assert.equal(sdpProblem(offer), undefined);
    assert.equal(sdpProblem(sampleSdp("answer")), undefined);
    assert.equal(sdpProblem(offer.replaceAll("\r\n", "\n")), undefined);
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
    assert.equal(sdpProblem(offer.replace("s=-", "s=\u00e9")), "sdp must contain only printable ASCII characters and line breaks.");
    assert.equal(sdpProblem(offer.replace("s=-", "s=\t")), "sdp must contain only printable ASCII characters and line breaks.");
  });

  it('refuses an SDP that does not start with "v=0"', () => {
    assert.equal(sdpProblem(offer.replace("v=0", "v=1")), 'sdp must start with the line "v=0".');
    assert.equal(sdpProblem("\r\n" + offer), 'sdp must start with the line "v=0".');
  });

  it("names the first line that is not x=value", () => {
    assert.equal(sdpProblem(offer.replace("s=-", "hello")), "sdp line 3 is not of the form x=value.");
    assert.equal(sdpProblem(offer.replace("t=0 0\r\n", "t=0 0\r\n\r\n")), "sdp line 5 is not of the form x=value.");
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
    it(`refuses an SDP without ${prefix}`, () => {
      assert.equal(sdpProblem(withoutLine(offer, prefix)), `sdp has no ${name}.`);
    });
  }
});

describe("candidateLineProblem", () => {
  const [host, hostTcp, srflx, relay, relayTcp, end] = sampleCandidates("caller").map((entry) => entry.candidate);

  it("accepts host (mDNS and TCP), srflx and relay candidates and the end-of-candidates marker", () => {
    for (const line of [host, hostTcp, srflx, relay, relayTcp, end]) assert.equal(candidateLineProblem(line), undefined, line);
  });

  it("accepts Firefox's style (uppercase transport, no extensions) and IPv6 addresses", () => {
    assert.equal(candidateLineProblem("candidate:0 1 UDP 2122252543 192.0.2.10 49203 typ host"), undefined);
    assert.equal(candidateLineProblem("candidate:1 1 UDP 1686052863 2001:db8::7 49203 typ srflx raddr 2001:db8::1 rport 49203"), undefined);
    assert.equal(candidateLineProblem("candidate:3 1 udp 1 198.51.100.20 65535 typ prflx"), undefined);
  });

  it("accepts a line of exactly the size limit and refuses one character more", () => {
    // An extension value is 253 characters at most, so pad with several extension pairs.
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
  for (const [why, line] of [
    ["the a= prefix of an SDP line", `a=${host}`],
    ["a missing typ", "candidate:1 1 udp 1 192.0.2.10 9 host"],
    ["a non-numeric port", "candidate:1 1 udp 1 192.0.2.10 port typ host"],
    ["an extension without a value", "candidate:1 1 udp 1 192.0.2.10 9 typ host generation"],
    ["a line break", "candidate:1 1 udp 1 192.0.2.10 9 typ host\r\na=evil"],
    ["a foundation longer than 32", `candidate:${"f".repeat(33)} 1 udp 1 192.0.2.10 9 typ host`],
    ["plain text", "hello"],
  ] as const) {
    it(`refuses ${why}`, () => {
      assert.equal(candidateLineProblem(line), malformed);
    });
  }

  it("refuses components outside 1–256", () => {
    assert.equal(candidateLineProblem("candidate:1 0 udp 1 192.0.2.10 9 typ host"), "candidate component must be between 1 and 256.");
    assert.equal(candidateLineProblem("candidate:1 257 udp 1 192.0.2.10 9 typ host"), "candidate component must be between 1 and 256.");
    assert.equal(candidateLineProblem("candidate:1 256 udp 1 192.0.2.10 9 typ host"), undefined);
  });

  it("refuses a priority above 2^32 − 1", () => {
    assert.equal(candidateLineProblem("candidate:1 1 udp 4294967295 192.0.2.10 9 typ host"), undefined);
    assert.equal(candidateLineProblem("candidate:1 1 udp 4294967296 192.0.2.10 9 typ host"), "candidate priority must be at most 4294967295.");
  });

  it("refuses a port above 65535", () => {
    assert.equal(candidateLineProblem("candidate:1 1 udp 1 192.0.2.10 65536 typ host"), "candidate port must be between 0 and 65535.");
  });

  it("refuses unknown candidate types", () => {
    assert.equal(candidateLineProblem("candidate:1 1 udp 1 192.0.2.10 9 typ peer"), "candidate type must be host, srflx, prflx or relay.");
  });

  it("refuses raddr without rport", () => {
    assert.equal(
      candidateLineProblem("candidate:1 1 udp 1 203.0.113.7 9 typ srflx raddr 192.0.2.10 generation 0"),
      "candidate raddr must be followed by rport.",
    );
    // "raddr" as an extension value is not the raddr attribute.
    assert.equal(candidateLineProblem("candidate:1 1 udp 1 203.0.113.7 9 typ srflx x-note raddr"), undefined);
  });
});
