// A candidate entry, judged as docs/signaling.md's "Data model" defines it (what the rules take)
// and as "One entry at a time" tells a receiver to (the same grammar, then the address rule).
import { isIPv4, isIPv6 } from "node:net";

/** Why a receiver skips one of the peer's entries (the closed list the vectors table). */
export type EntryProblem =
  | "not-a-map"
  | "unknown-key"
  | "missing-key"
  | "candidate-not-a-string"
  | "bad-candidate-line"
  | "candidate-too-long"
  | "bad-sdp-mid"
  | "bad-sdp-mline-index"
  | "no-mid-or-index"
  | "bad-username-fragment"
  | "address-is-a-name";

/** An entry that passed the checks. */
export interface Entry {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment?: string | null;
}

const KEYS = ["candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"];
const REQUIRED = ["candidate", "sdpMid", "sdpMLineIndex"];
/** "at most 512 characters". */
const MAX_LINE = 512;
/** sdpMid: "0–64 characters of A-Z a-z 0-9 ! # $ % * + - . ^ _ | ~". */
const SDP_MID = /^[A-Za-z0-9!#$%*+\-.^_|~]{0,64}$/;
/** usernameFragment: "1–256 characters of A-Z a-z 0-9 + /". */
const USERNAME_FRAGMENT = /^[A-Za-z0-9+/]{1,256}$/;

// The candidate line's parts, from the table under "A candidate: line". Numbers are decimal
// without leading zeros; their ranges are checked after the match.
const NUMBER = "(?:0|[1-9][0-9]*)";
const ADDRESS = "[A-Za-z0-9._:-]{1,253}";
const LINE = new RegExp(
  "^candidate:[A-Za-z0-9+/]{1,32}" + // foundation
    ` (${NUMBER})` + // component 1–256
    " [A-Za-z][A-Za-z0-9-]{0,15}" + // transport
    ` (${NUMBER})` + // priority 0–4294967295
    ` (${ADDRESS})` + // address
    ` (${NUMBER})` + // port 0–65535
    " typ (?:host|srflx|prflx|relay)" +
    `(?: raddr ${ADDRESS} rport (${NUMBER}))?` +
    "((?: [a-z][a-z0-9-]{0,31} [A-Za-z0-9+/._:-]{1,256})*)$",
);
const IN_RANGE: Array<[number, number, number]> = [
  // [group, min, max]
  [1, 1, 256],
  [2, 0, 4_294_967_295],
  [4, 0, 65_535],
  [5, 0, 65_535],
];

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A `candidate:` line's problem under the grammar, or `undefined`; `""` (end-of-candidates) has none. */
export function lineProblem(line: string): EntryProblem | undefined {
  if (line === "") return undefined;
  if (line.length > MAX_LINE) return "candidate-too-long";
  const match = LINE.exec(line);
  if (!match) return "bad-candidate-line";
  for (const [group, min, max] of IN_RANGE) {
    if (match[group] !== undefined && (Number(match[group]) < min || Number(match[group]) > max)) return "bad-candidate-line";
  }
  // An extension is never named raddr or rport (they come only right after the type).
  const words = match[6].trim().split(" ");
  for (let name = 0; name < words.length; name += 2) {
    if (words[name] === "raddr" || words[name] === "rport") return "bad-candidate-line";
  }
  return undefined;
}

/**
 * What the rules think of an entry as a write: the "Data model" grammar alone. `undefined` when
 * they accept it.
 */
export function entryGrammarProblem(entry: unknown): EntryProblem | undefined {
  if (!isMap(entry)) return "not-a-map";
  if (Object.keys(entry).some((key) => !KEYS.includes(key))) return "unknown-key";
  if (REQUIRED.some((key) => !(key in entry))) return "missing-key";
  const { candidate, sdpMid, sdpMLineIndex } = entry;
  // The order of the checks is the order of the reason codes: the first that applies is reported.
  if (typeof candidate !== "string") return "candidate-not-a-string";
  if (sdpMid !== null && (typeof sdpMid !== "string" || !SDP_MID.test(sdpMid))) return "bad-sdp-mid";
  if (sdpMLineIndex !== null && !(typeof sdpMLineIndex === "number" && Number.isInteger(sdpMLineIndex) && !Object.is(sdpMLineIndex, -0) && sdpMLineIndex >= 0 && sdpMLineIndex <= 63)) {
    return "bad-sdp-mline-index";
  }
  if ("usernameFragment" in entry && entry.usernameFragment !== null) {
    if (typeof entry.usernameFragment !== "string" || !USERNAME_FRAGMENT.test(entry.usernameFragment)) return "bad-username-fragment";
  }
  const line = lineProblem(candidate);
  if (line) return line;
  if (candidate !== "" && sdpMid === null && sdpMLineIndex === null) return "no-mid-or-index";
  return undefined;
}

/** "IP literals and mDNS names only": an IPv4 dotted quad, an IPv6 address without a zone, or `<label>.local`. */
export function isGatheredAddress(address: string): boolean {
  return isIPv4(address) || (isIPv6(address) && !address.includes("%")) || /^[A-Za-z0-9-]{1,63}\.local$/.test(address);
}

/** The connection address of a `candidate:` line (its fifth field). */
function addressOf(line: string): string {
  return line.split(" ")[4];
}

/** A receiver's problem with one of the peer's entries: the grammar, then the address. */
export function receivedEntryProblem(entry: unknown): EntryProblem | undefined {
  const grammar = entryGrammarProblem(entry);
  if (grammar) return grammar;
  const { candidate } = entry as Entry;
  if (candidate !== "" && !isGatheredAddress(addressOf(candidate))) return "address-is-a-name";
  return undefined;
}

/** What a receiver does with one new entry. */
export type Receipt = { action: "add"; entry: Entry } | { action: "end-of-candidates"; entry: Entry } | { action: "skip"; reason: EntryProblem };

/** "One entry at a time": skip it (with its reason), take it as end-of-candidates, or add it. */
export function receiveEntry(entry: unknown): Receipt {
  const problem = receivedEntryProblem(entry);
  if (problem) return { action: "skip", reason: problem };
  const checked = entry as Entry;
  return checked.candidate === "" ? { action: "end-of-candidates", entry: checked } : { action: "add", entry: checked };
}
