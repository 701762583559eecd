import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { crc32 } from "node:zlib";

// RFC 5389 §6: every message since RFC 5389 carries this cookie; the XOR address encodings use it.
const MAGIC_COOKIE = 0x2112a442;
const HEADER_LENGTH = 20;
const FINGERPRINT_XOR = 0x5354554e;
const INTEGRITY_LENGTH = 20;

/** STUN/TURN methods this kit speaks (RFC 5389 Binding; RFC 5766 the rest). */
export const StunMethod = Object.freeze({
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
});

/** STUN message classes (RFC 5389 §6). */
export const StunClass = Object.freeze({ Request: 0b00, Indication: 0b01, Success: 0b10, Error: 0b11 });

/** Attribute types used by the kit (RFC 5389 §15, RFC 5766 §14, RFC 6156 §4.1.1). */
export const StunAttribute = Object.freeze({
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  Software: 0x8022,
  Fingerprint: 0x8028,
});

/** One attribute as it travels: its type and raw value (without padding). */
export interface Attribute {
  type: number;
  value: Buffer;
}

/** A STUN message: method, class, 12-byte transaction id and attributes in wire order. */
export interface StunMessage {
  method: number;
  cls: number;
  transactionId: Buffer;
  attributes: Attribute[];
}

/** A transport address as XOR-*-ADDRESS attributes carry it. */
export interface TransportAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

/** Raised when bytes are not a well-formed STUN message. */
export class StunDecodeError extends Error {
  override name = "StunDecodeError";
}

/** A fresh random 96-bit transaction id (RFC 5389 §6: uniformly random). */
export function newTransactionId(): Buffer {
  return randomBytes(12);
}

/**
 * Encodes a message. With `integrityKey` a MESSAGE-INTEGRITY attribute is appended (RFC 5389
 * §15.4), then with `fingerprint` a FINGERPRINT (§15.5), each computed over what precedes it.
 */
export function encodeMessage(message: StunMessage, options: { integrityKey?: Buffer; fingerprint?: boolean } = {}): Buffer {
  let body = Buffer.concat(message.attributes.map(encodeAttribute));
  const header = (bodyLength: number): Buffer => {
    const head = Buffer.alloc(HEADER_LENGTH);
    head.writeUInt16BE(messageType(message.method, message.cls), 0);
    head.writeUInt16BE(bodyLength, 2);
    head.writeUInt32BE(MAGIC_COOKIE, 4);
    message.transactionId.copy(head, 8);
    return head;
  };
  if (options.integrityKey) {
    // The length in the hashed header already counts the MESSAGE-INTEGRITY attribute itself.
    const hashed = Buffer.concat([header(body.length + 4 + INTEGRITY_LENGTH), body]);
    const mac = createHmac("sha1", options.integrityKey).update(hashed).digest();
    body = Buffer.concat([body, encodeAttribute({ type: StunAttribute.MessageIntegrity, value: mac })]);
  }
  if (options.fingerprint) {
    const covered = Buffer.concat([header(body.length + 8), body]);
    const value = Buffer.alloc(4);
    value.writeUInt32BE((crc32(covered) ^ FINGERPRINT_XOR) >>> 0);
    body = Buffer.concat([body, encodeAttribute({ type: StunAttribute.Fingerprint, value })]);
  }
  return Buffer.concat([header(body.length), body]);
}

/** Decodes one complete message; throws `StunDecodeError` for anything that is not one. */
export function decodeMessage(bytes: Buffer): StunMessage {
  if (bytes.length < HEADER_LENGTH) throw new StunDecodeError(`${bytes.length} bytes are too few for a STUN header`);
  const type = bytes.readUInt16BE(0);
  if ((type & 0xc000) !== 0) throw new StunDecodeError("the first two bits of a STUN message must be zero");
  if (bytes.readUInt32BE(4) !== MAGIC_COOKIE) throw new StunDecodeError("the magic cookie is missing");
  const length = bytes.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER_LENGTH + length !== bytes.length) {
    throw new StunDecodeError(`the header announces ${length} body bytes but ${bytes.length - HEADER_LENGTH} arrived`);
  }
  const attributes: Attribute[] = [];
  let offset = HEADER_LENGTH;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new StunDecodeError("an attribute header is cut off");
    const attributeType = bytes.readUInt16BE(offset);
    const valueLength = bytes.readUInt16BE(offset + 2);
    const end = offset + 4 + valueLength;
    if (end > bytes.length) throw new StunDecodeError(`attribute 0x${attributeType.toString(16)} runs past the message`);
    attributes.push({ type: attributeType, value: Buffer.from(bytes.subarray(offset + 4, end)) });
    offset = end + padding(valueLength);
  }
  return {
    method: (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2),
    cls: ((type & 0x0010) >> 4) | ((type & 0x0100) >> 7),
    transactionId: Buffer.from(bytes.subarray(8, HEADER_LENGTH)),
    attributes,
  };
}

/** Checks the MESSAGE-INTEGRITY of a received message (raw bytes) against `key`. */
export function hasValidIntegrity(bytes: Buffer, key: Buffer): boolean {
  const offset = attributeOffset(bytes, StunAttribute.MessageIntegrity);
  if (offset === undefined || bytes.readUInt16BE(offset + 2) !== INTEGRITY_LENGTH) return false;
  const hashed = Buffer.from(bytes.subarray(0, offset));
  hashed.writeUInt16BE(offset + 4 + INTEGRITY_LENGTH - HEADER_LENGTH, 2);
  const expected = createHmac("sha1", key).update(hashed).digest();
  return timingSafeEqual(expected, bytes.subarray(offset + 4, offset + 4 + INTEGRITY_LENGTH));
}

/** Checks the FINGERPRINT of a received message (raw bytes). */
export function hasValidFingerprint(bytes: Buffer): boolean {
  const offset = attributeOffset(bytes, StunAttribute.Fingerprint);
  if (offset === undefined || offset + 8 !== bytes.length) return false;
  return ((crc32(bytes.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0) === bytes.readUInt32BE(offset + 4);
}

/** The long-term credential key of RFC 5389 §15.4: MD5(username ":" realm ":" password). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash("md5").update(`${username}:${realm}:${password}`, "utf8").digest();
}

/** The first attribute of `type`, if present. */
export function findAttribute(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((attribute) => attribute.type === type)?.value;
}

/** A UTF-8 text attribute (USERNAME, REALM, NONCE, SOFTWARE). */
export function textAttribute(type: number, text: string): Attribute {
  return { type, value: Buffer.from(text, "utf8") };
}

/** A 32-bit unsigned attribute (LIFETIME). */
export function uint32Attribute(type: number, value: number): Attribute {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return { type, value: buffer };
}

/** REQUESTED-TRANSPORT: UDP (protocol 17) is the only one RFC 5766 allocates. */
export function requestedTransportUdp(): Attribute {
  return { type: StunAttribute.RequestedTransport, value: Buffer.from([17, 0, 0, 0]) };
}

/** REQUESTED-ADDRESS-FAMILY (RFC 6156): 0x01 IPv4, 0x02 IPv6. */
export function requestedAddressFamily(family: 4 | 6): Attribute {
  return { type: StunAttribute.RequestedAddressFamily, value: Buffer.from([family === 4 ? 1 : 2, 0, 0, 0]) };
}

/** CHANNEL-NUMBER: the channel (0x4000–0x7FFE) followed by two reserved bytes. */
export function channelNumber(channel: number): Attribute {
  const value = Buffer.alloc(4);
  value.writeUInt16BE(channel);
  return { type: StunAttribute.ChannelNumber, value };
}

/** The ERROR-CODE of an error response (RFC 5389 §15.6). */
export function errorCode(message: StunMessage): { code: number; reason: string } | undefined {
  const value = findAttribute(message, StunAttribute.ErrorCode);
  if (!value || value.length < 4) return undefined;
  return { code: (value[2] & 0x07) * 100 + value[3], reason: value.subarray(4).toString("utf8") };
}

/** Encodes an XOR-*-ADDRESS value (RFC 5389 §15.2); IPv6 is XORed with cookie + transaction id. */
export function xorAddressAttribute(type: number, address: string, port: number, transactionId: Buffer): Attribute {
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) throw new Error(`${JSON.stringify(address)} is not an IP address`);
  const raw = family === 4 ? ipv4Bytes(address) : ipv6Bytes(address);
  const value = Buffer.alloc(4 + raw.length);
  value[1] = family === 4 ? 0x01 : 0x02;
  value.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
  xorInto(raw, xorMask(transactionId)).copy(value, 4);
  return { type, value };
}

/** Decodes an XOR-*-ADDRESS value. */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): TransportAddress {
  const family = value[1] === 0x01 ? 4 : value[1] === 0x02 ? 6 : undefined;
  const expected = family === 4 ? 8 : 20;
  if (family === undefined || value.length !== expected) throw new StunDecodeError("malformed XOR address attribute");
  const raw = xorInto(Buffer.from(value.subarray(4)), xorMask(transactionId));
  return { family, address: family === 4 ? [...raw].join(".") : formatIPv6(raw), port: value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16) };
}

function xorMask(transactionId: Buffer): Buffer {
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE);
  transactionId.copy(mask, 4);
  return mask;
}

function xorInto(bytes: Buffer, mask: Buffer): Buffer {
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = bytes[index] ^ mask[index];
  return bytes;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split(".").map(Number));
}

/** 16 bytes of an IPv6 literal, including `::` and a trailing dotted IPv4 part (`::ffff:1.2.3.4`). */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = ipv4Bytes(dotted[1]);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const groups = (part: string | undefined): string[] => (part ? part.split(":") : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

function formatIPv6(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2).toString(16));
  // The WHATWG URL parser prints the canonical RFC 5952 form.
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

function encodeAttribute(attribute: Attribute): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(attribute.type, 0);
  head.writeUInt16BE(attribute.value.length, 2);
  return Buffer.concat([head, attribute.value, Buffer.alloc(padding(attribute.value.length))]);
}

function attributeOffset(bytes: Buffer, type: number): number | undefined {
  let offset = HEADER_LENGTH;
  while (offset + 4 <= bytes.length) {
    if (bytes.readUInt16BE(offset) === type) return offset;
    offset += 4 + bytes.readUInt16BE(offset + 2) + padding(bytes.readUInt16BE(offset + 2));
  }
  return undefined;
}

function messageType(method: number, cls: number): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 0b01) << 4) | ((cls & 0b10) << 7);
}

function padding(length: number): number {
  return (4 - (length % 4)) % 4;
}
