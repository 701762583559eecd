// An SDP as the "Data model" defines the form the rules accept (offers, answers, restart
// descriptions): checked before it is written, so a refusal is never a surprise.

/** "`sdp` holds at most 32 768 characters". */
export const MAX_SDP_LENGTH = 32_768;
/** "these lines are present, each at the start of a line". */
const REQUIRED_PREFIXES = ["o=", "s=", "t=", "m=", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"];

/** Why the rules would refuse an SDP. */
export type SdpProblem = "too-long" | "first-line" | "bad-line" | "bad-line-break" | "missing-line";

/** The first thing wrong with an SDP under the rules, or `undefined` when they accept it. */
export function sdpProblem(sdp: unknown): SdpProblem | undefined {
  if (typeof sdp !== "string") return "bad-line";
  if (sdp.length > MAX_SDP_LENGTH) return "too-long";
  // "lines end with CRLF or LF (they may be mixed; the last line's break may be left out; no
  // empty line, no lone CR)".
  const body = sdp.endsWith("\n") ? sdp.slice(0, sdp.endsWith("\r\n") ? -2 : -1) : sdp;
  const lines = body.split(/\r?\n/);
  if (lines.some((line) => line.includes("\r"))) return "bad-line-break";
  if (lines[0] !== "v=0") return "first-line";
  // "every other line is x=value: one lowercase letter, =, then printable ASCII (space to ~)".
  if (lines.slice(1).some((line) => !/^[a-z]=[ -~]*$/.test(line))) return "bad-line";
  if (REQUIRED_PREFIXES.some((prefix) => !lines.some((line) => line.startsWith(prefix)))) return "missing-line";
  return undefined;
}

/** The `a=ice-ufrag:` of a description: which ICE generation a local candidate belongs to. */
export function iceUfragOf(sdp: string): string | undefined {
  return /(?:^|\n)a=ice-ufrag:([^\r\n]+)/.exec(sdp)?.[1];
}
