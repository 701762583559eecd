// What a side does with one entry of the other side's candidates array: hand it to
// addIceCandidate, take it as end-of-candidates, or skip it with a reason code. The grammar is
// the contract's own (candidateEntrySchema, so the patterns of validation.ts that the rules
// carry); on top of it a receiver takes only an IP address or an mDNS name as the candidate's
// address. Browsers and libwebrtc gather IP addresses, or `<uuid>.local` in place of a host
// address; libwebrtc resolves any other name it is given, so a peer could make this side send a
// DNS query for a name of the peer's choosing. Pure; the address patterns are RE2 strings, so
// that a Kotlin or Swift port copies them verbatim (conformance/patterns.json).
import type { z } from "zod";
import { candidateEntrySchema, type CandidateEntry } from "./model.js";
import { MAX_CANDIDATE_LENGTH, wholeMatch } from "./validation.js";

// One decimal octet, 0–255, without leading zeros ([0-9], not \d: ICU's \d matches any Unicode digit).
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const H16 = "[0-9A-Fa-f]{1,4}";

/** An IPv4 address in dotted-decimal form, each octet 0–255 without leading zeros. */
export const IPV4_PATTERN = `${OCTET}(?:\\.${OCTET}){3}`;

// RFC 3986 §3.2.2 IPv6address: eight groups, "::" for one or more zero groups, the last two may
// be an IPv4 address. No zone ("%eth0"): the candidate grammar has no "%" anyway.
const LS32 = `(?:${H16}:${H16}|${IPV4_PATTERN})`;

/** An IPv6 address in the text forms of RFC 4291 (RFC 3986's IPv6address), without a zone. */
export const IPV6_PATTERN = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
]
  .map((form) => `(?:${form})`)
  .join("|");

/** An mDNS name as browsers gather it in place of a host address: one label (a UUID in practice) and `.local`. */
export const MDNS_NAME_PATTERN = "[A-Za-z0-9-]{1,63}\\.local";

/**
 * Why a receiver skips an entry of the other side's candidates array, in the order it checks:
 * the reason it reports is the first of these that applies.
 */
export const ENTRY_SKIP_REASONS = [
  // Not a map (a string, a number, null…).
  "not-a-map",
  // A key other than candidate, sdpMid, sdpMLineIndex and usernameFragment.
  "unknown-key",
  // candidate, sdpMid or sdpMLineIndex is absent (usernameFragment may be).
  "missing-key",
  // candidate is not a string.
  "candidate-not-a-string",
  // sdpMid is neither null nor a string of at most 64 characters of `SDP_MID_PATTERN`.
  "bad-sdp-mid",
  // sdpMLineIndex is neither null nor a whole number from 0 to 63.
  "bad-sdp-mline-index",
  // usernameFragment is present and neither null nor 1–256 characters of `USERNAME_FRAGMENT_PATTERN`.
  "bad-username-fragment",
  // candidate is longer than `MAX_CANDIDATE_LENGTH` characters.
  "candidate-too-long",
  // candidate is neither "" nor a line of `CANDIDATE_LINE_PATTERN`.
  "bad-candidate-line",
  // candidate is a line, but sdpMid and sdpMLineIndex are both null.
  "no-mid-or-index",
  // The line's address (its fifth field) is neither an IPv4 nor an IPv6 address nor an mDNS name.
  "address-is-a-name",
] as const;

/** A reason code of `ENTRY_SKIP_REASONS`. */
export type EntrySkipReason = (typeof ENTRY_SKIP_REASONS)[number];

/** Why an entry is skipped: its reason code, and a sentence for a developer's log. */
export interface EntryProblem {
  reason: EntrySkipReason;
  sentence: string;
}

/** A received entry as a receiver reads it: to use (a candidate or end-of-candidates), or to skip. */
export type ReceivedEntryVerdict = { entry: CandidateEntry; problem?: undefined } | { entry?: undefined; problem: EntryProblem };

const RECEIVABLE_ADDRESS = [IPV4_PATTERN, IPV6_PATTERN, MDNS_NAME_PATTERN].map(wholeMatch);

/** The reason code of one issue the schema found in `value`. */
function reasonOf(issue: z.core.$ZodIssue, value: unknown): EntrySkipReason {
  if (issue.code === "unrecognized_keys") return "unknown-key";
  const key = issue.path[0];
  if (key === undefined) return "not-a-map";
  const entry = value as Record<PropertyKey, unknown>;
  if (!Object.hasOwn(entry, key)) return "missing-key";
  switch (key) {
    case "candidate":
      // The schema's own checks see only the type; the line is checked in its refinement ("custom").
      if (issue.code !== "custom") return "candidate-not-a-string";
      return (entry.candidate as string).length > MAX_CANDIDATE_LENGTH ? "candidate-too-long" : "bad-candidate-line";
    case "sdpMid":
      // The refinement reports a line with neither sdpMid nor sdpMLineIndex under sdpMid.
      return issue.code === "custom" ? "no-mid-or-index" : "bad-sdp-mid";
    case "sdpMLineIndex":
      return "bad-sdp-mline-index";
    default:
      return "bad-username-fragment";
  }
}

/**
 * Checks one entry of the other side's candidates array on its own: the entry ready for
 * `addIceCandidate` (`candidate` "" is end-of-candidates), or the first problem in the order of
 * `ENTRY_SKIP_REASONS`.
 */
export function readReceivedEntry(value: unknown): ReceivedEntryVerdict {
  const parsed = candidateEntrySchema.safeParse(value);
  if (!parsed.success) {
    const ranked = parsed.error.issues.map((issue) => ({ issue, reason: reasonOf(issue, value) }));
    const first = ranked.reduce((best, next) => (ENTRY_SKIP_REASONS.indexOf(next.reason) < ENTRY_SKIP_REASONS.indexOf(best.reason) ? next : best));
    const where = first.issue.path.length > 0 ? `${first.issue.path.join(".")}: ` : "";
    return { problem: { reason: first.reason, sentence: `it does not match the signaling contract (${where}${first.issue.message})` } };
  }
  // The grammar puts the address fifth: candidate:<foundation> <component> <transport> <priority> <address> …
  const address = parsed.data.candidate.split(" ")[4];
  if (address !== undefined && !RECEIVABLE_ADDRESS.some((pattern) => pattern.test(address))) {
    return {
      problem: {
        reason: "address-is-a-name",
        sentence: "its address is neither an IP address nor an mDNS .local name, and this side resolves no other name a peer sends",
      },
    };
  }
  return { entry: parsed.data };
}

/** Why a receiver skips `entry` (the first problem in the order of `ENTRY_SKIP_REASONS`), or `undefined` when it uses it. */
export function receivedEntryProblem(entry: unknown): EntryProblem | undefined {
  return readReceivedEntry(entry).problem;
}
