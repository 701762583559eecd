import { strict as assert } from "node:assert";
import { CandidateInbox, CandidateOutbox } from "@webrtc-lite/client/call/outbox";
import { CallError, nextCallState, type CallEvent, type CallState } from "@webrtc-lite/client/call/state";
import { candidateLine } from "./fakes";

describe("web client: call states", () => {
  const error = new CallError("ice-failed", "ICE could not connect.");
  const table: Array<[CallState["phase"], CallEvent, CallState]> = [
    ["ringing", { type: "answered" }, { phase: "connecting" }],
    ["connecting", { type: "ice-connected" }, { phase: "connected" }],
    ["ringing", { type: "ended", reason: "reject" }, { phase: "ended", reason: "reject" }],
    ["connected", { type: "ended", reason: "hangup" }, { phase: "ended", reason: "hangup" }],
    ["connecting", { type: "failed", error }, { phase: "ended", reason: "error", error }],
    // Late or early events change nothing.
    ["connecting", { type: "answered" }, { phase: "connecting" }],
    ["connected", { type: "answered" }, { phase: "connected" }],
    ["ringing", { type: "ice-connected" }, { phase: "ringing" }],
  ];
  for (const [phase, event, expected] of table) {
    it(`${phase} + ${event.type} → ${expected.phase}${expected.phase === "ended" ? ` (${expected.reason})` : ""}`, () => {
      assert.deepEqual(nextCallState({ phase } as CallState, event), expected);
    });
  }

  it("stays ended whatever comes after", () => {
    const ended: CallState = { phase: "ended", reason: "cancel" };
    for (const event of [{ type: "answered" }, { type: "ice-connected" }, { type: "ended", reason: "hangup" }, { type: "failed", error }] as CallEvent[]) {
      assert.equal(nextCallState(ended, event), ended);
    }
  });
});

describe("web client: candidate batches", () => {
  const entry = (n: number) => ({ candidate: candidateLine(n), sdpMid: "0", sdpMLineIndex: 0 });

  it("hands out what was gathered since the last batch, then the end marker", () => {
    const outbox = new CandidateOutbox();
    assert.equal(outbox.take(), undefined);
    outbox.add(entry(1));
    outbox.add(entry(2));
    assert.deepEqual(outbox.take(), [entry(1), entry(2)]);
    outbox.add(entry(3));
    outbox.end("0", 0);
    assert.equal(outbox.complete, true);
    assert.deepEqual(outbox.take(), [entry(3), { candidate: "", sdpMid: "0", sdpMLineIndex: 0 }]);
    assert.equal(outbox.take(), undefined);
  });

  it("sends a candidate reported after the end marker behind it (libwebrtc on a busy event loop: end, candidates, end)", () => {
    const outbox = new CandidateOutbox();
    outbox.end("0", 0);
    assert.equal(outbox.add(entry(1)), true);
    assert.equal(outbox.add(entry(2)), true);
    outbox.end("0", 0);
    assert.deepEqual(outbox.take(), [{ candidate: "", sdpMid: "0", sdpMLineIndex: 0 }, entry(1), entry(2)]);
    assert.equal(outbox.take(), undefined);
  });

  it("after the marker, fills the side's last slots and drops the rest", () => {
    const outbox = new CandidateOutbox();
    const before = Array.from({ length: 19 }, (_, n) => outbox.add(entry(n))).filter(Boolean).length;
    outbox.end("0", 0);
    assert.deepEqual([before, outbox.add(entry(19)), outbox.add(entry(20))], [19, false, false]);
    const sent = [outbox.take(), outbox.take(), outbox.take(), outbox.take()].flatMap((batch) => batch ?? []);
    assert.equal(sent.length, 20);
    assert.equal(outbox.droppedCount, 2);
  });

  it("stays within the contract's 20 entries per side and 6 per write, and keeps a slot for the end marker", () => {
    const outbox = new CandidateOutbox();
    const accepted = Array.from({ length: 25 }, (_, n) => outbox.add(entry(n))).filter(Boolean).length;
    outbox.end("0", 0);
    const batches = [outbox.take(), outbox.take(), outbox.take(), outbox.take()];
    assert.equal(accepted, 19);
    assert.deepEqual(batches.map((batch) => batch?.length), [6, 6, 6, 2]);
    assert.equal(outbox.take(), undefined);
    assert.deepEqual(batches.flatMap((batch) => batch ?? []), [
      ...Array.from({ length: 19 }, (_, n) => entry(n)),
      { candidate: "", sdpMid: "0", sdpMLineIndex: 0 },
    ]);
    assert.equal(outbox.droppedCount, 6);
  });

  it("takes only the entries the other side appended since the last snapshot, each with its position", () => {
    const inbox = new CandidateInbox();
    assert.deepEqual(inbox.fresh([entry(1), entry(2)]), { usable: [{ index: 0, entry: entry(1) }, { index: 1, entry: entry(2) }], skipped: [] });
    assert.deepEqual(inbox.fresh([entry(1), entry(2), entry(3)]), { usable: [{ index: 2, entry: entry(3) }], skipped: [] });
    assert.deepEqual(inbox.fresh([entry(1), entry(2), entry(3)]), { usable: [], skipped: [] });
  });

  it("checks each new entry on its own and skips it, once, when the contract refuses it", () => {
    const inbox = new CandidateInbox();
    const all: unknown[] = [
      { ...entry(1), candidate: "candidate:1 1 udp 4294967296 127.0.0.1 9 typ host" },
      { ...entry(2), candidate: "candidate:2 1 udp 1686052607 127.0.0.1 9 typ srflx raddr 127.0.0.1" },
      { ...entry(3), candidate: 42 },
      { ...entry(4), extra: "<b>" },
      "candidate:5 1 udp 2122260223 127.0.0.1 9 typ host",
      entry(6),
    ];
    assert.deepEqual(inbox.fresh(all), {
      usable: [{ index: 5, entry: entry(6) }],
      skipped: [
        { index: 0, reason: "bad-candidate-line", problem: "it does not match the signaling contract (candidate: candidate priority must be a whole number from 0 to 4294967295, without leading zeros.)" },
        { index: 1, reason: "bad-candidate-line", problem: "it does not match the signaling contract (candidate: candidate raddr must be followed by rport.)" },
        { index: 2, reason: "candidate-not-a-string", problem: "it does not match the signaling contract (candidate: candidate must be a string)" },
        { index: 3, reason: "unknown-key", problem: 'it does not match the signaling contract (Unrecognized key: "extra")' },
        { index: 4, reason: "not-a-map", problem: "it does not match the signaling contract (Invalid input: expected object, received string)" },
      ],
    });
    assert.deepEqual(inbox.fresh([...all, entry(7)]), { usable: [{ index: 6, entry: entry(7) }], skipped: [] });
  });

  it("takes IP addresses and mDNS .local names, and skips any other name rather than resolve what the peer chose", () => {
    const withAddress = (address: string) => ({ candidate: `candidate:1 1 udp 2122260223 ${address} 9 typ host`, sdpMid: "0", sdpMLineIndex: 0 });
    const usable = ["127.0.0.1", "255.255.255.255", "::1", "2001:db8::7", "::ffff:127.0.0.1", "6f1b6a8e-4c2d-4b8e-9a0f-2d3c4b5a6e7f.local"];
    const names = ["<script>alert(1)</script>", "attacker.example", "localhost", "256.1.1.1", "127.1", "1::2::3", "[::1]", "fe80::1%eth0", "x.local.example"];
    const inbox = new CandidateInbox();
    const { usable: taken, skipped } = inbox.fresh([...usable, ...names].map(withAddress));
    assert.deepEqual(taken.map(({ entry }) => entry.candidate.split(" ")[4]), usable);
    assert.deepEqual(skipped.map(({ index }) => index), names.map((_, n) => usable.length + n));
    assert.deepEqual(
      skipped.map(({ reason }) => reason),
      names.map((name) => (/^[A-Za-z0-9._:-]+$/.test(name) ? "address-is-a-name" : "bad-candidate-line")),
    );
    // Markup is refused by the contract itself; a name the contract allows, by the address check.
    assert.match(skipped[0].problem, /^it does not match the signaling contract \(candidate: candidate address must be/);
    assert.equal(
      skipped[1].problem,
      "its address is neither an IP address nor an mDNS .local name, and this side resolves no other name a peer sends",
    );
    // End-of-candidates has no address.
    assert.deepEqual(inbox.fresh([...usable, ...names, { candidate: "", sdpMid: null, sdpMLineIndex: null }]).usable, [
      { index: usable.length + names.length, entry: { candidate: "", sdpMid: null, sdpMLineIndex: null } },
    ]);
  });
});
