import { strict as assert } from "node:assert";
import { TurnErrorResponse } from "../../../turn/src/client";
import { failureReason, formatResult, probeTargets, prometheusText, type ProbeTarget } from "../../../turn/src/probe";

const udp: ProbeTarget = { uri: "turn:turn.example.com:3478?transport=udp", server: { transport: "udp", host: "turn.example.com", port: 3478 } };
const tls: ProbeTarget = { uri: "turns:turn.example.com:5349?transport=tcp", server: { transport: "tls", host: "turn.example.com", port: 5349 } };

describe("probeTargets", () => {
  it("maps turn:/turns: URIs to transports, with the RFC 7065 default ports", () => {
    assert.deepEqual(
      probeTargets(["turn:turn.example.com:3478?transport=udp", "turn:turn.example.com?transport=tcp", "turns:turn.example.com?transport=tcp", "turn:[2001:db8::1]:3479", "turns:203.0.113.10:5350"]),
      {
        ok: true,
        targets: [
          { uri: "turn:turn.example.com:3478?transport=udp", server: { transport: "udp", host: "turn.example.com", port: 3478 } },
          { uri: "turn:turn.example.com?transport=tcp", server: { transport: "tcp", host: "turn.example.com", port: 3478 } },
          { uri: "turns:turn.example.com?transport=tcp", server: { transport: "tls", host: "turn.example.com", port: 5349 } },
          { uri: "turn:[2001:db8::1]:3479", server: { transport: "udp", host: "2001:db8::1", port: 3479 } },
          { uri: "turns:203.0.113.10:5350", server: { transport: "tls", host: "203.0.113.10", port: 5350 } },
        ],
      },
    );
  });

  it("refuses what the function would refuse in TURN_URIS, with the same sentences", () => {
    assert.deepEqual(probeTargets(["stun:turn.example.com", "turns:turn.example.com?transport=udp"]), {
      ok: false,
      problems: [
        'entry 1 ("stun:turn.example.com") is not a turn: or turns: URI such as turn:host:3478?transport=udp',
        'entry 2 ("turns:turn.example.com?transport=udp") asks for TURN over DTLS (turns: with transport=udp), which browsers do not support; use transport=tcp',
      ],
    });
    assert.deepEqual(probeTargets([]), { ok: false, problems: ["give at least one URI, e.g. turn:turn.example.com:3478?transport=udp"] });
  });
});

describe("failureReason", () => {
  const cases: Array<[string, unknown, ProbeTarget, string]> = [
    ["a 401", new TurnErrorResponse("Allocate", 401, "Unauthorized"), udp, "Allocate refused: 401 Unauthorized — the server does not accept credentials from this secret (wrong or rotated shared secret, or a clock far off)"],
    ["a 486", new TurnErrorResponse("Allocate", 486, "Allocation Quota Reached"), udp, "Allocate refused: 486 Allocation Quota Reached"],
    ["a refused TCP connection", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { ...tls, server: { ...tls.server, transport: "tcp" } }, "connection refused by turn.example.com:5349 (is coturn running, and the port open in the firewall?)"],
    ["an ICMP port unreachable", Object.assign(new Error("recv ECONNREFUSED"), { code: "ECONNREFUSED" }), udp, "port unreachable: nothing listens on turn.example.com:3478 over UDP (is coturn running?)"],
    ["silence over UDP", new Error("no answer to Allocate within 2000 ms"), udp, "no answer from turn.example.com:3478 over UDP within 2000 ms (coturn down, or the port blocked by a firewall?)"],
    ["an unknown host", Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), udp, "cannot resolve turn.example.com"],
    ["an untrusted certificate", Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), tls, "TLS handshake with turn.example.com:5349 failed: self-signed certificate"],
  ];
  for (const [name, error, target, reason] of cases) {
    it(`explains ${name}`, () => assert.equal(failureReason(error, target, 2000), reason));
  }
});

describe("probe output", () => {
  const ok = { uri: udp.uri, ok: true as const, relayed: { family: 4 as const, address: "203.0.113.10", port: 50000 }, rttMs: 12.345 };
  const failed = { uri: tls.uri, ok: false as const, reason: "connection refused" };

  it("prints one line per URI", () => {
    assert.equal(formatResult(ok), "ok    turn:turn.example.com:3478?transport=udp  relayed 203.0.113.10:50000  rtt 12.3 ms");
    assert.equal(formatResult({ ...ok, relayed: { family: 6, address: "2001:db8::5", port: 50001 } }), "ok    turn:turn.example.com:3478?transport=udp  relayed [2001:db8::5]:50001  rtt 12.3 ms");
    assert.equal(formatResult(failed), "FAIL  turns:turn.example.com:5349?transport=tcp  connection refused");
  });

  it("writes Prometheus text format for node_exporter's textfile collector", () => {
    assert.equal(
      prometheusText([ok, failed, { ...failed, uri: 'turn:"odd"\\uri' }], Date.UTC(2026, 10, 24)),
      [
        "# HELP turn_probe_success Whether a TURN Allocate with a freshly minted credential succeeded on the URI.",
        "# TYPE turn_probe_success gauge",
        'turn_probe_success{uri="turn:turn.example.com:3478?transport=udp"} 1',
        'turn_probe_success{uri="turns:turn.example.com:5349?transport=tcp"} 0',
        'turn_probe_success{uri="turn:\\"odd\\"\\\\uri"} 0',
        "# HELP turn_probe_rtt_seconds Round-trip time of the authenticated Allocate request.",
        "# TYPE turn_probe_rtt_seconds gauge",
        'turn_probe_rtt_seconds{uri="turn:turn.example.com:3478?transport=udp"} 0.012345',
        "# HELP turn_probe_last_run_timestamp_seconds When the probe last ran.",
        "# TYPE turn_probe_last_run_timestamp_seconds gauge",
        "turn_probe_last_run_timestamp_seconds 1795478400",
        "",
      ].join("\n"),
    );
  });
});
