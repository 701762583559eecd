// The address arithmetic of a test's network namespaces (netns.ts): which /24 of the range is
// free of this machine's routes, and the host addresses in one.

/** The /16 the namespaces' /24s are taken from; routes on this machine must not already cover the one picked. */
const SUBNET_BASE = [10, 231] as const;
/** That /16, written out. */
export const SUBNET_RANGE = `${SUBNET_BASE.join(".")}.0.0/16`;

/** An IPv4 prefix as numbers: `base` the network address as an unsigned 32-bit integer. */
interface Prefix {
  base: number;
  length: number;
}

function toNumber(address: string): number {
  return address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

function parsePrefix(cidr: string): Prefix | undefined {
  const [address, length = "32"] = cidr.split("/");
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address ?? "")) return undefined;
  const bits = Number(length);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (toNumber(address) & mask) >>> 0, length: bits };
}

/** Whether two IPv4 prefixes share an address. */
export function prefixesOverlap(a: string, b: string): boolean {
  const left = parsePrefix(a);
  const right = parsePrefix(b);
  if (!left || !right) return false;
  const length = Math.min(left.length, right.length);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return ((left.base & mask) >>> 0) === ((right.base & mask) >>> 0);
}

/**
 * The /24s of the namespaces' range that no route of this machine covers, other than the
 * default route (every address is under it; a more specific route to the veth wins over it).
 */
export function freeSubnets(routeDestinations: string[]): string[] {
  const specific = routeDestinations.filter((dst) => dst !== "default" && !dst.endsWith("/0"));
  const free: string[] = [];
  for (let third = 0; third < 256; third += 1) {
    const subnet = `${SUBNET_BASE.join(".")}.${third}.0/24`;
    if (!specific.some((dst) => prefixesOverlap(dst, subnet))) free.push(subnet);
  }
  return free;
}

/** Host number `host` of a /24 written `a.b.c.0/24`. */
export function hostIn(subnet: string, host: number): string {
  return subnet.replace(/\.0\/24$/, `.${host}`);
}
