// An SDP as the "Data model" defines the form the rules accept (offers, answers, restart
// descriptions): checked before it is written, so a refusal is never a surprise.

/** "`sdp` holds at most 32 768 characters". */
export const MAX_SDP_LENGTH = 32_768;
/** "these lines are present, each at the start of a line", in the order their absence is reported. */
const REQUIRED_LINES = [
  ["o=", "no-origin-line"],
  ["s=", "no-session-name-line"],
  ["t=", "no-timing-line"],
  ["m=", "no-media-line"],
  ["a=ice-ufrag:", "no-ice-ufrag-line"],
  ["a=ice-pwd:", "no-ice-pwd-line"],
  ["a=fingerprint:", "no-fingerprint-line"],
] as const;

/** Why the rules would refuse an SDP: the first of these that applies. */
export type SdpProblem = "sdp-too-long" | "sdp-malformed" | (typeof REQUIRED_LINES)[number][1];

/** The first thing wrong with an SDP under the rules, or `undefined` when they accept it. */
export function sdpProblem(sdp: string): SdpProblem | undefined {
  if (sdp.length > MAX_SDP_LENGTH) return "sdp-too-long";
  // "lines end with CRLF or LF (they may be mixed; the last line's break may be left out; no
  // empty line, no lone CR)".
  const body = sdp.endsWith("\r\n") ? sdp.slice(0, -2) : sdp.endsWith("\n") ? sdp.slice(0, -1) : sdp;
  const lines = body.split(/\r?\n/);
  // "the first line is exactly v=0; every other line is x=value: one lowercase letter, =, then
  // printable ASCII (space to ~)" (a lone CR is not printable, so it fails here too).
  if (lines[0] !== "v=0" || lines.slice(1).some((line) => !/^[a-z]=[ -~]*$/.test(line))) return "sdp-malformed";
  return REQUIRED_LINES.find(([prefix]) => !lines.some((line) => line.startsWith(prefix)))?.[1];
}

/** The `a=ice-ufrag:` of a description: which ICE generation a local candidate belongs to. */
export function iceUfragOf(sdp: string): string | undefined {
  return /(?:^|\n)a=ice-ufrag:([^\r\n]+)/.exec(sdp)?.[1];
}
