import { strict as assert } from "node:assert";
import { DEFAULT_PORTS, settingsFromEnvironment } from "@webrtc-lite/turn/settings";

describe("settingsFromEnvironment", () => {
  it("needs only TURN_DOMAIN and derives the realm and the Let's Encrypt paths from it", () => {
    assert.deepEqual(settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com" }), {
      ok: true,
      prometheus: "auto",
      settings: {
        realm: "turn.example.com",
        listeningIps: [],
        relayIps: [],
        ports: { ...DEFAULT_PORTS },
        tls: { cert: "/etc/letsencrypt/live/turn.example.com/fullchain.pem", key: "/etc/letsencrypt/live/turn.example.com/privkey.pem" },
        userQuota: 12,
        totalQuota: 300,
        maxBps: 375_000,
        prometheus: false,
        pidfile: "/var/run/turnserver/turnserver.pid",
      },
    });
  });

  it("listens and relays on the private address behind 1:1 NAT and maps the public one onto it", () => {
    const check = settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com", TURN_PUBLIC_IP: "203.0.113.10", TURN_PRIVATE_IP: "10.0.0.5" });
    assert.ok(check.ok);
    assert.deepEqual([check.settings.listeningIps, check.settings.relayIps, check.settings.externalIp], [["10.0.0.5"], ["10.0.0.5"], { public: "203.0.113.10", private: "10.0.0.5" }]);
  });

  it("takes explicit realm, certificate paths, quotas and the Prometheus choice", () => {
    const check = settingsFromEnvironment({
      TURN_DOMAIN: "turn.example.com",
      TURN_REALM: "example.com",
      TURN_TLS_CERT: "/etc/coturn/cert.pem",
      TURN_TLS_KEY: "/etc/coturn/key.pem",
      TURN_USER_QUOTA: "4",
      TURN_TOTAL_QUOTA: "50",
      TURN_MAX_BPS: "125000",
      TURN_PROMETHEUS: "on",
    });
    assert.ok(check.ok);
    assert.deepEqual(
      [check.settings.realm, check.settings.tls, check.settings.userQuota, check.settings.totalQuota, check.settings.maxBps, check.prometheus],
      ["example.com", { cert: "/etc/coturn/cert.pem", key: "/etc/coturn/key.pem" }, 4, 50, 125_000, "on"],
    );
  });

  it("serves TURN over TLS on 443 and 5349 by default, on 5349 alone where a web server owns 443", () => {
    const byDefault = settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com" });
    const webServer = settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com", TURN_TLS_PORT: "5349" });
    assert.ok(byDefault.ok && webServer.ok);
    assert.deepEqual([byDefault.settings.ports.tls, byDefault.settings.ports.registeredTls], [443, 5349]);
    assert.deepEqual([webServer.settings.ports.tls, webServer.settings.ports.registeredTls], [5349, 5349]);
  });

  it("treats empty variables as unset", () => {
    const check = settingsFromEnvironment({ TURN_DOMAIN: "turn.example.com", TURN_PUBLIC_IP: "", TURN_USER_QUOTA: "" });
    assert.ok(check.ok);
    assert.deepEqual([check.settings.externalIp, check.settings.userQuota], [undefined, 12]);
  });

  const refused: Array<[string, Record<string, string>, string[]]> = [
    ["no domain", {}, ["TURN_DOMAIN is not set: set it to the TURN server's DNS name, e.g. turn.example.com"]],
    ["a domain with a space", { TURN_DOMAIN: "turn example.com" }, ["TURN_DOMAIN must be a DNS name such as turn.example.com"]],
    ["a public address that is not one", { TURN_DOMAIN: "t.example.com", TURN_PUBLIC_IP: "turn.example.com" }, ["TURN_PUBLIC_IP must be an IP address such as 203.0.113.10"]],
    ["a private address without a public one", { TURN_DOMAIN: "t.example.com", TURN_PRIVATE_IP: "10.0.0.5" }, ["TURN_PRIVATE_IP is set without TURN_PUBLIC_IP: behind 1:1 NAT set both (public first), otherwise neither"]],
    ["a quota of zero", { TURN_DOMAIN: "t.example.com", TURN_USER_QUOTA: "0" }, ["TURN_USER_QUOTA must be a whole number from 1 to 1000"]],
    ["a fractional bandwidth", { TURN_DOMAIN: "t.example.com", TURN_MAX_BPS: "1.5" }, ["TURN_MAX_BPS must be a whole number from 1 to 125000000"]],
    ["a realm with a #", { TURN_DOMAIN: "t.example.com", TURN_REALM: "a#b" }, ["TURN_REALM must not contain spaces, quotes, # or line breaks"]],
    ["an unknown Prometheus choice", { TURN_DOMAIN: "t.example.com", TURN_PROMETHEUS: "yes" }, ["TURN_PROMETHEUS must be auto, on or off"]],
    [
      "a TLS port other than 443 or 5349",
      { TURN_DOMAIN: "t.example.com", TURN_TLS_PORT: "8443" },
      ["TURN_TLS_PORT must be 443 (the default: TLS on 443 and 5349) or 5349 (a host whose 443 belongs to a web server)"],
    ],
  ];
  for (const [name, env, problems] of refused) {
    it(`refuses ${name} with a sentence that says what to fix`, () => {
      assert.deepEqual(settingsFromEnvironment(env), { ok: false, problems });
    });
  }
});
