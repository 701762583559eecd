// Terraform's cidrhost() and cidrnetmask() for IPv4, which is all infra/terraform uses.

/** Thrown where the evaluator would have to guess at Terraform's behaviour; can()/try() let it through. */
export class Unsupported extends Error {
  override name = "Unsupported";
}

function parseCidr(prefix: string): { network: number; bits: number } {
  if (prefix.includes(":")) throw new Unsupported(`IPv6 prefix ${prefix} (cidrhost() takes it; this evaluator does not)`);
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(prefix);
  if (!match) throw new Error(`invalid CIDR address: ${prefix}`);
  const [octets, bits] = [match.slice(1, 5), Number(match[5])];
  // Terraform reads "010" as 10 (it kept Go 1.16's parser); Go now refuses it. Neither guess.
  if (octets.some((octet) => octet.length > 1 && octet.startsWith("0"))) throw new Unsupported(`leading zero in ${prefix}`);
  if (octets.some((octet) => Number(octet) > 255) || bits > 32) throw new Error(`invalid CIDR address: ${prefix}`);
  const address = octets.reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - bits);
  return { network: address - (address % size), bits };
}

function dotted(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/** cidrnetmask("10.0.0.0/16") = "255.255.0.0"; an invalid prefix throws. */
export function cidrnetmask(prefix: string): string {
  // Terraform's cidrnetmask() refuses IPv6 prefixes itself.
  if (prefix.includes(":")) throw new Error(`only IPv4 networks have a netmask: ${prefix}`);
  const { bits } = parseCidr(prefix);
  return dotted(2 ** 32 - 2 ** (32 - bits));
}

/** cidrhost("10.0.0.0/24", 10) = "10.0.0.10": the host number within the prefix's network. */
export function cidrhost(prefix: string, host: unknown): string {
  const { network, bits } = parseCidr(prefix);
  if (typeof host !== "number" || !Number.isInteger(host)) throw new Error(`host number ${JSON.stringify(host)} is not a whole number`);
  if (host < 0) throw new Unsupported("negative host numbers");
  if (host >= 2 ** (32 - bits)) throw new Error(`prefix of ${bits} bits cannot accommodate a host numbered ${host}`);
  return dotted(network + host);
}
