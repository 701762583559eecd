import { strict as assert } from "node:assert";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";

// Reference vectors computed independently with
//   printf %s "$username" | openssl dgst -sha1 -hmac "$secret" -binary | base64
const VECTORS = [
  {
    secret: "0123456789abcdef0123456789abcdef",
    username: "1700003600:alice",
    credential: "HUgaepYTXVnvj1Vo97U6+hBbmH4=",
  },
  {
    secret: "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t!",
    username: "1700086400:uid:with:colons",
    credential: "HWOmdFY9TlY0IuR6Kctt4Yzf+Bc=",
  },
  {
    secret: "0123456789abcdef0123456789abcdef",
    username: "1700000060:Zx9QmP2rT8hN4kLw7vYcB3dF6gJ1",
    credential: "1LKY4/yB9k+kljLYrQKg/2kEw8U=",
  },
];

describe("mintTurnCredential", () => {
  for (const vector of VECTORS) {
    it(`matches openssl for ${vector.username}`, () => {
      const [expiry, ...uidParts] = vector.username.split(":");
      const ttl = Number(expiry) - 1_700_000_000;
      const minted = mintTurnCredential(vector.secret, uidParts.join(":"), ttl, 1_700_000_000_000);
      assert.deepEqual(minted, {
        username: vector.username,
        credential: vector.credential,
        expiresAt: Number(expiry),
      });
    });
  }

  it("puts the expiry first and the uid after the first colon", () => {
    const minted = mintTurnCredential("k".repeat(32), "alice", 3600, 1_700_000_000_000);
    assert.equal(minted.username, "1700003600:alice");
  });

  it("floors the current time so the expiry is never later than now + ttl", () => {
    const minted = mintTurnCredential("k".repeat(32), "u", 60, 1_700_000_000_999);
    assert.equal(minted.expiresAt, 1_700_000_060);
  });

  it("gives a different credential for another secret, uid or expiry", () => {
    const base = mintTurnCredential("a".repeat(32), "u", 600, 1_700_000_000_000).credential;
    assert.notEqual(mintTurnCredential("b".repeat(32), "u", 600, 1_700_000_000_000).credential, base);
    assert.notEqual(mintTurnCredential("a".repeat(32), "v", 600, 1_700_000_000_000).credential, base);
    assert.notEqual(mintTurnCredential("a".repeat(32), "u", 601, 1_700_000_000_000).credential, base);
  });

  it("is a 20-byte digest in base64", () => {
    const { credential } = mintTurnCredential("k".repeat(32), "u", 600, 1_700_000_000_000);
    assert.equal(Buffer.from(credential, "base64").length, 20);
  });
});
