import { z } from "zod";
import { TTL_LIMITS } from "./policy";

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

const requestSchema = z.strictObject(
  {
    ttl: z
      .number({ error: (issue) => ttlSentence(issue.input) })
      .int({ error: (issue) => ttlSentence(issue.input) })
      .min(TTL_LIMITS.min, { error: (issue) => ttlSentence(issue.input) })
      .max(TTL_LIMITS.max, { error: (issue) => ttlSentence(issue.input) })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `Unknown field ${listKeys(issue.keys)} in the request: the only accepted field is ttl.`
        : `The request must be an object such as { ttl: ${TTL_LIMITS.default} }, or empty; ` +
          `got ${describeValue(issue.input)}.`,
  },
);

/**
 * Validates the callable's `data`. `null` and `undefined` (a call with no argument) mean
 * "all defaults"; everything else must match the schema exactly.
 */
export function parseCredentialRequest(data: unknown): ParsedCredentialRequest {
  const result = requestSchema.safeParse(data ?? {});
  if (!result.success) {
    // One sentence is enough to act on; zod reports the outermost problem first.
    return { ok: false, message: result.error.issues[0]?.message ?? ttlSentence(data) };
  }
  return { ok: true, request: { ttl: result.data.ttl ?? TTL_LIMITS.default } };
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
