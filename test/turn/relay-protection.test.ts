import { randomUUID } from "node:crypto";
import { strict as assert } from "node:assert";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { TurnClient, TurnErrorResponse } from "@webrtc-lite/turn/client";
import { startCoturn, useCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

// Network rule: these tests only read coturn's answer to CreatePermission/ChannelBind. Not one
// byte of data is sent toward any of the peers below.
const IPV4_PEERS = ["127.0.0.1", "0.0.0.0", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "224.0.0.1"];
const IPV6_PEERS = [
  "::1",
  "::",
  // IPv4-mapped forms: coturn 4.6.1's own loopback check misses ::ffff:127.0.0.1 (fixed in 4.9.0).
  ...IPV4_PEERS.map((peer) => `::ffff:${peer}`),
  "fe80::1",
  "fd00::1",
  "ff02::1",
  "64:ff9b::a00:1",
];

/**
 * Clients whose allocation is released but whose socket stays open until the suite ends, so that
 * the OS never hands a later test's socket a port this suite used: coturn answers an Allocate on
 * a 5-tuple that still holds an allocation (say, a release not yet done) with 437, "Mismatched
 * allocation: wrong transaction ID", which a CI run once got.
 */
const heldClients: TurnClient[] = [];

function closeHeldClients(): void {
  heldClients.splice(0).forEach((client) => client.close());
}

async function withAllocation<T>(coturn: TestCoturn, secret: string, family: 4 | 6, action: (client: TurnClient) => Promise<T>): Promise<T> {
  // One user per allocation: coturn counts a released UDP allocation against the user quota
  // until its session is reaped, about a second later.
  const credential = mintTurnCredential(secret, `relay-protection-${randomUUID()}`, 300, Date.now());
  const client = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: coturn.port }, credential);
  heldClients.push(client);
  const allocation = await client.allocate(family);
  try {
    assert.equal(allocation.relayed.family, family);
    return await action(client);
  } finally {
    await client.release();
  }
}

async function refusalCode(request: () => Promise<void>): Promise<number | "accepted"> {
  try {
    await request();
    return "accepted";
  } catch (error) {
    if (error instanceof TurnErrorResponse) return error.code;
    throw error;
  }
}

describe("relay protection of the shipped config (real coturn 4.6.1)", function () {
  this.timeout(60_000);
  const secret = newSecret();
  const coturn = useCoturn([secret]);
  after(closeHeldClients);

  for (const [family, peers] of [[4, IPV4_PEERS], [6, IPV6_PEERS]] as const) {
    for (const peer of peers) {
      it(`answers 403 to CreatePermission and ChannelBind toward ${peer} (IPv${family} relay)`, async () => {
        // A fresh allocation per peer: each one may land on a different coturn relay thread.
        await withAllocation(coturn(), secret, family, async (client) => {
          assert.equal(await refusalCode(() => client.createPermission(peer)), 403);
          assert.equal(await refusalCode(() => client.channelBind(peer, 3478, 0x4000)), 403);
        });
      });
    }
  }

  // Controls: ordinary public peers keep working, so the 403s above are specific. (A careless
  // IPv6 range starting at "::" makes coturn 4.6.1 refuse every peer.) Only permissions are
  // created on coturn over loopback; nothing is ever sent to these addresses.
  for (const [family, peer] of [[4, "8.8.8.8"], [4, "1.1.1.1"], [6, "2600::1"], [6, "2a00:1450::1"]] as const) {
    it(`grants CreatePermission toward the public address ${peer} (IPv${family} relay)`, async () => {
      await withAllocation(coturn(), secret, family, async (client) => {
        assert.equal(await refusalCode(() => client.createPermission(peer)), "accepted");
      });
    });
  }
});

describe("the ::ffff:127.0.0.1 bypass on coturn 4.6.1", function () {
  this.timeout(60_000);
  const secret = newSecret();
  after(closeHeldClients);

  it("is open when the kit's IPv4-mapped denied-peer-ip line is left out (the 403 above is the line's doing)", async () => {
    const open = await startCoturn([secret], { withoutLines: ["denied-peer-ip=::ffff:0:0-::ffff:ffff:ffff"] });
    try {
      const code = await withAllocation(open, secret, 6, (client) => refusalCode(() => client.createPermission("::ffff:127.0.0.1")));
      assert.equal(code, "accepted", "coturn 4.6.1 itself lets ::ffff:127.0.0.1 through; the kit's line is what closes it");
    } finally {
      await open.stop();
    }
  });
});
