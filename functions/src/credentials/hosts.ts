// Several coturn hosts behind one TURN_URIS: how they are listed, and which one a credential
// names. Pure: no SDK import.
import { parseTurnUris, turnUriHost } from "@webrtc-lite/contract/turn-rest";

/** The URIs of `TURN_URIS` that point at one coturn host. */
export interface TurnHostUris {
  /** What the hash knows the host by: the distinct host parts of its URIs, lower-cased, sorted. */
  host: string;
  /** Its URIs, in the order `TURN_URIS` lists them. */
  turnUris: string[];
}

/** The hosts of `TURN_URIS`, or every problem found (without the `TURN_URIS` prefix). */
export type TurnHostsCheck = { ok: true; hosts: TurnHostUris[] } | { ok: false; problems: string[] };

/**
 * Parses `TURN_URIS` into hosts: `;` separates hosts, `,` the URIs of one host. Without a `;`
 * the whole list is one host and is handed out whole, exactly as before hosts existed (one
 * server, possibly named by its IP in one URI and by its DNS name in another). Grouping is
 * explicit because the function cannot tell two names of one server from two servers.
 */
export function parseTurnHosts(raw: string): TurnHostsCheck {
  if (!raw.includes(";")) {
    const single = parseTurnUris(raw);
    return single.ok ? { ok: true, hosts: [{ host: hostKey(single.uris), turnUris: single.uris }] } : single;
  }
  // Empty groups (a trailing `;`) are ignored; an entirely empty list is reported as such.
  const groups = raw.split(";").filter((group) => group.trim().length > 0);
  if (groups.length === 0) return parseTurnHosts("");
  const problems: string[] = [];
  const hosts: TurnHostUris[] = [];
  groups.forEach((group, index) => {
    const check = parseTurnUris(group);
    if (!check.ok) {
      problems.push(...check.problems.map((problem) => `host ${index + 1} ${problem}`));
      return;
    }
    const host = hostKey(check.uris);
    const twin = hosts.findIndex((other) => other.host === host);
    if (twin >= 0) {
      problems.push(`hosts ${twin + 1} and ${index + 1} both name ${host}: list each server once, all its URIs between the same semicolons`);
    }
    hosts.push({ host, turnUris: check.uris });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, hosts };
}

// Independent of the order of a host's URIs, so reordering them moves no user.
function hostKey(uris: readonly string[]): string {
  return [...new Set(uris.map(turnUriHost))].sort().join(" ");
}

/**
 * How many hosts a credential names: the uid's own host first, then the next of its ranking as
 * the fallback. ICE allocates on both at once, so when the first is down the call relays through
 * the second without a retry, a new credential or an operator; the price is a second set of
 * allocations per peer (the README's "More than one TURN host" counts them).
 */
export const HOSTS_PER_CREDENTIAL = 2;

/**
 * Ranks the hosts for a uid by rendezvous (highest-random-weight) hashing: each host scores
 * `hash(host, uid)`, highest first. The same uid gets the same ranking on every call, whatever
 * order `TURN_URIS` lists the hosts in. Adding a host moves only the uids it now wins (about 1/n
 * of them) and changes the others' order nowhere else; removing one moves only the uids it held,
 * each to the host that was its fallback.
 */
export function rankTurnHosts<Host extends { host: string }>(hosts: readonly Host[], uid: string): Host[] {
  // One host (the common case) costs nothing: no hashing on the hot path.
  if (hosts.length <= 1) return [...hosts];
  return hosts
    .map((host) => ({ host, score: score(host.host, uid) }))
    // Ties (1 in 2^32) go to the smaller name, so the ranking never depends on the list's order.
    .sort((a, b) => b.score - a.score || (a.host.host < b.host.host ? -1 : a.host.host > b.host.host ? 1 : 0))
    .map(({ host }) => host);
}

/** The host a uid's credentials name first: the top of `rankTurnHosts`. */
export function pickTurnHost<Host extends { host: string }>(hosts: readonly Host[], uid: string): Host {
  const [first] = rankTurnHosts(hosts, uid);
  if (!first) throw new RangeError("pickTurnHost needs at least one host");
  return first;
}

/** The hosts a uid's credential names, in ICE preference order: its own, then its fallback. */
export function pickCredentialHosts<Host extends { host: string }>(hosts: readonly Host[], uid: string): Host[] {
  if (hosts.length === 0) throw new RangeError("pickCredentialHosts needs at least one host");
  return rankTurnHosts(hosts, uid).slice(0, HOSTS_PER_CREDENTIAL);
}

// A 32-bit score for one (host, uid) pair: FNV-1a over both strings, then MurmurHash3's
// finaliser so that uids differing in one character land on unrelated scores. It needs no
// secret and no HMAC: the uid is chosen by Firebase Auth, not by the caller, and a caller who
// could steer the pick would only pick a host that accepts its credential anyway.
function score(host: string, uid: string): number {
  let hash = 0x811c9dc5;
  hash = fnv1a(hash, host);
  // A separator no DNS name or uid contains, so ("ab", "c") and ("a", "bc") hash apart.
  hash = Math.imul(hash ^ 0x0a, 0x01000193);
  hash = fnv1a(hash, uid);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function fnv1a(seed: number, text: string): number {
  let hash = seed;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash;
}
