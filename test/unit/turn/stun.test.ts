import { strict as assert } from "node:assert";
import { frameLength } from "@webrtc-lite/turn/client";
import {
  decodeMessage,
  decodeXorAddress,
  encodeMessage,
  errorCode,
  findAttribute,
  hasValidFingerprint,
  hasValidIntegrity,
  longTermKey,
  StunAttribute,
  StunClass,
  StunDecodeError,
  StunMethod,
  xorAddressAttribute,
} from "@webrtc-lite/turn/stun";

// Test vectors from RFC 5769 (STUN test vectors), sections 2.2–2.4.
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");
const SHORT_TERM_PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt";
const IPV4_RESPONSE = hex(`
  0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220
  00200008 0001a147 e112a643 00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
  80280004 c07d4c96`);
const IPV6_RESPONSE = hex(`
  01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220
  00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9 00080014 a382954e 4be67bf1
  1784c97c 8292c275 bfe3ed41 80280004 c8fb0b4c`);
const LONG_TERM_REQUEST = hex(`
  00010060 2112a442 78ad3433 c6ad72c0 29da412e 00060012 e3839ee3 8388e383 aae38383
  e382afe3 82b90000 0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679
  36347341 0014000b 6578616d 706c652e 6f726700 00080014 f6702465 6dd64a3e 02b8e071
  2e85c9a2 8ca89666`);

describe("STUN codec (RFC 5389) against the RFC 5769 test vectors", () => {
  it("decodes the IPv4 response: class, method, XOR-MAPPED-ADDRESS 192.0.2.1:32853", () => {
    const message = decodeMessage(IPV4_RESPONSE);
    assert.deepEqual([message.method, message.cls], [StunMethod.Binding, StunClass.Success]);
    assert.equal(message.transactionId.toString("hex"), "b7e7a701bc34d686fa87dfae");
    const mapped = decodeXorAddress(findAttribute(message, StunAttribute.XorMappedAddress)!, message.transactionId);
    assert.deepEqual(mapped, { family: 4, address: "192.0.2.1", port: 32853 });
    assert.equal(findAttribute(message, StunAttribute.Software)?.toString("utf8"), "test vector");
  });

  it("decodes the IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853", () => {
    const message = decodeMessage(IPV6_RESPONSE);
    const mapped = decodeXorAddress(findAttribute(message, StunAttribute.XorMappedAddress)!, message.transactionId);
    assert.deepEqual(mapped, { family: 6, address: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853 });
  });

  it("verifies MESSAGE-INTEGRITY (short-term key) and FINGERPRINT of both responses", () => {
    for (const vector of [IPV4_RESPONSE, IPV6_RESPONSE]) {
      assert.equal(hasValidIntegrity(vector, Buffer.from(SHORT_TERM_PASSWORD)), true);
      assert.equal(hasValidIntegrity(vector, Buffer.from("wrong password")), false);
      assert.equal(hasValidFingerprint(vector), true);
    }
  });

  it("rejects a FINGERPRINT or MESSAGE-INTEGRITY after one flipped bit", () => {
    const tampered = Buffer.from(IPV4_RESPONSE);
    tampered[30] = tampered[30] ^ 0x01; // inside SOFTWARE
    assert.equal(hasValidFingerprint(tampered), false);
    assert.equal(hasValidIntegrity(tampered, Buffer.from(SHORT_TERM_PASSWORD)), false);
  });

  it("derives the long-term key MD5(username:realm:password) and verifies the long-term request", () => {
    const key = longTermKey("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9", "example.org", "TheMatrIX");
    assert.equal(hasValidIntegrity(LONG_TERM_REQUEST, key), true);
  });

  it("re-encodes the long-term request byte for byte, MESSAGE-INTEGRITY included", () => {
    const decoded = decodeMessage(LONG_TERM_REQUEST);
    const key = longTermKey("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9", "example.org", "TheMatrIX");
    const unsigned = { ...decoded, attributes: decoded.attributes.filter((attribute) => attribute.type !== StunAttribute.MessageIntegrity) };
    assert.equal(encodeMessage(unsigned, { integrityKey: key }).toString("hex"), LONG_TERM_REQUEST.toString("hex"));
  });

  it("encodes what it decodes: integrity and fingerprint of its own messages verify", () => {
    const transactionId = Buffer.alloc(12, 7);
    const bytes = encodeMessage(
      { method: StunMethod.CreatePermission, cls: StunClass.Request, transactionId, attributes: [xorAddressAttribute(StunAttribute.XorPeerAddress, "::ffff:127.0.0.1", 0, transactionId)] },
      { integrityKey: Buffer.from("key"), fingerprint: true },
    );
    assert.equal(bytes.readUInt16BE(0), 0x0008);
    assert.equal(hasValidIntegrity(bytes, Buffer.from("key")), true);
    assert.equal(hasValidFingerprint(bytes), true);
    const peer = decodeXorAddress(findAttribute(decodeMessage(bytes), StunAttribute.XorPeerAddress)!, transactionId);
    assert.deepEqual(peer, { family: 6, address: "::ffff:7f00:1", port: 0 });
  });

  it("maps method and class to the RFC 5389 message type and back", () => {
    const types: Array<[number, number, number]> = [
      [StunMethod.Allocate, StunClass.Request, 0x0003],
      [StunMethod.Allocate, StunClass.Success, 0x0103],
      [StunMethod.Allocate, StunClass.Error, 0x0113],
      [StunMethod.CreatePermission, StunClass.Error, 0x0118],
      [StunMethod.ChannelBind, StunClass.Request, 0x0009],
      [StunMethod.Refresh, StunClass.Success, 0x0104],
    ];
    for (const [method, cls, type] of types) {
      const bytes = encodeMessage({ method, cls, transactionId: Buffer.alloc(12), attributes: [] });
      assert.equal(bytes.readUInt16BE(0), type);
      assert.deepEqual([decodeMessage(bytes).method, decodeMessage(bytes).cls], [method, cls]);
    }
  });

  it("reads ERROR-CODE 403 Forbidden IP", () => {
    const value = Buffer.concat([Buffer.from([0, 0, 4, 3]), Buffer.from("Forbidden IP")]);
    const message = { method: StunMethod.CreatePermission, cls: StunClass.Error, transactionId: Buffer.alloc(12), attributes: [{ type: StunAttribute.ErrorCode, value }] };
    assert.deepEqual(errorCode(decodeMessage(encodeMessage(message))), { code: 403, reason: "Forbidden IP" });
  });

  const malformed: Array<[string, Buffer, RegExp]> = [
    ["too short", Buffer.alloc(10), /^10 bytes are too few for a STUN header$/],
    ["without the magic cookie", Buffer.concat([IPV4_RESPONSE.subarray(0, 4), Buffer.alloc(4), IPV4_RESPONSE.subarray(8)]), /^the magic cookie is missing$/],
    ["cut short", IPV4_RESPONSE.subarray(0, 40), /^the header announces 60 body bytes but 20 arrived$/],
    ["that is ChannelData", Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 0x10]), Buffer.alloc(16)]), /^the first two bits of a STUN message must be zero$/],
  ];
  for (const [name, bytes, pattern] of malformed) {
    it(`refuses a message ${name}`, () => {
      assert.throws(() => decodeMessage(bytes), (error: unknown) => error instanceof StunDecodeError && pattern.test(error.message));
    });
  }

  it("frames a TCP stream: STUN by its header length, ChannelData padded to 4 bytes", () => {
    assert.equal(frameLength(IPV4_RESPONSE), 80);
    assert.equal(frameLength(Buffer.from([0x40, 0x00, 0x00, 0x05])), 12);
    assert.equal(frameLength(Buffer.from([0x00, 0x01])), undefined);
  });
});
