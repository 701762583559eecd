// The values, operators and functions of the HCL evaluator in hcl.ts, with Terraform's semantics
// for the inputs infra/terraform gives them (see there for what is refused, and why).
import { cidrhost, cidrnetmask, Unsupported } from "./cidr";

/** A Terraform value as JSON has it. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

// Quoted template literals carry HCL's backslash escapes; heredoc literals only `$${`/`%%{`.
/** Decodes a template literal: backslash escapes in quoted strings, `$${`/`%%{` everywhere. */
export function literalText(raw: string, quoted: boolean): string {
  const unescaped = raw.replaceAll("$${", "${").replaceAll("%%{", "%{");
  if (!quoted) return unescaped;
  return unescaped.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, code: string) => {
    if (code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16));
    const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
    if (!(code in simple)) throw new Error(`unknown escape \\${code}`);
    return simple[code];
  });
}

/** A literal value node. */
export function literal(type: string, raw: string): Value {
  if (type === "number") return Number(raw);
  if (type === "bool") return raw === "true";
  if (type === "dynamic" && raw === "null") return null;
  throw new Unsupported(`literal of type ${type}`);
}

/** The key of a `[…]` traversal step. */
export function indexKey(segment: string): Value {
  if (/^\d+$/.test(segment)) return Number(segment);
  if (/^"[^"\\]*"$/.test(segment)) return segment.slice(1, -1);
  throw new Unsupported(`index ${segment}`);
}

/** `collection[key]` for lists and maps. */
export function index(collection: Value, key: Value): Value {
  if (Array.isArray(collection) && typeof key === "number" && Number.isInteger(key)) {
    if (key < 0 || key >= collection.length) throw new Error(`index ${key} out of range for a list of ${collection.length}`);
    return collection[key];
  }
  if (collection !== null && typeof collection === "object" && !Array.isArray(collection) && typeof key === "string") {
    if (!(key in collection)) throw new Error(`no key ${JSON.stringify(key)}`);
    return collection[key];
  }
  throw new Error(`cannot index ${JSON.stringify(collection)} with ${JSON.stringify(key)}`);
}

/** A binary operator; both operands already evaluated. */
export function binary(operator: string, left: Value, right: Value): Value {
  if (operator === "equal") return JSON.stringify(left) === JSON.stringify(right);
  if (operator === "notEqual") return JSON.stringify(left) !== JSON.stringify(right);
  if (operator === "logicalAnd" || operator === "logicalOr") {
    if (typeof left !== "boolean" || typeof right !== "boolean") throw new Error(`${operator} needs bools`);
    return operator === "logicalAnd" ? left && right : left || right;
  }
  if (typeof left !== "number" || typeof right !== "number") throw new Error(`${operator} needs numbers, got ${JSON.stringify([left, right])}`);
  const numeric: Record<string, (a: number, b: number) => Value> = {
    lessThan: (a, b) => a < b,
    lessThanOrEqual: (a, b) => a <= b,
    greaterThan: (a, b) => a > b,
    greaterThanOrEqual: (a, b) => a >= b,
    add: (a, b) => a + b,
    subtract: (a, b) => a - b,
    multiply: (a, b) => a * b,
  };
  const fn = numeric[operator];
  if (!fn) throw new Unsupported(`operator ${operator}`);
  return fn(left, right);
}

/** A primitive as a string, as Terraform converts it. */
export function text(value: Value): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new Error(`${JSON.stringify(value)} is not a string`);
}

function list(value: Value): Value[] {
  if (!Array.isArray(value)) throw new Error(`${JSON.stringify(value)} is not a list`);
  return value;
}

function map(value: Value): Record<string, Value> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${JSON.stringify(value)} is not a map`);
  return value;
}

function nonEmpty(value: Value, what: string): string {
  const result = text(value);
  // Go's strings functions treat an empty separator specially; this evaluator does not follow.
  if (result === "") throw new Unsupported(`empty ${what}`);
  return result;
}

// RE2 and JavaScript agree on plain patterns; flags, named groups, \p, \z and POSIX classes
// are where they part, so those are refused.
function re2Compatible(pattern: string): RegExp {
  if (/\(\?|\\[pPzAQE]|\[\[:/.test(pattern)) throw new Unsupported(`regex syntax in ${pattern}`);
  return new RegExp(pattern);
}

/** The built-in functions the configuration uses, besides can(), try() and file(). */
export const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  alltrue: (values) => list(values).every((value) => value === true),
  base64encode: (value) => Buffer.from(text(value), "utf8").toString("base64"),
  cidrhost: (prefix, host) => cidrhost(text(prefix), host),
  cidrnetmask: (prefix) => cidrnetmask(text(prefix)),
  contains: (values, wanted) => list(values).some((value) => JSON.stringify(value) === JSON.stringify(wanted)),
  endswith: (value, suffix) => text(value).endsWith(text(suffix)),
  floor: (value) => {
    if (typeof value !== "number") throw new Error(`${JSON.stringify(value)} is not a number`);
    return Math.floor(value);
  },
  join: (separator, values) => list(values).map(text).join(text(separator)),
  keys: (value) => Object.keys(map(value)).sort(),
  length: (value) => (typeof value === "string" ? [...value].length : Array.isArray(value) ? value.length : Object.keys(map(value)).length),
  regex: (pattern, value) => {
    const match = re2Compatible(text(pattern)).exec(text(value));
    if (!match) throw new Error(`pattern ${text(pattern)} does not match ${JSON.stringify(value)}`);
    return match.length === 1 ? match[0] : match.slice(1).map((group) => group ?? "");
  },
  replace: (value, search, replacement) => {
    const needle = nonEmpty(search, "search string");
    if (needle.length > 1 && needle.startsWith("/") && needle.endsWith("/")) throw new Unsupported("replace() with a regex");
    return text(value).split(needle).join(text(replacement));
  },
  split: (separator, value) => text(value).split(nonEmpty(separator, "separator")),
  strcontains: (value, part) => text(value).includes(text(part)),
  tonumber: (value) => {
    if (typeof value === "number") return value;
    if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    throw new Error(`cannot convert ${JSON.stringify(value)} to a number`);
  },
  trimspace: (value) => text(value).trim(),
};
