import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { HOSTS_PER_CREDENTIAL, parseTurnHosts, pickCredentialHosts, pickTurnHost, rankTurnHosts } from "#functions/credentials/hosts";

const hosts = (...names: string[]) => names.map((host) => ({ host }));
const uids = (count: number) => Array.from({ length: count }, () => randomUUID());

describe("parseTurnHosts", () => {
  it("keeps a list without ';' as one host, handed out whole as before, even with an IP and a name for it", () => {
    assert.deepEqual(parseTurnHosts("turn:127.0.0.1:3478?transport=udp, turns:localhost:5349?transport=tcp"), {
      ok: true,
      hosts: [{ host: "127.0.0.1 localhost", turnUris: ["turn:127.0.0.1:3478?transport=udp", "turns:localhost:5349?transport=tcp"] }],
    });
  });

  it("splits hosts at ';' and keeps each host's URIs and the hosts in the order given", () => {
    assert.deepEqual(
      parseTurnHosts(
        "turn:b.example.com:3478?transport=udp,turns:b.example.com:5349?transport=tcp; turn:A.example.com:3478?transport=udp;",
      ),
      {
        ok: true,
        hosts: [
          { host: "b.example.com", turnUris: ["turn:b.example.com:3478?transport=udp", "turns:b.example.com:5349?transport=tcp"] },
          { host: "a.example.com", turnUris: ["turn:A.example.com:3478?transport=udp"] },
        ],
      },
    );
  });

  it("knows a host by its names whatever the order of its URIs", () => {
    const forward = parseTurnHosts("turn:203.0.113.10:3478,turns:t1.example.com:5349;turn:t2.example.com");
    const reordered = parseTurnHosts("turns:t1.example.com:5349,turn:203.0.113.10:3478;turn:t2.example.com");
    assert.deepEqual(forward.ok && forward.hosts.map((host) => host.host), ["203.0.113.10 t1.example.com", "t2.example.com"]);
    assert.deepEqual(reordered.ok && reordered.hosts.map((host) => host.host), forward.ok && forward.hosts.map((host) => host.host));
  });

  it("numbers the host and the entry in a problem", () => {
    assert.deepEqual(parseTurnHosts("turn:a.example.com;turn:b.example.com:0"), {
      ok: false,
      problems: ['host 2 entry 1 ("turn:b.example.com:0") has port "0"; use a number from 1 to 65535'],
    });
  });

  it("refuses the same server in two hosts, which would send its users there twice as often", () => {
    assert.deepEqual(parseTurnHosts("turn:a.example.com:3478;turns:A.example.com:5349"), {
      ok: false,
      problems: ["hosts 1 and 2 both name a.example.com: list each server once, all its URIs between the same semicolons"],
    });
  });

  it("reports a list of nothing but semicolons as empty", () => {
    assert.deepEqual(parseTurnHosts(" ; ;"), {
      ok: false,
      problems: ["TURN_URIS is empty: set it to e.g. turn:turn.example.com:3478?transport=udp"],
    });
  });
});

describe("pickTurnHost", () => {
  it("returns the only host without looking at the uid", () => {
    const only = { host: "t.example.com" };
    assert.equal(pickTurnHost([only], "alice"), only);
    assert.equal(pickTurnHost([only], ""), only);
  });

  it("refuses an empty host list instead of returning nothing", () => {
    assert.throws(() => pickTurnHost([], "alice"), RangeError);
  });

  it("picks the same host for a uid on every call and whatever the order of the hosts", () => {
    const forward = hosts("a.example.com", "b.example.com", "c.example.com");
    const backward = [...forward].reverse();
    for (const uid of uids(500)) {
      const picked = pickTurnHost(forward, uid).host;
      assert.equal(pickTurnHost(forward, uid).host, picked);
      assert.equal(pickTurnHost(backward, uid).host, picked);
    }
  });

  it("is pinned: the same uid names the same host across releases (a change here moves every user)", () => {
    const fleet = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com");
    assert.deepEqual(
      ["alice", "bob", "Zx9QmP2rT8hN4kLw7vYcB3dF6gJ1", "turn-probe"].map((uid) => pickTurnHost(fleet, uid).host),
      ["turn-2.example.com", "turn-2.example.com", "turn-3.example.com", "turn-1.example.com"],
    );
  });

  it("spreads uids evenly: each of 3 hosts gets a third of 30,000 uids, within 3 points", () => {
    const fleet = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com");
    const counts = new Map<string, number>();
    for (const uid of uids(30_000)) {
      const { host } = pickTurnHost(fleet, uid);
      counts.set(host, (counts.get(host) ?? 0) + 1);
    }
    assert.equal(counts.size, 3);
    for (const [host, count] of counts) assert.ok(Math.abs(count / 30_000 - 1 / 3) < 0.03, `${host}: ${count} of 30000`);
  });

  it("moves only the uids the new host wins when a host is added, and only the removed host's uids when one goes", () => {
    const before = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com");
    const grown = [...before, { host: "turn-4.example.com" }];
    const shrunk = before.filter((host) => host.host !== "turn-2.example.com");
    let movedToNew = 0;
    const sample = uids(8_000);
    for (const uid of sample) {
      const old = pickTurnHost(before, uid).host;
      const afterGrowth = pickTurnHost(grown, uid).host;
      if (afterGrowth !== old) {
        assert.equal(afterGrowth, "turn-4.example.com", `${uid} moved between two old hosts`);
        movedToNew += 1;
      }
      if (old !== "turn-2.example.com") assert.equal(pickTurnHost(shrunk, uid).host, old, `${uid} moved off a host that stayed`);
    }
    // About a quarter of the uids move to the fourth host, no more.
    assert.ok(Math.abs(movedToNew / sample.length - 0.25) < 0.03, `${movedToNew} of ${sample.length} moved`);
  });

  it("sends neighbouring uids (user-0 … user-63) to both of two hosts", () => {
    const fleet = hosts("a", "ab");
    const picks = new Set(Array.from({ length: 64 }, (_, index) => pickTurnHost(fleet, `user-${index}`).host));
    assert.deepEqual([...picks].sort(), ["a", "ab"]);
  });
});

describe("pickCredentialHosts (the uid's host and its fallback)", () => {
  const hosts = (...names: string[]) => names.map((host) => ({ host }));
  const uids = (count: number): string[] => Array.from({ length: count }, (_, index) => `uid-${index}-${(index * 2_654_435_761) >>> 0}`);

  it("names the one host of a single-host TURN_URIS alone, and two of a fleet: the pick first", () => {
    const only = { host: "turn.example.com" };
    assert.deepEqual(pickCredentialHosts([only], "alice"), [only]);
    assert.throws(() => pickCredentialHosts([], "alice"), RangeError);
    const fleet = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com");
    for (const uid of uids(200)) {
      const named = pickCredentialHosts(fleet, uid);
      assert.equal(named.length, HOSTS_PER_CREDENTIAL);
      assert.equal(named[0], pickTurnHost(fleet, uid));
      assert.notEqual(named[0], named[1]);
      assert.deepEqual(named, rankTurnHosts(fleet, uid).slice(0, 2));
    }
  });

  it("ranks independently of the order TURN_URIS lists the hosts in", () => {
    const forward = hosts("a.example.com", "b.example.com", "c.example.com", "d.example.com");
    const backward = [...forward].reverse();
    for (const uid of uids(500)) assert.deepEqual(rankTurnHosts(forward, uid).map((host) => host.host), rankTurnHosts(backward, uid).map((host) => host.host));
  });

  it("spreads a lost host's uids over the others: each fallback is uniform among the remaining hosts", () => {
    const fleet = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com", "turn-4.example.com");
    const fallbacks = new Map<string, number>();
    const sample = uids(24_000).filter((uid) => pickTurnHost(fleet, uid).host === "turn-1.example.com");
    for (const uid of sample) {
      const fallback = pickCredentialHosts(fleet, uid)[1]?.host ?? "";
      fallbacks.set(fallback, (fallbacks.get(fallback) ?? 0) + 1);
    }
    assert.deepEqual([...fallbacks.keys()].sort(), ["turn-2.example.com", "turn-3.example.com", "turn-4.example.com"]);
    for (const [host, count] of fallbacks) assert.ok(Math.abs(count / sample.length - 1 / 3) < 0.04, `${host}: ${count} of ${sample.length}`);
  });

  it("when a host is taken out, each of its uids moves to the host that was its fallback, and nobody else's primary moves", () => {
    const fleet = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com");
    const without2 = fleet.filter((host) => host.host !== "turn-2.example.com");
    for (const uid of uids(3_000)) {
      const [primary, fallback] = pickCredentialHosts(fleet, uid);
      const after = pickTurnHost(without2, uid);
      assert.equal(after, primary?.host === "turn-2.example.com" ? fallback : primary, uid);
    }
  });

  it("adding a host changes the primary of about 1/n of the uids and the pair of about 2/n", () => {
    const before = hosts("turn-1.example.com", "turn-2.example.com", "turn-3.example.com");
    const grown = [...before, { host: "turn-4.example.com" }];
    const sample = uids(8_000);
    let primaryMoved = 0;
    let pairChanged = 0;
    for (const uid of sample) {
      const [oldPrimary, oldFallback] = pickCredentialHosts(before, uid).map((host) => host.host);
      const [newPrimary, newFallback] = pickCredentialHosts(grown, uid).map((host) => host.host);
      if (newPrimary !== oldPrimary) primaryMoved += 1;
      if (newPrimary !== oldPrimary || newFallback !== oldFallback) {
        pairChanged += 1;
        // Only the new host enters; the old two keep their relative order.
        assert.ok(newPrimary === "turn-4.example.com" || newFallback === "turn-4.example.com", uid);
      }
    }
    assert.ok(Math.abs(primaryMoved / sample.length - 0.25) < 0.03, `${primaryMoved} of ${sample.length} primaries moved`);
    assert.ok(Math.abs(pairChanged / sample.length - 0.5) < 0.03, `${pairChanged} of ${sample.length} pairs changed`);
  });
});
