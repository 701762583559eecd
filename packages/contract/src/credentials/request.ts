import { TTL_LIMITS } from "./policy.js";

/** What a caller may ask for, after validation. */
export interface CredentialRequest {
  ttl: number;
}

/** The outcome of validating callable `data`: the request, or a sentence for the caller. */
export type ParsedCredentialRequest =
  | { ok: true; request: CredentialRequest }
  | { ok: false; message: string };

const MAX_LISTED_KEYS = 3;
const MAX_KEY_LENGTH = 32;

const ttlSentence = (input: unknown): string =>
  `ttl must be a whole number of seconds from ${TTL_LIMITS.min} to ${TTL_LIMITS.max} ` +
  `(leave it out for ${TTL_LIMITS.default}); got ${describeValue(input)}.`;

/**
 * Validates the callable's `data`. `null` and `undefined` (a call with no argument) mean
 * "all defaults"; everything else must be an object whose only key is an optional `ttl`.
 */
export function parseCredentialRequest(data: unknown): ParsedCredentialRequest {
  // Checked by hand rather than with zod: zod adds ~95 modules and ~45 ms to every cold start of
  // getTurnCredentials (`npm run bench`, section 2), for a schema of one optional integer.
  // The order of the checks is the order zod reported them in, so the messages stay the same:
  // not an object, then a bad ttl, then unknown keys.
  const input = data ?? {};
  if (typeof input !== "object" || Array.isArray(input)) {
    return {
      ok: false,
      message: `The request must be an object such as { ttl: ${TTL_LIMITS.default} }, or empty; got ${describeValue(input)}.`,
    };
  }
  const ttl = (input as { ttl?: unknown }).ttl;
  if (ttl !== undefined && !isTtl(ttl)) return { ok: false, message: ttlSentence(ttl) };
  // for…in, like a strict schema: inherited enumerable keys count too, and a JSON `__proto__`
  // key is an own key here, so it is reported instead of being taken for the prototype.
  const unknown: string[] = [];
  for (const key in input) if (key !== "ttl") unknown.push(key);
  if (unknown.length > 0) {
    return { ok: false, message: `Unknown field ${listKeys(unknown)} in the request: the only accepted field is ttl.` };
  }
  return { ok: true, request: { ttl: ttl ?? TTL_LIMITS.default } };
}

function isTtl(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= TTL_LIMITS.min && value <= TTL_LIMITS.max;
}

/** Names a value for an error message without echoing anything large a caller sent. */
function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "number":
      return String(value);
    case "string":
      return "a string";
    case "boolean":
      return `${value}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

function listKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, MAX_LISTED_KEYS).map((key) => {
    const short = key.length > MAX_KEY_LENGTH ? `${key.slice(0, MAX_KEY_LENGTH)}…` : key;
    return JSON.stringify(short);
  });
  const more = keys.length > MAX_LISTED_KEYS ? ` and ${keys.length - MAX_LISTED_KEYS} more` : "";
  return shown.join(", ") + more;
}
