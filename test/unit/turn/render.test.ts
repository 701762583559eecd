import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { BlockList, isIPv4 } from "node:net";
import { join } from "node:path";
import { renderTurnConfig, RenderError } from "@webrtc-lite/turn/render";
import { DEFAULT_MAX_BPS, settingsFromEnvironment, type TurnSettings } from "@webrtc-lite/turn/settings";

const TEMPLATE = readFileSync(join(__dirname, "..", "..", "..", "turn", "turnserver.conf.template"), "utf8");
const SECRET = "a".repeat(64);
const PREVIOUS = "b".repeat(64);

function settings(overrides: Partial<TurnSettings> = {}): TurnSettings {
  const check = settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com" });
  if (!check.ok) throw new Error(check.problems.join("; "));
  return { ...check.settings, ...overrides };
}

const optionLines = (config: string, option: string): string[] =>
  config
    .split("\n")
    .filter((line) => line.startsWith(`${option}=`) || line === option)
    .map((line) => line.slice(option.length + 1));

/**
 * The template's denied-peer-ip ranges as one BlockList per family, to check coverage without
 * any traffic. (One list per family: Node would match IPv4 addresses against ::ffff: rules.)
 */
function deniedRanges(config: string): Record<"ipv4" | "ipv6", BlockList> {
  const lists = { ipv4: new BlockList(), ipv6: new BlockList() };
  for (const range of optionLines(config, "denied-peer-ip")) {
    const [start = "", end = start] = range.split("-");
    const family = isIPv4(start) ? "ipv4" : "ipv6";
    if (start === end) lists[family].addAddress(start, family);
    else lists[family].addRange(start, end, family);
  }
  return lists;
}

describe("renderTurnConfig (the kit's template)", () => {
  const config = renderTurnConfig(TEMPLATE, settings(), [SECRET, PREVIOUS]);

  it("fills every placeholder", () => assert.doesNotMatch(config, /\{\{|\}\}/));

  it("has the ports, the realm, TLS paths and the hardening lines the issue asks for", () => {
    const expected: Array<[string, string[]]> = [
      ["listening-port", ["3478"]],
      ["alt-listening-port", ["3479"]],
      ["tls-listening-port", ["443"]],
      ["alt-tls-listening-port", ["5350"]],
      ["aux-server", ["0.0.0.0:5349"]],
      ["min-port", ["49152"]],
      ["max-port", ["65535"]],
      ["realm", ["turn.example.com"]],
      ["cert", ["/etc/letsencrypt/live/turn.example.com/fullchain.pem"]],
      ["pkey", ["/etc/letsencrypt/live/turn.example.com/privkey.pem"]],
      ["static-auth-secret", [SECRET, PREVIOUS]],
      ["user-quota", ["12"]],
      ["total-quota", ["300"]],
      ["max-bps", ["375000"]],
      ["stale-nonce", ["600"]],
      ["log-file", ["stdout"]],
    ];
    for (const [option, values] of expected) assert.deepEqual(optionLines(config, option), values, option);
    for (const flag of ["use-auth-secret", "fingerprint", "no-cli", "no-multicast-peers", "no-tcp-relay", "no-dtls", "no-tlsv1", "no-tlsv1_1", "no-software-attribute", "verbose", "new-log-timestamp"]) {
      assert.ok(config.split("\n").includes(flag), `missing ${flag}`);
    }
  });

  it("never allows loopback peers or sets allowed-peer-ip (only tests add those)", () => {
    assert.doesNotMatch(config, /^allow-loopback-peers|^allowed-peer-ip/m);
  });

  it("caps a session at 3 Mbps", () => assert.equal((DEFAULT_MAX_BPS * 8) / 1_000_000, 3));

  const denied = [
    "127.0.0.1", "0.0.0.0", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.254",
    "169.254.169.254", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1",
  ];
  const deniedV6 = [
    "::1", "::7f00:1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0:7f00:1", "64:ff9b::a00:1",
    "64:ff9b:1::1", "100::1", "2001::1", "2001:db8::1", "2002:a00:1::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
  ];
  const lists = deniedRanges(config);
  for (const address of denied) it(`denies the IPv4 peer ${address}`, () => assert.equal(lists.ipv4.check(address, "ipv4"), true));
  for (const address of deniedV6) it(`denies the IPv6 peer ${address}`, () => assert.equal(lists.ipv6.check(address, "ipv6"), true));
  for (const [address, family] of [["8.8.8.8", "ipv4"], ["1.1.1.1", "ipv4"], ["2600::1", "ipv6"], ["2a00:1450::1", "ipv6"]] as const) {
    it(`does not deny the public peer ${address}`, () => assert.equal(lists[family].check(address, family), false));
  }

  it("starts no IPv6 range at \"::\", which makes coturn 4.6.1 deny every peer", () => {
    assert.deepEqual(optionLines(config, "denied-peer-ip").filter((range) => range === "::" || range.startsWith("::-")), []);
  });

  it("renders 1:1 NAT as listening-ip, relay-ip and external-ip public/private", () => {
    const nat = renderTurnConfig(TEMPLATE, settings({ listeningIps: ["10.0.0.5"], relayIps: ["10.0.0.5"], externalIp: { public: "203.0.113.10", private: "10.0.0.5" } }), [SECRET]);
    assert.deepEqual(optionLines(nat, "listening-ip"), ["10.0.0.5"]);
    assert.deepEqual(optionLines(nat, "relay-ip"), ["10.0.0.5"]);
    assert.deepEqual(optionLines(nat, "external-ip"), ["203.0.113.10/10.0.0.5"]);
    assert.deepEqual(optionLines(config, "external-ip"), []);
    // The second TLS port listens where the others do.
    assert.deepEqual(optionLines(nat, "aux-server"), ["10.0.0.5:5349"]);
  });

  it("serves TLS on 5349 through an aux-server per listening address (IPv6 bracketed), and on one port when it is 5349", () => {
    const both = renderTurnConfig(TEMPLATE, settings({ listeningIps: ["127.0.0.1", "::1"] }), [SECRET]);
    assert.deepEqual(optionLines(both, "aux-server"), ["127.0.0.1:5349", "[::1]:5349"]);
    const only5349 = settings();
    const single = renderTurnConfig(TEMPLATE, { ...only5349, ports: { ...only5349.ports, tls: 5349 } }, [SECRET]);
    assert.deepEqual([optionLines(single, "tls-listening-port"), optionLines(single, "aux-server")], [["5349"], []]);
  });

  it("renders the Prometheus exporter only when the coturn build has it", () => {
    assert.ok(renderTurnConfig(TEMPLATE, settings({ prometheus: true }), [SECRET]).split("\n").includes("prometheus"));
    assert.equal(config.split("\n").includes("prometheus"), false);
  });

  const refused: Array<[string, string[], string]> = [
    ["no secret", [], "no shared secret to render: set TURN_SHARED_SECRET or TURN_SECRET_NAME"],
    ["a short secret", ["short-secret"], "TURN_SHARED_SECRET is shorter than 32 characters: generate one with `openssl rand -hex 32`"],
    ["a short previous secret", [SECRET, "short-previous"], "the previous shared secret is unusable: TURN_SHARED_SECRET is shorter than 32 characters: generate one with `openssl rand -hex 32`"],
    ["the same secret twice", [SECRET, SECRET], "the current and the previous shared secret are the same"],
    ["a secret with a newline", [`${SECRET}\nallow-loopback-peers`], "TURN_SHARED_SECRET contains whitespace, control or non-ASCII characters, which a coturn config line cannot carry"],
  ];
  for (const [name, secrets, message] of refused) {
    it(`refuses ${name}, without quoting it`, () => {
      assert.throws(() => renderTurnConfig(TEMPLATE, settings(), secrets), (error: unknown) => {
        assert.ok(error instanceof RenderError);
        assert.equal(error.message, message);
        return secrets.every((secret) => !error.message.includes(secret));
      });
    });
  }

  it("refuses a template placeholder it does not know", () => {
    assert.throws(() => renderTurnConfig(`${TEMPLATE}\n{{surprise}}\n`, settings(), [SECRET]), /^RenderError: the template has placeholders the renderer does not know: \{\{surprise\}\}$/);
  });
});
