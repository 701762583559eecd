// Several coturn hosts behind one TURN_URIS: which of them a credential names. Pure: no SDK.
import { turnUriHost } from "./uris";

/** The URIs of `TURN_URIS` that point at one coturn host. */
export interface TurnHostUris {
  /** The host part shared by these URIs, lower-cased: an IPv4 address, a bracketed IPv6 literal or a DNS name. */
  host: string;
  /** Its URIs, in the order `TURN_URIS` lists them. */
  turnUris: string[];
}

/**
 * Groups checked `turn:`/`turns:` URIs by host, in the order each host first appears. URIs that
 * differ only in scheme, port or transport (3478 udp/tcp, 5349 TLS) are one coturn process;
 * another host name is another process, even where two names resolve to the same machine.
 */
export function groupTurnUrisByHost(uris: readonly string[]): TurnHostUris[] {
  const byHost = new Map<string, string[]>();
  for (const uri of uris) {
    const host = turnUriHost(uri);
    const group = byHost.get(host);
    if (group) group.push(uri);
    else byHost.set(host, [uri]);
  }
  return [...byHost].map(([host, turnUris]) => ({ host, turnUris }));
}

/**
 * Picks the host a uid's credentials name, by rendezvous (highest-random-weight) hashing:
 * each host scores `hash(host, uid)` and the highest wins. The same uid gets the same host on
 * every call, whatever order `TURN_URIS` lists the hosts in; adding a host moves only the uids
 * it now wins (about 1/n of them) and removing one moves only that host's uids.
 */
export function pickTurnHost<Host extends { host: string }>(hosts: readonly Host[], uid: string): Host {
  const [first, ...others] = hosts;
  if (!first) throw new RangeError("pickTurnHost needs at least one host");
  // One host (the common case) costs nothing: no hashing on the hot path.
  let best = first;
  let bestScore = others.length === 0 ? 0 : score(first.host, uid);
  for (const candidate of others) {
    const candidateScore = score(candidate.host, uid);
    // Ties (1 in 2^32) go to the smaller name, so the pick never depends on the list's order.
    if (candidateScore > bestScore || (candidateScore === bestScore && candidate.host < best.host)) {
      best = candidate;
      bestScore = candidateScore;
    }
  }
  return best;
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
