// fast-check arbitraries for the values the signaling contract defines (validation.ts): uids,
// session descriptions and candidate entries, each a mix of valid values, values at and just past
// every bound, and hostile ones (markup, quotes, control characters, non-ASCII, wrong types,
// missing and extra keys). The unit tier runs them against the pure checks; the Firestore tier
// writes them through the rules and compares (rules-differential.test.ts).
import fc from "fast-check";
import { LIMITS } from "@webrtc-lite/contract";
import { sampleCandidates, sampleSdp } from "./sdp";

/** Strings an attacker tries wherever a token goes: separators, markup, quotes, controls, look-alikes. */
export const HOSTILE_FRAGMENTS: readonly string[] = [
  "/", ".", " ", "\n", "\r", "\t", "\u0000", "\u001b", "\u007f", "<", ">", "'", '"', "`", "&", "%", "@", "+", ":", "=", "\\",
  "é", "\u00a0", "\u200b", "\u202e", "\u2028", "🙂", "ａ", "<script>alert(1)</script>", "../", "${x}",
];

const UID_ALPHABET = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"];
const ALPHANUMERIC = UID_ALPHABET.slice(0, 62);

/** A string of `length` characters from `alphabet`. */
function stringOf(alphabet: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
}

/** `text` with `fragment` put in at a position chosen by `at`. */
function insertAt(text: string, fragment: string, at: number): string {
  const index = at % (text.length + 1);
  return text.slice(0, index) + fragment + text.slice(index);
}

/** A value with a hostile fragment put somewhere into a value from `base`. */
function withHostileFragment(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(base, fc.constantFrom(...HOSTILE_FRAGMENTS), fc.nat()).map(([text, fragment, at]) => insertAt(text, fragment, at));
}

/** Uids as a caller's auth token could carry them: valid, Firebase-generated, at the bounds, hostile. Never empty. */
export function authUidArbitrary(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: stringOf(UID_ALPHABET, 1, 40), weight: 4 },
    { arbitrary: stringOf(ALPHANUMERIC, 28, 28), weight: 2 },
    { arbitrary: fc.constantFrom(LIMITS.maxUidLength, LIMITS.maxUidLength + 1).chain((length) => stringOf(UID_ALPHABET, length, length)), weight: 1 },
    { arbitrary: withHostileFragment(stringOf(UID_ALPHABET, 0, 30)), weight: 4 },
    { arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 20 }), weight: 1 },
  );
}

/** What a caller could put in `callee_id`: any uid above, empty, or not a string at all. */
export function calleeIdArbitrary(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: authUidArbitrary(), weight: 12 },
    { arbitrary: fc.constant(""), weight: 1 },
    { arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.constant({ uid: "bob" })), weight: 2 },
  );
}

/** One change to an SDP, with the words to report it by. */
interface SdpMutation {
  how: string;
  apply(sdp: string): string;
}

const REQUIRED_PREFIXES = ["v=0", "o=", "s=", "t=", "m=", "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"];

/** The lines of `sdp`, each with its own line break (the last one may have none). */
const linesOf = (sdp: string) => sdp.split(/(?<=\n)/);
/** Index `at` folded into `0 … count - 1`. */
const pick = (at: number, count: number) => at % Math.max(count, 1);

/** An SDP of exactly `length` characters: `sdp` plus an attribute line of padding. */
function padded(sdp: string, length: number): string {
  const base = (sdp.endsWith("\n") ? sdp : `${sdp}\r\n`) + "a=x-pad:";
  return base + "p".repeat(Math.max(0, length - base.length));
}

function sdpMutation(): fc.Arbitrary<SdpMutation> {
  return fc.oneof(
    fc.nat().map((at) => ({
      how: `line ${at} (folded into range) removed`,
      apply: (sdp: string) => linesOf(sdp).filter((_, index, all) => index !== pick(at, all.length)).join(""),
    })),
    fc.constantFrom(...REQUIRED_PREFIXES).map((prefix) => ({
      how: `every ${prefix} line removed`,
      apply: (sdp: string) => linesOf(sdp).filter((line) => !line.startsWith(prefix)).join(""),
    })),
    fc.tuple(fc.constantFrom(...REQUIRED_PREFIXES.slice(1)), fc.nat()).map(([prefix, at]) => ({
      how: `every ${prefix} line moved into the middle of another line`,
      apply: (sdp: string) => {
        const kept = linesOf(sdp).filter((line) => !line.startsWith(prefix));
        const moved = linesOf(sdp).filter((line) => line.startsWith(prefix)).map((line) => line.trimEnd());
        const target = pick(at, kept.length);
        kept[target] = kept[target].replace(/(\r?\n)?$/, (lineBreak) => ` ${moved.join(" ")}${lineBreak}`);
        return kept.join("");
      },
    })),
    fc.nat().map((at) => ({
      how: `LF instead of CRLF after line ${at} (folded into range)`,
      apply: (sdp: string) => linesOf(sdp).map((line, index, all) => (index === pick(at, all.length) ? line.replace(/\r\n$/, "\n") : line)).join(""),
    })),
    fc.constantFrom(
      { how: "LF line ends", apply: (sdp: string) => sdp.replaceAll("\r\n", "\n") },
      { how: "no final line break", apply: (sdp: string) => sdp.replace(/\r?\n$/, "") },
      { how: "an empty line at the end", apply: (sdp: string) => `${sdp}\r\n` },
      { how: "CR line ends", apply: (sdp: string) => sdp.replaceAll("\r\n", "\r") },
      { how: "v=1", apply: (sdp: string) => sdp.replace("v=0", "v=1") },
      { how: "a space before v=0", apply: (sdp: string) => ` ${sdp}` },
      { how: "a line break before v=0", apply: (sdp: string) => `\r\n${sdp}` },
      { how: "V=0", apply: (sdp: string) => sdp.replace("v=0", "V=0") },
      { how: "markup in an attribute", apply: (sdp: string) => `${sdp}a=x-note:<script>alert(1)</script>\r\n` },
      { how: "an extra valid line", apply: (sdp: string) => `${sdp}a=x-extra:1 2 3\r\n` },
      { how: "a line without =", apply: (sdp: string) => `${sdp}hello\r\n` },
      { how: "an uppercase line type", apply: (sdp: string) => `${sdp}A=x\r\n` },
    ),
    fc.tuple(fc.constantFrom("é", "\u00a0", "🙂", "\u2028", "\u0085", "\t", "\u0000", "\u001b", "\u007f", "\u000b", "\u000c", "\r", "\n", "\n\n"), fc.nat()).map(([text, at]) => ({
      how: `${JSON.stringify(text)} inserted at ${at} (folded into range)`,
      apply: (sdp: string) => insertAt(sdp, text, at),
    })),
    fc.constantFrom(LIMITS.maxSdpLength - 1, LIMITS.maxSdpLength, LIMITS.maxSdpLength + 1).map((length) => ({
      how: `padded to ${length} characters`,
      apply: (sdp: string) => padded(sdp, length),
    })),
  );
}

/** What a participant could write as a session description (`{ type, sdp }`), with how it was made. */
export function descriptionArbitrary(type: "offer" | "answer"): fc.Arbitrary<{ how: string; value: unknown }> {
  const mutated = fc.tuple(fc.constantFrom<"offer" | "answer">("offer", "answer"), fc.array(sdpMutation(), { maxLength: 3 })).map(([base, mutations]) => ({
    how: [`sample ${base}`, ...mutations.map((mutation) => mutation.how)].join(", "),
    value: { type, sdp: mutations.reduce((sdp, mutation) => mutation.apply(sdp), sampleSdp(base)) },
  }));
  const other = fc.constantFrom(
    { how: "an empty sdp", value: { type, sdp: "" } },
    { how: "just v=0", value: { type, sdp: "v=0\r\n" } },
    { how: "the wrong type", value: { type: type === "offer" ? "answer" : "offer", sdp: sampleSdp("offer") } },
    { how: "no type", value: { sdp: sampleSdp("offer") } },
    { how: "no sdp", value: { type } },
    { how: "an sdp that is a number", value: { type, sdp: 42 } },
    { how: "an extra key", value: { type, sdp: sampleSdp("offer"), candidates: [] } },
    { how: "a string instead of a map", value: sampleSdp("offer") },
  );
  const printable = fc.string({ unit: "grapheme-ascii", maxLength: 200 }).map((text) => ({ how: "random printable text after v=0", value: { type, sdp: `v=0\r\n${text}` } }));
  return fc.oneof({ arbitrary: mutated, weight: 12 }, { arbitrary: other, weight: 1 }, { arbitrary: printable, weight: 1 });
}

/** A field drawn mostly from `valid`, sometimes from `invalid` (values at or past a bound, hostile ones). */
function mostly(valid: fc.Arbitrary<string>, invalid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: valid, weight: 24 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
}

const decimal = (min: number, max: number) => fc.integer({ min, max }).map(String);
const address = () =>
  mostly(fc.oneof(fc.ipV4(), fc.ipV6(), fc.uuid().map((uuid) => `${uuid}.local`), fc.domain(), fc.constant("0.0.0.0")), [
    "<script>alert(1)</script>",
    "a".repeat(254),
    "fe80::1%2",
    "exämple.com",
    '"198.51.100.1"',
    "198.51.100.0/24",
  ]);
const port = () => mostly(decimal(0, 65_535), ["65535", "65536", "99999", "00", "080", "-1", "1e3"]);

const EXTENSION_NAMES = ["generation", "ufrag", "network-id", "network-cost", "tcptype"];
const extensionName = () =>
  mostly(fc.oneof(fc.constantFrom(...EXTENSION_NAMES), fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/), stringOf([..."radpot-1x"], 1, 6)), [
    "raddr",
    "rport",
    "Generation",
    "gen_eration",
    "<b>",
    "n".repeat(33),
    "é",
    "1st",
  ]);
const extensionValue = () =>
  mostly(fc.oneof(decimal(0, 999), fc.stringMatching(/^[A-Za-z0-9+/]{4,8}$/), fc.constantFrom("active", "passive", "so"), fc.stringMatching(/^[A-Za-z0-9+/._:-]{1,20}$/)), [
    "<script>alert(1)</script>",
    '"x"',
    "v".repeat(257),
    "é",
    "a&b",
  ]);

/** Lines in and around the candidate grammar: every field valid most of the time, at or past its bounds sometimes. */
export function candidateLineArbitrary(): fc.Arbitrary<string> {
  const related = fc.oneof(
    { arbitrary: fc.constant(""), weight: 6 },
    { arbitrary: fc.tuple(address(), port()).map(([raddr, rport]) => ` raddr ${raddr} rport ${rport}`), weight: 6 },
    { arbitrary: address().map((raddr) => ` raddr ${raddr}`), weight: 1 },
    { arbitrary: port().map((rport) => ` rport ${rport}`), weight: 1 },
    { arbitrary: fc.tuple(address(), port()).map(([raddr, rport]) => ` rport ${rport} raddr ${raddr}`), weight: 1 },
  );
  const extensions = fc.array(fc.tuple(extensionName(), extensionValue()), { maxLength: 4 }).map((pairs) => pairs.map(([name, value]) => ` ${name} ${value}`).join(""));
  const line = fc
    .tuple(
      mostly(fc.stringMatching(/^[A-Za-z0-9+/]{1,32}$/), ["", "f".repeat(33), "a-b", "<b>"]),
      mostly(decimal(1, 256), ["0", "256", "257", "01", "-1"]),
      mostly(fc.oneof(fc.constantFrom("udp", "tcp", "UDP", "TCP"), fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)), ["", "1udp", "u".repeat(17), "udp/tls"]),
      mostly(fc.oneof(decimal(0, 2 ** 32 - 1), fc.constantFrom("0", "4294967295")), ["4294967296", "9999999999", "01", "-1", "42949672950"]),
      address(),
      port(),
      mostly(fc.constantFrom("host", "srflx", "prflx", "relay"), ["peer", "HOST", ""]),
      related,
      extensions,
    )
    .map(([foundation, component, transport, priority, host, hostPort, type, relatedPart, extensionPart]) =>
      `candidate:${foundation} ${component} ${transport} ${priority} ${host} ${hostPort} typ ${type}${relatedPart}${extensionPart}`,
    );
  const lineMutation = fc.oneof(
    { arbitrary: fc.constant((text: string) => text), weight: 24 },
    {
      arbitrary: fc.constantFrom(
        (text: string) => `${text} `,
        (text: string) => text.replace(" ", "  "),
        (text: string) => text.replace(" ", "\t"),
        (text: string) => `a=${text}`,
        (text: string) => text.replace("candidate:", "Candidate:"),
        (text: string) => `${text}\r\na=evil`,
        (text: string) => text.replace(" typ ", " "),
      ),
      weight: 2,
    },
    { arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.nat()).map(([fragment, at]) => (text: string) => insertAt(text, fragment, at)), weight: 1 },
    { arbitrary: fc.constantFrom(LIMITS.maxCandidateLength - 1, LIMITS.maxCandidateLength, LIMITS.maxCandidateLength + 1).map((length) => (text: string) => paddedLine(text, length)), weight: 2 },
  );
  return fc.tuple(line, lineMutation).map(([text, mutate]) => mutate(text));
}

/** `line` with extension pairs " p <value>" appended until it is `length` characters long (when it is shorter). */
function paddedLine(line: string, length: number): string {
  let text = line;
  while (length - text.length >= 4) {
    const room = length - text.length;
    // The last pair must leave either nothing or room for another pair (4 characters at least).
    const take = room <= 3 + 256 ? room : Math.min(3 + 256, room - 4);
    text += ` p ${"v".repeat(take - 3)}`;
  }
  return text;
}

/** Real candidates: the samples, and lines captured from Chromium (with coturn), libwebrtc (@roamhq/wrtc) and Firefox. */
export const REAL_CANDIDATE_LINES: readonly string[] = [
  ...sampleCandidates("caller").map((entry) => entry.candidate),
  ...sampleCandidates("callee").map((entry) => entry.candidate),
  "candidate:1028278949 1 udp 2113937151 78c5e476-a4f7-4793-88e0-7c70dfb29c36.local 44976 typ host generation 0 ufrag Aubb network-cost 999",
  "candidate:2737276081 1 udp 1677729535 127.0.0.1 44976 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag Aubb network-cost 999",
  "candidate:3597037260 1 udp 50340095 127.0.0.1 58012 typ relay raddr 127.0.0.1 rport 44976 generation 0 ufrag Aubb network-cost 999",
  "candidate:1797656238 1 udp 16785407 127.0.0.1 57028 typ relay raddr 127.0.0.1 rport 54420 generation 0 ufrag Aubb network-cost 999",
  "candidate:3077952869 1 udp 2122265343 fd00::2 35361 typ host generation 0 ufrag KkvZ network-id 2",
  "candidate:559267639 1 udp 2122136831 ::1 52981 typ host generation 0 ufrag KkvZ network-id 4",
  "candidate:4193659285 1 tcp 1518285567 fd00::2 58815 typ host tcptype passive generation 0 ufrag KkvZ network-id 2",
  "candidate:213309110 1 udp 41820159 127.0.0.1 57527 typ relay raddr 192.0.2.2 rport 47962 generation 0 ufrag 6qQR network-id 1",
  "candidate:0 1 UDP 2122252543 192.0.2.4 61665 typ host",
  "candidate:1 1 TCP 2105524479 192.0.2.4 9 typ host tcptype active",
  "candidate:2 1 UDP 1686052863 203.0.113.5 61665 typ srflx raddr 192.0.2.4 rport 61665",
  "candidate:3 1 UDP 92217343 198.51.100.7 49879 typ relay raddr 198.51.100.7 rport 49879",
];

/** What a participant could put into its candidates list as one entry. */
export function candidateEntryArbitrary(): fc.Arbitrary<unknown> {
  const candidate = fc.oneof(
    { arbitrary: candidateLineArbitrary(), weight: 8 },
    { arbitrary: fc.constantFrom(...REAL_CANDIDATE_LINES), weight: 2 },
    { arbitrary: fc.constant(""), weight: 1 },
  );
  const sdpMid = fc.oneof(
    { arbitrary: fc.constantFrom("0", "1", "audio", "video", "data", "sdparta_0"), weight: 6 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9!#$%*+.^_|~-]{0,64}$/), weight: 2 },
    { arbitrary: fc.constant(null), weight: 2 },
    { arbitrary: fc.constantFrom("m".repeat(LIMITS.maxSdpMidLength), "m".repeat(LIMITS.maxSdpMidLength + 1), "", ...HOSTILE_FRAGMENTS.map((fragment) => `0${fragment}`), "{0}"), weight: 1 },
  );
  const sdpMLineIndex = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: LIMITS.maxSdpMLineIndex }), weight: 6 },
    { arbitrary: fc.constant(null), weight: 2 },
    { arbitrary: fc.constantFrom<unknown>(LIMITS.maxSdpMLineIndex + 1, -1, -0, 0.5, "0", Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, true), weight: 1 },
  );
  const usernameFragment = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9+/]{4,8}$/), weight: 3 },
    { arbitrary: fc.constant(null), weight: 1 },
    {
      arbitrary: fc.constantFrom<unknown>(
        "u".repeat(LIMITS.maxUsernameFragmentLength),
        "u".repeat(LIMITS.maxUsernameFragmentLength + 1),
        "",
        "a-b",
        "ab=",
        "é",
        "<b>",
        7,
      ),
      weight: 1,
    },
  );
  const keys = fc.oneof(
    { arbitrary: fc.constant((entry: Record<string, unknown>) => entry), weight: 24 },
    { arbitrary: fc.constantFrom("candidate", "sdpMid", "sdpMLineIndex").map((key) => ({ [key]: _removed, ...rest }: Record<string, unknown>) => rest), weight: 1 },
    {
      arbitrary: fc.constantFrom("foundation", "relayProtocol", "address", "port", "usernamefragment").map((key) => (entry: Record<string, unknown>) => ({ ...entry, [key]: "x" })),
      weight: 1,
    },
  );
  const entry = fc.tuple(candidate, sdpMid, sdpMLineIndex, usernameFragment, keys).map(([line, mid, index, fragment, reshape]) =>
    reshape({ candidate: line, sdpMid: mid, sdpMLineIndex: index, ...(fragment === undefined ? {} : { usernameFragment: fragment }) }),
  );
  const notAnEntry = fc.constantFrom<unknown>(REAL_CANDIDATE_LINES[0], 7, null, {}, { candidate: 7, sdpMid: "0", sdpMLineIndex: 0 });
  return fc.oneof({ arbitrary: entry, weight: 30 }, { arbitrary: notAnEntry, weight: 1 });
}
