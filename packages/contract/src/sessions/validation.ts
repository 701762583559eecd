// What a valid uid, SDP and ICE candidate entry is, defined once. Each definition is a regular
// expression written for RE2 (no lookarounds, no backreferences) that means the same in
// JavaScript: firestore.rules carries these very strings in its matches() calls (a unit test
// compares the text), and the functions below accept exactly what the patterns accept. When a
// value is refused, they name the first part that is wrong in one sentence a developer can act
// on. Pure: the trigger, the unit tests and the web client all run exactly this code.

/** Longest `sdp` accepted, in characters (mirrored in firestore.rules). */
export const MAX_SDP_LENGTH = 32_768;
/** Longest `candidate:` line accepted, in characters (mirrored in firestore.rules). */
export const MAX_CANDIDATE_LENGTH = 512;
/** Longest Firebase Auth uid. */
export const MAX_UID_LENGTH = 128;
/** Longest `sdpMid`. */
export const MAX_SDP_MID_LENGTH = 64;
/** Longest `usernameFragment` (RFC 8839: ice-ufrag is at most 256 ice-chars). */
export const MAX_USERNAME_FRAGMENT_LENGTH = 256;

/** A JavaScript RegExp that accepts what firestore.rules' `matches(pattern)` accepts: the whole string must match. */
export function wholeMatch(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/**
 * A uid: the alphabet Firebase Auth itself uses (its generated uids are 28 letters and digits),
 * bounded. Custom-token uids must keep to it too; slashes, control characters and markup never
 * reach a document or a peer's screen.
 */
export const UID_PATTERN = `[A-Za-z0-9_-]{1,${MAX_UID_LENGTH}}`;

/** `usernameFragment`: RFC 8839 ice-chars. */
export const USERNAME_FRAGMENT_PATTERN = `[A-Za-z0-9+/]{1,${MAX_USERNAME_FRAGMENT_LENGTH}}`;

/**
 * `sdpMid`: RFC 5888 identification-tag (an RFC 4566 token) without the quote, backtick, `&`
 * and brace characters a token allows; browsers use "0", "1"…, older ones "audio" or "sdparta_0".
 */
export const SDP_MID_PATTERN = `[A-Za-z0-9!#$%*+.^_|~-]{0,${MAX_SDP_MID_LENGTH}}`;

// An SDP is "v=0" and then lines "x=value" of printable ASCII, each after CRLF or LF; the last
// line break may be left out.
const SDP_STRUCTURE = "v=0(?:\\r?\\n[a-z]=[ -~]*)*(?:\\r?\\n)?";

// The lines an SDP cannot do without, each at the start of a line (after "v=0", so after a line
// break), and the reason code of an sdp without it.
const REQUIRED_SDP_LINES = [
  { prefix: "o=", name: "origin line (o=)", reason: "no-origin-line" },
  { prefix: "s=", name: "session-name line (s=)", reason: "no-session-name-line" },
  { prefix: "t=", name: "timing line (t=)", reason: "no-timing-line" },
  { prefix: "m=", name: "media line (m=)", reason: "no-media-line" },
  { prefix: "a=ice-ufrag:", name: "a=ice-ufrag: line", reason: "no-ice-ufrag-line" },
  { prefix: "a=ice-pwd:", name: "a=ice-pwd: line", reason: "no-ice-pwd-line" },
  { prefix: "a=fingerprint:", name: "a=fingerprint: line (WebRTC always uses DTLS)", reason: "no-fingerprint-line" },
] as const;

// Any SDP text: the characters the structure allows. Spelled as a class, not as "." in (?s)
// mode: ICU (Swift's NSRegularExpression) takes CR LF as one character for ".", so there
// "(?s).*\n" never ends between the CR and the LF, and every CRLF sdp would be refused.
const SDP_TEXT = "[ -~\\r\\n]*";

/**
 * An `sdp` (besides its length, at most `MAX_SDP_LENGTH`) must match every one of these: the
 * line structure, then one pattern per required line. (Rules cannot loop, so one pattern per line.)
 */
export const SDP_PATTERNS: readonly string[] = [SDP_STRUCTURE, ...REQUIRED_SDP_LINES.map(({ prefix }) => `${SDP_TEXT}\\n${prefix}${SDP_TEXT}`)];

const SDP_REGEXES = SDP_PATTERNS.map(wholeMatch);

/**
 * Why an sdp is refused, in the order it is checked: its length, then each of `SDP_PATTERNS`
 * in turn; the first that fails is the reason.
 */
export const SDP_REFUSAL_REASONS = ["sdp-too-long", "sdp-malformed", ...REQUIRED_SDP_LINES.map(({ reason }) => reason)] as const;

/** A reason code of `SDP_REFUSAL_REASONS`. */
export type SdpRefusalReason = (typeof SDP_REFUSAL_REASONS)[number];

/**
 * Checks that `sdp` looks like a WebRTC session description (at most `MAX_SDP_LENGTH`
 * characters, matching every one of `SDP_PATTERNS`): the first problem's reason code and a
 * sentence naming it, or `undefined`.
 */
export function sdpRefusal(sdp: string): { reason: SdpRefusalReason; sentence: string } | undefined {
  if (sdp.length > MAX_SDP_LENGTH) {
    return { reason: "sdp-too-long", sentence: `sdp is ${sdp.length} characters long; at most ${MAX_SDP_LENGTH} are accepted.` };
  }
  const [structure, ...required] = SDP_REGEXES;
  if (!structure.test(sdp)) return { reason: "sdp-malformed", sentence: sdpStructureProblem(sdp) };
  const missing = REQUIRED_SDP_LINES.find((_, index) => !required[index].test(sdp));
  return missing && { reason: missing.reason, sentence: `sdp has no ${missing.name} at the start of a line.` };
}

/** The sentence of `sdpRefusal`, or `undefined` when `sdp` is accepted. */
export function sdpProblem(sdp: string): string | undefined {
  return sdpRefusal(sdp)?.sentence;
}

/** Why `sdp` does not match the line structure (it does not: the caller checked). */
function sdpStructureProblem(sdp: string): string {
  if (sdp === "") return "sdp is empty; send the localDescription.sdp of your RTCPeerConnection.";
  if (!/^[\x20-\x7e\r\n]*$/.test(sdp)) return "sdp must contain only printable ASCII characters and line breaks.";
  const lines = sdp.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines[0] !== "v=0") return 'sdp must start with the line "v=0".';
  // With the characters and the first line right, some line must be wrong (a lone CR counts).
  const bad = lines.findIndex((line) => !/^[a-z]=[ -~]*$/.test(line));
  return `sdp line ${bad + 1} is not of the form x=value (a lowercase letter, "=", printable ASCII; lines end with CRLF or LF).`;
}

// RFC 8839 §5.1, restricted to what browsers and libwebrtc send and to characters that are safe
// wherever a line is shown or logged:
//   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
//   [raddr <address> rport <port>] *(<extension name> <extension value>)
// Numbers are written without leading zeros and bounded in the pattern itself, digit by digit.
const CANDIDATE_PARTS = {
  foundation: "[A-Za-z0-9+/]{1,32}",
  component: "(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-6])",
  transport: "[A-Za-z][A-Za-z0-9-]{0,15}",
  priority:
    "(?:0|[1-9][0-9]{0,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}" +
    "|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|42949672[0-8][0-9]|429496729[0-5])",
  // IPv4, IPv6, an mDNS name (<uuid>.local) or a host name.
  address: "[A-Za-z0-9._:-]{1,253}",
  port: "(?:[0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])",
  type: "(?:host|srflx|prflx|relay)",
  // A lowercase name of 1–32 characters other than "raddr" and "rport", which come only as the
  // pair right after the type (spelled out letter by letter: RE2 has no lookahead).
  extensionName:
    "(?:[a-qs-z][a-z0-9-]{0,31}|r(?:[a-z0-9-]{0,3}|[a-z0-9-]{5,31}|[b-oq-z0-9-][a-z0-9-]{3}" +
    "|a(?:[a-ce-z0-9-][a-z0-9-]{2}|d(?:[a-ce-z0-9-][a-z0-9-]|d[a-qs-z0-9-]))" +
    "|p(?:[a-np-z0-9-][a-z0-9-]{2}|o(?:[a-qs-z0-9-][a-z0-9-]|r[a-su-z0-9-]))))",
  // generation 0, ufrag <ice-chars>, network-id 1, network-cost 10, tcptype active…
  extensionValue: "[A-Za-z0-9+/._:-]{1,256}",
} as const;

/** A `candidate:` line (besides its length, at most `MAX_CANDIDATE_LENGTH`). */
export const CANDIDATE_LINE_PATTERN =
  `candidate:${CANDIDATE_PARTS.foundation} ${CANDIDATE_PARTS.component} ${CANDIDATE_PARTS.transport} ` +
  `${CANDIDATE_PARTS.priority} ${CANDIDATE_PARTS.address} ${CANDIDATE_PARTS.port} typ ${CANDIDATE_PARTS.type}` +
  `(?: raddr ${CANDIDATE_PARTS.address} rport ${CANDIDATE_PARTS.port})?` +
  `(?: ${CANDIDATE_PARTS.extensionName} ${CANDIDATE_PARTS.extensionValue})*`;

const CANDIDATE_LINE = wholeMatch(CANDIDATE_LINE_PATTERN);
const PART = Object.fromEntries(Object.entries(CANDIDATE_PARTS).map(([name, pattern]) => [name, wholeMatch(pattern)])) as Record<
  keyof typeof CANDIDATE_PARTS,
  RegExp
>;

const ADDRESS_RULE = "1 to 253 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-' (an IP address or a host name)";
const PORT_RULE = "a whole number from 0 to 65535, without leading zeros";

// The six fields before "typ", in order, and what each must be.
const LEADING_FIELDS: ReadonlyArray<{ part: keyof typeof CANDIDATE_PARTS; rule: string }> = [
  { part: "foundation", rule: "candidate foundation must be 1 to 32 characters of A-Z, a-z, 0-9, + and /." },
  { part: "component", rule: "candidate component must be a whole number from 1 to 256, without leading zeros." },
  { part: "transport", rule: "candidate transport must be a letter followed by up to 15 letters, digits or -, such as udp or tcp." },
  { part: "priority", rule: "candidate priority must be a whole number from 0 to 4294967295, without leading zeros." },
  { part: "address", rule: `candidate address must be ${ADDRESS_RULE}.` },
  { part: "port", rule: `candidate port must be ${PORT_RULE}.` },
];

const MALFORMED_CANDIDATE =
  'candidate must be "" (end of candidates) or a line "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …".';

/**
 * Checks one entry of a candidates batch: `""` (end-of-candidates) or a `candidate:` line as
 * `RTCIceCandidate.candidate` gives it, at most `MAX_CANDIDATE_LENGTH` characters and matching
 * `CANDIDATE_LINE_PATTERN`.
 */
export function candidateLineProblem(line: string): string | undefined {
  if (line === "") return undefined;
  if (line.length > MAX_CANDIDATE_LENGTH) {
    return `candidate is ${line.length} characters long; at most ${MAX_CANDIDATE_LENGTH} are accepted.`;
  }
  return CANDIDATE_LINE.test(line) ? undefined : candidateLinePartProblem(line);
}

/**
 * Which part of `line` breaks `CANDIDATE_LINE_PATTERN` (it does: the caller checked). The
 * sentence quotes nothing the pattern has not accepted: the line comes from the other side and
 * may hold anything.
 */
function candidateLinePartProblem(line: string): string {
  if (!line.startsWith("candidate:")) return MALFORMED_CANDIDATE;
  if (/^candidate: | $| {2}/.test(line)) return "candidate fields must be separated by single spaces.";
  const words = line.slice("candidate:".length).split(" ");
  if (words.length < 8 || words[6] !== "typ") return MALFORMED_CANDIDATE;
  const wrong = LEADING_FIELDS.find(({ part }, index) => !PART[part].test(words[index]));
  if (wrong) return wrong.rule;
  if (!PART.type.test(words[7])) return "candidate type must be host, srflx, prflx or relay.";
  let extensions = words.slice(8);
  if (extensions[0] === "raddr") {
    const [, address, rport, port = ""] = extensions;
    if (rport !== "rport") return "candidate raddr must be followed by rport.";
    if (!PART.address.test(address)) return `candidate raddr must be ${ADDRESS_RULE}.`;
    if (!PART.port.test(port)) return `candidate rport must be ${PORT_RULE}.`;
    extensions = extensions.slice(4);
  }
  if (extensions.length % 2 !== 0) return "candidate extensions must come in pairs: <name> <value>.";
  for (let index = 0; index < extensions.length; index += 2) {
    const [name, value] = [extensions[index], extensions[index + 1]];
    if (name === "raddr" || name === "rport") return "candidate raddr <address> rport <port> must come right after typ <type>, raddr first.";
    if (!PART.extensionName.test(name)) return "candidate extension names must be 1 to 32 characters of a-z, 0-9 and -, starting with a letter.";
    if (!PART.extensionValue.test(value)) {
      return `candidate extension ${name} must have a value of 1 to 256 characters of A-Z, a-z, 0-9, '+', '/', '.', '_', ':' and '-'.`;
    }
  }
  // Not reached while the checks above follow the pattern part for part (the unit tests hold them to it).
  return MALFORMED_CANDIDATE;
}
