import { strict as assert } from "node:assert";
import { parseTurnUris, resolveStunUris, splitList } from "@webrtc-lite/contract/turn-rest";

describe("splitList", () => {
  it("trims entries and drops empty ones", () =>
    assert.deepEqual(splitList(" a , ,b,, c "), ["a", "b", "c"]));
});

describe("parseTurnUris", () => {
  it("accepts several servers and transports", () => {
    const raw =
      "turn:turn.example.com:3478?transport=udp, turn:turn.example.com:3478?transport=tcp," +
      "turns:turn.example.com:5349?transport=tcp,turn:eu.turn.example.com,turn:[2001:db8::1]:3478,turn:198.51.100.7";
    assert.deepEqual(parseTurnUris(raw), {
      ok: true,
      uris: [
        "turn:turn.example.com:3478?transport=udp",
        "turn:turn.example.com:3478?transport=tcp",
        "turns:turn.example.com:5349?transport=tcp",
        "turn:eu.turn.example.com",
        "turn:[2001:db8::1]:3478",
        "turn:198.51.100.7",
      ],
    });
  });

  it("refuses an empty value with an example", () =>
    assert.deepEqual(parseTurnUris(" , "), {
      ok: false,
      problems: ["TURN_URIS is empty: set it to e.g. turn:turn.example.com:3478?transport=udp"],
    }));

  const refused: Array<[string, string, string]> = [
    ["a stun: URI", "stun:turn.example.com:3478", "is not a turn: or turns: URI such as turn:host:3478?transport=udp"],
    ["an http URL", "https://turn.example.com", "is not a turn: or turns: URI such as turn:host:3478?transport=udp"],
    ["a URI with a path", "turn://turn.example.com:3478", "has a host that is neither an IP address nor a DNS name"],
    ["an unknown transport", "turn:turn.example.com?transport=sctp", 'has transport "sctp"; use transport=udp or transport=tcp'],
    ["turns over udp", "turns:turn.example.com:5349?transport=udp", "asks for TURN over DTLS (turns: with transport=udp), which browsers do not support; use transport=tcp"],
    ["port 0", "turn:turn.example.com:0", 'has port "0"; use a number from 1 to 65535'],
    ["port 65536", "turn:turn.example.com:65536", 'has port "65536"; use a number from 1 to 65535'],
    ["a named port", "turn:turn.example.com:turn", 'has port "turn"; use a number from 1 to 65535'],
    ["no host", "turn::3478", "has no host"],
    ["a bad IPv6 literal", "turn:[2001:db8::zz]:3478", "has a bracketed host that is not an IPv6 address"],
    ["a label starting with a dash", "turn:-bad.example.com", "has a host that is neither an IP address nor a DNS name"],
    ["a host with a space", "turn:bad host", "has a host that is neither an IP address nor a DNS name"],
  ];
  for (const [name, uri, problem] of refused) {
    it(`refuses ${name}`, () =>
      assert.deepEqual(parseTurnUris(`turn:ok.example.com,${uri}`), {
        ok: false,
        problems: [`entry 2 (${JSON.stringify(uri)}) ${problem}`],
      }));
  }

  it("reports every bad entry, numbered", () => {
    const result = parseTurnUris("turn:a.example,turn:b.example:0,stun:c.example");
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.problems.map((p) => p.slice(0, 8)), ["entry 2 ", "entry 3 "]);
  });
});

describe("resolveStunUris", () => {
  const turn = [
    "turn:turn.example.com:3478?transport=udp",
    "turn:turn.example.com:3478?transport=tcp",
    "turns:turn.example.com:5349?transport=tcp",
    "turn:eu.example.com?transport=udp",
    "turn:[2001:db8::1]:3479",
  ];

  it("derives one STUN URI per distinct turn: host and port, skipping turns:", () =>
    assert.deepEqual(resolveStunUris("", turn), {
      ok: true,
      uris: ["stun:turn.example.com:3478", "stun:eu.example.com", "stun:[2001:db8::1]:3479"],
    }));

  it("derives nothing from turns: URIs alone", () =>
    assert.deepEqual(resolveStunUris("", ["turns:t.example.com:5349?transport=tcp"]), { ok: true, uris: [] }));

  it("uses the given STUN URIs instead", () =>
    assert.deepEqual(resolveStunUris("stun:stun.example.com:3478, stuns:stun.example.com:5349", turn), {
      ok: true,
      uris: ["stun:stun.example.com:3478", "stuns:stun.example.com:5349"],
    }));

  it("leaves STUN out for none, in any case", () => assert.deepEqual(resolveStunUris(" None ", turn), { ok: true, uris: [] }));

  it("refuses a turn: URI in the STUN list", () =>
    assert.deepEqual(resolveStunUris("turn:x.example.com", turn), {
      ok: false,
      problems: ['entry 1 ("turn:x.example.com") is not a stun: or stuns: URI such as stun:host:3478'],
    }));

  it("refuses a STUN URI with a transport", () =>
    assert.equal(resolveStunUris("stun:x.example.com:3478?transport=udp", turn).ok, false));
});
