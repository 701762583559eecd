import { strict as assert } from "node:assert";
import { resolveTurnSettings } from "#functions/credentials/settings";

const SECRET = "0123456789abcdef0123456789abcdef";

describe("resolveTurnSettings", () => {
  it("checks a good configuration and derives the STUN entry", () => {
    const check = resolveTurnSettings({
      secret: SECRET,
      turnUris: "turn:t.example.com:3478?transport=udp,turns:t.example.com:5349?transport=tcp",
      stunUris: "",
    });
    assert.deepEqual(check, {
      ok: true,
      settings: {
        secret: SECRET,
        hosts: [
          {
            host: "t.example.com",
            turnUris: ["turn:t.example.com:3478?transport=udp", "turns:t.example.com:5349?transport=tcp"],
            stunServer: { urls: ["stun:t.example.com:3478"] },
          },
        ],
      },
    });
  });

  it("has no STUN entry when STUN_URIS is none", () => {
    const check = resolveTurnSettings({ secret: SECRET, turnUris: "turn:t.example.com", stunUris: "none" });
    assert.equal(check.ok && check.settings.hosts[0]?.stunServer, undefined);
  });

  it("splits TURN_URIS into hosts at ';', each with the STUN entry derived from its own URIs", () => {
    const check = resolveTurnSettings({
      secret: SECRET,
      turnUris:
        "turn:a.example.com:3478?transport=udp,turns:a.example.com:5349?transport=tcp;" +
        "turn:B.example.com:3478?transport=udp,turn:b.example.com:3479?transport=tcp;turn:[2001:db8::1]",
      stunUris: "",
    });
    assert.deepEqual(check.ok && check.settings.hosts, [
      {
        host: "a.example.com",
        turnUris: ["turn:a.example.com:3478?transport=udp", "turns:a.example.com:5349?transport=tcp"],
        stunServer: { urls: ["stun:a.example.com:3478"] },
      },
      {
        host: "b.example.com",
        turnUris: ["turn:B.example.com:3478?transport=udp", "turn:b.example.com:3479?transport=tcp"],
        stunServer: { urls: ["stun:B.example.com:3478", "stun:b.example.com:3479"] },
      },
      { host: "[2001:db8::1]", turnUris: ["turn:[2001:db8::1]"], stunServer: { urls: ["stun:[2001:db8::1]"] } },
    ]);
  });

  it("prefixes a host's problem with TURN_URIS", () => {
    const check = resolveTurnSettings({ secret: SECRET, turnUris: "turn:a.example.com;http://b", stunUris: "" });
    assert.deepEqual(check, {
      ok: false,
      problems: ['TURN_URIS host 2 entry 1 ("http://b") is not a turn: or turns: URI such as turn:host:3478?transport=udp'],
    });
  });

  it("gives every host the same explicit STUN_URIS", () => {
    const check = resolveTurnSettings({
      secret: SECRET,
      turnUris: "turn:a.example.com;turn:b.example.com",
      stunUris: "stun:stun.example.com:3478",
    });
    assert.deepEqual(
      check.ok && check.settings.hosts.map((host) => host.stunServer),
      [{ urls: ["stun:stun.example.com:3478"] }, { urls: ["stun:stun.example.com:3478"] }],
    );
  });

  it("collects every problem, prefixed with the param's name, and never the secret", () => {
    const check = resolveTurnSettings({ secret: "short-secret", turnUris: "turn:a:0", stunUris: "http://x" });
    assert.deepEqual(check, {
      ok: false,
      problems: [
        "TURN_SHARED_SECRET is shorter than 32 characters: generate one with `openssl rand -hex 32`",
        'TURN_URIS entry 1 ("turn:a:0") has port "0"; use a number from 1 to 65535',
        'STUN_URIS entry 1 ("http://x") is not a stun: or stuns: URI such as stun:host:3478',
      ],
    });
    assert.ok(!JSON.stringify(check).includes("short-secret"));
  });

  it("reports empty TURN_URIS once, without a doubled prefix", () => {
    const check = resolveTurnSettings({ secret: SECRET, turnUris: "", stunUris: "" });
    assert.deepEqual(check, {
      ok: false,
      problems: ["TURN_URIS is empty: set it to e.g. turn:turn.example.com:3478?transport=udp"],
    });
  });

  it("returns the same checked object for the same input and a new one when it changes", () => {
    const raw = { secret: SECRET, turnUris: "turn:cache.example.com", stunUris: "" };
    const first = resolveTurnSettings(raw);
    assert.equal(resolveTurnSettings({ ...raw }), first);
    const changed = resolveTurnSettings({ ...raw, secret: `${SECRET}x` });
    assert.notEqual(changed, first);
    assert.equal(changed.ok && changed.settings.secret, `${SECRET}x`);
  });
});
