import { strict as assert } from "node:assert";
import { TurnErrorResponse } from "@webrtc-lite/turn/client";
import { describeFailure, formatResult, formatSummary, probeTargets, prometheusText, type FailureKind, type ProbeResult, type ProbeTarget } from "@webrtc-lite/turn/probe";

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

describe("describeFailure", () => {
  const cases: Array<[string, unknown, ProbeTarget, FailureKind, string]> = [
    ["a 401", new TurnErrorResponse("Allocate", 401, "Unauthorized"), udp, "unauthorized", "Allocate refused: 401 Unauthorized — the server does not accept credentials from this secret (wrong or rotated shared secret, or a clock far off)"],
    ["a 486", new TurnErrorResponse("Allocate", 486, "Allocation Quota Reached"), udp, "refused", "Allocate refused: 486 Allocation Quota Reached"],
    ["a refused TCP connection", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { ...tls, server: { ...tls.server, transport: "tcp" } }, "unreachable", "connection refused by turn.example.com:5349 (is coturn running, and the port open in the firewall?)"],
    ["an ICMP port unreachable", Object.assign(new Error("recv ECONNREFUSED"), { code: "ECONNREFUSED" }), udp, "unreachable", "port unreachable: nothing listens on turn.example.com:3478 over UDP (is coturn running?)"],
    ["silence over UDP", new Error("no answer to Allocate within 2000 ms"), udp, "timeout", "no answer from turn.example.com:3478 over UDP within 2000 ms (coturn down, or the port blocked by a firewall?)"],
    ["an unknown host", Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), udp, "dns", "cannot resolve turn.example.com"],
    ["an untrusted certificate", Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), tls, "tls", "TLS handshake with turn.example.com:5349 failed: self-signed certificate"],
    ["anything else", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), udp, "error", "socket hang up (ECONNRESET)"],
  ];
  for (const [name, error, target, kind, reason] of cases) {
    it(`explains ${name} (${kind})`, () => assert.deepEqual(describeFailure(error, target, 2000), { kind, reason }));
  }
});

describe("probe output", () => {
  const ok: ProbeResult = { uri: udp.uri, host: "turn.example.com", transport: "udp", ok: true, relayed: { family: 4, address: "203.0.113.10", port: 50000 }, rttMs: 12.345 };
  const tlsOk: ProbeResult = { ...ok, uri: tls.uri, transport: "tls", rttMs: 20, certificateNotAfterMs: Date.UTC(2026, 11, 1, 12, 0, 0, 500) };
  const failed: ProbeResult = { uri: tls.uri, host: "turn.example.com", transport: "tls", ok: false, kind: "unreachable", reason: "connection refused" };
  const otherHost: ProbeResult = { uri: "turn:turn-b.example.com?transport=tcp", host: "turn-b.example.com", transport: "tcp", ok: false, kind: "unauthorized", reason: "401" };

  it("prints one line per URI", () => {
    assert.equal(formatResult(ok), "ok    turn:turn.example.com:3478?transport=udp  relayed 203.0.113.10:50000  rtt 12.3 ms");
    assert.equal(formatResult({ ...ok, relayed: { family: 6, address: "2001:db8::5", port: 50001 } }), "ok    turn:turn.example.com:3478?transport=udp  relayed [2001:db8::5]:50001  rtt 12.3 ms");
    assert.equal(formatResult(failed), "FAIL  turns:turn.example.com:5349?transport=tcp  connection refused");
  });

  it("closes with one summary line per host, in the order the URIs named them, then the total", () => {
    assert.deepEqual(formatSummary([ok, otherHost, failed, tlsOk]), [
      "turn:probe: host turn.example.com: 2 of 3 URIs passed",
      "turn:probe: host turn-b.example.com: 0 of 1 URI passed",
      "turn:probe: 2 of 4 URIs passed",
    ]);
  });

  it("writes Prometheus text format with host, transport and uri labels, the failure reason and the certificate expiry", () => {
    assert.equal(
      prometheusText([ok, tlsOk, failed, otherHost, { ...failed, host: 'odd"\\host', uri: 'turn:"odd"\\uri' }], Date.UTC(2026, 10, 24)),
      [
        "# HELP turn_probe_success Whether a TURN Allocate with a freshly minted credential succeeded on the URI.",
        "# TYPE turn_probe_success gauge",
        'turn_probe_success{host="turn.example.com",transport="udp",uri="turn:turn.example.com:3478?transport=udp"} 1',
        'turn_probe_success{host="turn.example.com",transport="tls",uri="turns:turn.example.com:5349?transport=tcp"} 1',
        'turn_probe_success{host="turn.example.com",transport="tls",uri="turns:turn.example.com:5349?transport=tcp"} 0',
        'turn_probe_success{host="turn-b.example.com",transport="tcp",uri="turn:turn-b.example.com?transport=tcp"} 0',
        'turn_probe_success{host="odd\\"\\\\host",transport="tls",uri="turn:\\"odd\\"\\\\uri"} 0',
        "# HELP turn_probe_failure 1 for a failed URI, with why: unauthorized (401: secret mismatch or clock), refused, unreachable, timeout, tls, dns, error.",
        "# TYPE turn_probe_failure gauge",
        'turn_probe_failure{host="turn.example.com",transport="tls",uri="turns:turn.example.com:5349?transport=tcp",reason="unreachable"} 1',
        'turn_probe_failure{host="turn-b.example.com",transport="tcp",uri="turn:turn-b.example.com?transport=tcp",reason="unauthorized"} 1',
        'turn_probe_failure{host="odd\\"\\\\host",transport="tls",uri="turn:\\"odd\\"\\\\uri",reason="unreachable"} 1',
        "# HELP turn_probe_rtt_seconds Round-trip time of the authenticated Allocate request.",
        "# TYPE turn_probe_rtt_seconds gauge",
        'turn_probe_rtt_seconds{host="turn.example.com",transport="udp",uri="turn:turn.example.com:3478?transport=udp"} 0.012345',
        'turn_probe_rtt_seconds{host="turn.example.com",transport="tls",uri="turns:turn.example.com:5349?transport=tcp"} 0.020000',
        "# HELP turn_probe_tls_certificate_not_after_seconds When the certificate a turns: URI presented expires (unix seconds).",
        "# TYPE turn_probe_tls_certificate_not_after_seconds gauge",
        'turn_probe_tls_certificate_not_after_seconds{host="turn.example.com",transport="tls",uri="turns:turn.example.com:5349?transport=tcp"} 1796126400',
        "# HELP turn_probe_last_run_timestamp_seconds When the probe last ran.",
        "# TYPE turn_probe_last_run_timestamp_seconds gauge",
        "turn_probe_last_run_timestamp_seconds 1795478400",
        "",
      ].join("\n"),
    );
  });

  it("leaves out the families that have no sample (no failure, no TLS URI)", () => {
    const text = prometheusText([ok], 0);
    assert.deepEqual(
      text.split("\n").filter((line) => line.startsWith("# TYPE")),
      ["# TYPE turn_probe_success gauge", "# TYPE turn_probe_rtt_seconds gauge", "# TYPE turn_probe_last_run_timestamp_seconds gauge"],
    );
  });
});
