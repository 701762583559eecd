// Plausibility checks for what participants put into Firestore: SDP and ICE candidate lines.
// Each check answers `undefined` (fine) or one sentence a developer can act on. Pure: the
// trigger, the unit tests and the web client all run exactly this code.

/** Longest `sdp` accepted, in characters (mirrored in firestore.rules). */
export const MAX_SDP_LENGTH = 32_768;
/** Longest `candidate:` line accepted, in characters (mirrored in firestore.rules). */
export const MAX_CANDIDATE_LENGTH = 512;

const SDP_LINE = /^[a-z]=[\x20-\x7e]*$/;
const PRINTABLE_SDP = /^[\x20-\x7e\r\n]*$/;
const REQUIRED_SDP_LINES: ReadonlyArray<{ prefix: string; name: string }> = [
  { prefix: "o=", name: "origin line (o=)" },
  { prefix: "s=", name: "session-name line (s=)" },
  { prefix: "t=", name: "timing line (t=)" },
  { prefix: "m=", name: "media line (m=)" },
  { prefix: "a=ice-ufrag:", name: "a=ice-ufrag: line" },
  { prefix: "a=ice-pwd:", name: "a=ice-pwd: line" },
  { prefix: "a=fingerprint:", name: "a=fingerprint: line (WebRTC always uses DTLS)" },
];

/**
 * Checks that `sdp` looks like a WebRTC session description: bounded, printable ASCII, `v=0`
 * first, every line `x=value`, and the lines WebRTC cannot do without (ICE credentials, a DTLS
 * fingerprint, a media section).
 */
export function sdpProblem(sdp: string): string | undefined {
  if (sdp.length === 0) return "sdp is empty; send the localDescription.sdp of your RTCPeerConnection.";
  if (sdp.length > MAX_SDP_LENGTH) {
    return `sdp is ${sdp.length} characters long; at most ${MAX_SDP_LENGTH} are accepted.`;
  }
  if (!PRINTABLE_SDP.test(sdp)) return "sdp must contain only printable ASCII characters and line breaks.";
  const lines = sdp.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines[0] !== "v=0") return 'sdp must start with the line "v=0".';
  const bad = lines.findIndex((line) => !SDP_LINE.test(line));
  if (bad >= 0) return `sdp line ${bad + 1} is not of the form x=value.`;
  for (const required of REQUIRED_SDP_LINES) {
    if (!lines.some((line) => line.startsWith(required.prefix))) return `sdp has no ${required.name}.`;
  }
  return undefined;
}

// RFC 8839 §5.1: candidate:<foundation> <component> <transport> <priority> <address> <port>
// typ <type> [raddr <address> rport <port>] *(<extension name> <extension value>).
const CANDIDATE_LINE =
  /^candidate:([A-Za-z0-9+/]{1,32}) ([0-9]{1,3}) ([A-Za-z][A-Za-z0-9-]{0,15}) ([0-9]{1,10}) ([!-~]{1,253}) ([0-9]{1,5}) typ ([a-z]{1,16})((?: [!-~]{1,64} [!-~]{1,253})*)$/;
const CANDIDATE_TYPES = new Set(["host", "srflx", "prflx", "relay"]);
const MAX_PRIORITY = 2 ** 32 - 1;

/**
 * Checks one entry of a candidates batch: `""` (end-of-candidates) or a well-formed
 * `candidate:` line as `RTCIceCandidate.candidate` gives it.
 */
export function candidateLineProblem(line: string): string | undefined {
  if (line === "") return undefined;
  if (line.length > MAX_CANDIDATE_LENGTH) {
    return `candidate is ${line.length} characters long; at most ${MAX_CANDIDATE_LENGTH} are accepted.`;
  }
  const match = CANDIDATE_LINE.exec(line);
  if (!match) {
    return 'candidate must be "" (end of candidates) or a line "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …".';
  }
  const [, , component, , priority, , port, type, extensions] = match;
  if (Number(component) < 1 || Number(component) > 256) return "candidate component must be between 1 and 256.";
  if (Number(priority) > MAX_PRIORITY) return `candidate priority must be at most ${MAX_PRIORITY}.`;
  if (Number(port) > 65_535) return "candidate port must be between 0 and 65535.";
  if (!CANDIDATE_TYPES.has(type)) return "candidate type must be host, srflx, prflx or relay.";
  const extensionWords = extensions.trim() === "" ? [] : extensions.trim().split(" ");
  const raddr = extensionWords.indexOf("raddr");
  if (raddr >= 0 && raddr % 2 === 0 && extensionWords[raddr + 2] !== "rport") {
    return "candidate raddr must be followed by rport.";
  }
  return undefined;
}
