import { strict as assert } from "node:assert";
import { mock } from "node:test";
import { ICE_RESTART } from "@webrtc-lite/contract";
import { listenForCalls, startCall, type Call, type IncomingCall } from "@webrtc-lite/client/call/call";
import { IceRecovery } from "@webrtc-lite/client/call/recovery";
import { FakePeerConnection, FakeSignalingStore, candidatesDocument, entry, phases, sdp, sessionDocument, settle, until } from "./fakes";

const FAST = { batchDelayMs: 0 };
const ANSWER = { answer: { type: "answer", sdp: sdp("answer") } };
const SERVERS = [{ urls: ["turn:127.0.0.1:3478?transport=udp"], username: "fresh", credential: "c" }];

/** The other side's candidates document moved to `generation` with `description` and `entries`. */
function restarted(sender: "caller" | "callee", generation: number, description: { type: string; sdp: string }, entries: unknown[], extra: Record<string, unknown> = {}) {
  return { ...candidatesDocument(sender, entries), generation, description, ...extra };
}

/** The call's phase now (a function, so that TypeScript does not narrow it across events). */
function phaseOf(call: Call): string {
  return call.state.phase;
}

describe("web client: ICE restart", () => {
  let store: FakeSignalingStore;
  let pc: FakePeerConnection;
  beforeEach(() => {
    store = new FakeSignalingStore();
    pc = new FakePeerConnection();
  });
  afterEach(() => mock.timers.reset());

  async function connectedCaller(options = {}): Promise<Call> {
    const call = await startCall(store, pc, { callerId: "alice", calleeId: "bob" }, { ...FAST, iceServers: async () => SERVERS, ...options });
    store.session!(sessionDocument("pending", ANSWER));
    await until("the callee's candidates listener", () => store.candidates.has("callee"));
    store.candidates.get("callee")!(candidatesDocument("callee", [entry(7)]));
    pc.iceBecomes("connected");
    pc.becomes("connected");
    assert.equal(call.state.phase, "connected");
    return call;
  }

  async function connectedCallee(options = {}): Promise<Call> {
    let incoming: IncomingCall | undefined;
    listenForCalls(store, "bob", (calls) => (incoming = calls[0]), () => undefined, { ...FAST, iceServers: async () => SERVERS, ...options });
    store.ringing!([{ id: "s1", data: sessionDocument("pending", {}, Date.now()) }], false);
    const call = await incoming!.answer(pc);
    store.candidates.get("caller")!(candidatesDocument("caller", [entry(1)]));
    pc.iceBecomes("connected");
    pc.becomes("connected");
    assert.equal(call.state.phase, "connected");
    return call;
  }

  it("caller: on ICE failed, refreshes TURN, makes an iceRestart offer, writes it as generation 1, applies the answer and its candidates, and is connected again", async () => {
    const call = await connectedCaller();
    const seen = phases(call);
    pc.iceBecomes("failed");
    await until("the restart write", () => store.log.some((line) => line.startsWith("restartIce")));
    assert.deepEqual(pc.offers.at(-1), { iceRestart: true });
    assert.deepEqual(pc.configuration.iceServers, SERVERS);
    assert.match(String(pc.local?.sdp), /a=ice-ufrag:offer1/);
    assert.ok(store.log.includes("restartIce session-1 caller 1 offer +0"), store.log.join("\n"));
    // Candidates gathered for the new generation follow the restart write; a late one of the old generation does not.
    pc.gather({ ...entry(20), usernameFragment: "offer1" });
    pc.gather({ ...entry(21), usernameFragment: "offer" });
    await until("the new generation's append", () => store.log.includes("appendCandidates session-1 caller 1"));
    assert.deepEqual(store.documents.get("caller"), [{ ...entry(20), usernameFragment: "offer1" }]);

    // The callee's answer to generation 1, with a candidate in the same write: the candidate waits for the answer.
    const before = pc.added.length;
    store.candidates.get("callee")!(restarted("callee", 1, { type: "answer", sdp: sdp("answer").replace("ice-ufrag:answer", "ice-ufrag:answer1") }, [entry(30)]));
    await until("the restart answer applied", () => String(pc.remote?.sdp).includes("answer1"));
    await until("the new generation's candidate", () => pc.added.length === before + 1);
    assert.deepEqual(pc.added.at(-1), entry(30));
    pc.iceBecomes("connected");
    assert.deepEqual(seen, ["reconnecting", "connected"]);
    assert.equal(store.log.filter((line) => line.startsWith("reportConnected")).length, 1, "connectivity is reported once per call, not per restart");
  });

  it("caller: restarts when the callee asks for it, once per generation", async () => {
    await connectedCaller();
    store.candidates.get("callee")!({ ...candidatesDocument("callee", [entry(7)]), restart_request: 1 });
    store.candidates.get("callee")!({ ...candidatesDocument("callee", [entry(7)]), restart_request: 1 });
    await settle();
    assert.deepEqual(store.log.filter((line) => line.startsWith("restartIce")), ["restartIce session-1 caller 1 offer +0"]);
  });

  it("caller: ignores the answer to a generation it has restarted away from", async () => {
    await connectedCaller();
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      pc.iceBecomes("failed");
      await settle();
      mock.timers.tick(ICE_RESTART.attemptMs);
      await settle();
      assert.deepEqual(store.log.filter((line) => line.startsWith("restartIce")), ["restartIce session-1 caller 1 offer +0", "restartIce session-1 caller 2 offer +0"]);
      const remote = pc.remote;
      store.candidates.get("callee")!(restarted("callee", 1, { type: "answer", sdp: sdp("answer") }, []));
      await settle();
      assert.equal(pc.remote, remote, "the stale answer is not applied");
      store.candidates.get("callee")!(restarted("callee", 2, { type: "answer", sdp: sdp("answer").replace("ice-ufrag:answer", "ice-ufrag:answer2") }, []));
      await settle();
      assert.match(String(pc.remote?.sdp), /answer2/);
    } finally {
      mock.timers.reset();
    }
  });

  it("callee: answers the caller's restart offer as the same generation, adding the new generation's candidates after its offer", async () => {
    const call = await connectedCallee();
    const before = pc.added.length;
    const offer = sdp("offer").replace("ice-ufrag:offer", "ice-ufrag:offer1");
    store.candidates.get("caller")!(restarted("caller", 1, { type: "offer", sdp: offer }, [entry(40), entry(41)]));
    await until("the restart answer", () => store.log.some((line) => line.startsWith("restartIce")));
    assert.deepEqual(pc.remote, { type: "offer", sdp: offer });
    assert.match(String(pc.local?.sdp), /ice-ufrag:answer1/);
    assert.ok(store.log.includes("restartIce s1 callee 1 answer +0"), store.log.join("\n"));
    assert.deepEqual(pc.added.slice(before), [entry(40), entry(41)]);
    assert.deepEqual(pc.configuration.iceServers, SERVERS);
    assert.equal(call.state.phase, "connected");
  });

  it("callee: asks the caller for a restart when the path breaks, again on every attempt while it stays broken, and never offers", async () => {
    const call = await connectedCallee();
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      pc.iceBecomes("disconnected");
      await settle();
      assert.equal(store.log.some((line) => line.startsWith("requestRestart")), false, "a short disconnection may heal on its own");
      mock.timers.tick(ICE_RESTART.disconnectedGraceMs);
      await settle();
      assert.equal(call.state.phase, "reconnecting");
      assert.deepEqual(store.log.filter((line) => line.startsWith("requestRestart") || line.startsWith("restartIce")), ["requestRestart s1 1"]);
      // The caller did not act on it (it was busy with an offer of its own that failed): the next
      // attempt asks again, one higher, since the rules want every request larger than the last.
      mock.timers.tick(ICE_RESTART.attemptMs);
      await settle();
      assert.deepEqual(store.log.filter((line) => line.startsWith("requestRestart") || line.startsWith("restartIce")), ["requestRestart s1 1", "requestRestart s1 2"]);
      assert.equal(pc.offers.length, 0);
    } finally {
      mock.timers.reset();
    }
  });

  it("ends with failed (ice-failed) when the path does not come back within the window, deleting its document", async () => {
    const call = await connectedCaller({ iceRestart: { giveUpMs: 5_000 } });
    mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
    try {
      pc.iceBecomes("failed");
      pc.becomes("failed");
      await settle();
      mock.timers.tick(5_000);
      await settle();
      const state = call.state;
      assert.equal(state.phase === "ended" && state.error?.code, "ice-failed");
      assert.equal(state.phase === "ended" && state.error?.message, "ICE could not connect the two sides: the connection broke and did not come back within 5 s.");
      assert.ok(store.log.includes("requestEnd session-1 caller failed +delete caller-candidates"), store.log.join("\n"));
    } finally {
      mock.timers.reset();
    }
  });

  it("does not give up on a path that came back behind a stale state event: the window's end reads the states again", async () => {
    const call = await connectedCaller({ iceRestart: { giveUpMs: 5_000 } });
    mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
    try {
      pc.iceBecomes("failed");
      await settle();
      assert.equal(phaseOf(call), "reconnecting");
      // The path is back, but no event says so (libwebrtc read its state late).
      pc.iceConnectionState = "connected";
      mock.timers.tick(1_000);
      assert.equal(phaseOf(call), "connected", "a reconnecting call reads the states again every second");
      mock.timers.tick(10_000);
      await settle();
      assert.equal(phaseOf(call), "connected");
      assert.equal(store.log.some((line) => line.startsWith("requestEnd")), false);
    } finally {
      mock.timers.reset();
    }
  });

  it(`stops restarting at generation ${ICE_RESTART.maxGeneration}, the rules' bound`, async () => {
    await connectedCaller({ iceRestart: { giveUpMs: 3_600_000 } });
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      pc.iceBecomes("failed");
      for (let attempt = 0; attempt < ICE_RESTART.maxGeneration + 3; attempt += 1) {
        await settle();
        mock.timers.tick(ICE_RESTART.attemptMs);
      }
      await settle();
      assert.equal(store.log.filter((line) => line.startsWith("restartIce")).length, ICE_RESTART.maxGeneration);
    } finally {
      mock.timers.reset();
    }
  });

  it("restarts at once when the app reports a network change (Call.restartIce)", async () => {
    const call = await connectedCaller();
    call.restartIce();
    await until("the restart write", () => store.log.some((line) => line.startsWith("restartIce")));
    assert.equal(call.state.phase, "reconnecting");
  });
});

describe("web client: when ICE recovery acts", () => {
  afterEach(() => mock.timers.reset());

  it("waits out a short disconnection, attempts after the grace, again every attemptMs, and gives up after giveUpMs", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    const log: string[] = [];
    const recovery = new IceRecovery({ attempt: () => log.push("attempt"), giveUp: () => log.push("give up") }, { disconnectedGraceMs: 2_000, attemptMs: 10_000, giveUpMs: 25_000 });
    recovery.iceStateChanged("disconnected");
    mock.timers.tick(1_999);
    recovery.iceStateChanged("connected");
    mock.timers.tick(10_000);
    assert.deepEqual(log, [], "healed within the grace");
    recovery.iceStateChanged("disconnected");
    mock.timers.tick(2_000);
    assert.deepEqual(log, ["attempt"]);
    recovery.iceStateChanged("failed");
    assert.deepEqual(log, ["attempt"], "failed during an attempt adds nothing");
    mock.timers.tick(10_000);
    assert.deepEqual(log, ["attempt", "attempt"]);
    recovery.networkChanged();
    assert.deepEqual(log, ["attempt", "attempt", "attempt"], "a network change is news: attempt at once");
    // The window runs from the first break (2 s grace after the second disconnection): 25 s later.
    mock.timers.tick(14_999);
    assert.deepEqual(log, ["attempt", "attempt", "attempt", "attempt"]);
    mock.timers.tick(1);
    assert.deepEqual(log, ["attempt", "attempt", "attempt", "attempt", "give up"]);
    mock.timers.tick(60_000);
    assert.equal(log.length, 5, "nothing more once the window is over");
  });
});
