import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { TurnClient, TurnErrorResponse, type TurnServerAddress } from "@webrtc-lite/turn/client";
import { startCoturn, useCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

describe("the kit's rendered config on a real coturn 4.6.1", function () {
  this.timeout(60_000);
  const secret = newSecret();
  const coturn = useCoturn([secret]);

  const credentialFor = (uid: string) => mintTurnCredential(secret, uid, 300, Date.now());

  it("starts without a single unknown or malformed line", () => {
    const complaints = coturn()
      .output()
      .split("\n")
      .filter((line) => /Bad configuration format|Wrong address format|error resolving|CONFIG ERROR|Unknown argument/i.test(line));
    assert.deepEqual(complaints, []);
    assert.match(coturn().output(), /Black listing: ::ffff:0:0-::ffff:ffff:ffff/);
  });

  for (const transport of ["udp", "tcp", "tls"] as const) {
    it(`allocates over ${transport} with a credential minted by the function's code`, async () => {
      const server: TurnServerAddress =
        transport === "tls"
          ? { transport, host: "127.0.0.1", port: coturn().tlsPort, tls: { ca: coturn().certificate } }
          : { transport, host: "127.0.0.1", port: coturn().port };
      const client = await TurnClient.connect(server, credentialFor(`kit-${transport}`));
      try {
        const allocation = await client.allocate();
        assert.equal(allocation.relayed.address, "127.0.0.1");
        assert.equal(allocation.mapped?.address, "127.0.0.1");
        assert.equal(allocation.lifetimeSeconds, 600);
        // A later test's socket may get this ephemeral port again: coturn would answer its
        // Allocate on a 5-tuple still holding this allocation with 437.
        await client.release();
      } finally {
        client.close();
      }
    });
  }

  const refused: Array<[string, () => { username: string; credential: string }]> = [
    ["an expired credential", () => mintTurnCredential(secret, "kit-expired", 60, Date.now() - 120_000)],
    ["a tampered credential", () => {
      const minted = credentialFor("kit-tampered");
      return { username: minted.username, credential: `${minted.credential[0] === "A" ? "B" : "A"}${minted.credential.slice(1)}` };
    }],
    ["a credential signed with another secret", () => mintTurnCredential(newSecret(), "kit-other", 300, Date.now())],
  ];
  for (const [name, make] of refused) {
    it(`answers 401 to an Allocate with ${name}`, async () => {
      const client = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: coturn().port }, make());
      try {
        await assert.rejects(client.allocate(), (error: unknown) => error instanceof TurnErrorResponse && error.code === 401);
      } finally {
        client.close();
      }
    });
  }

  it("hides the coturn version: no SOFTWARE attribute, which coturn sends without no-software-attribute", async () => {
    const software = async (server: TestCoturn): Promise<string | undefined> => {
      const client = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: server.port }, credentialFor(`kit-software-${randomUUID()}`));
      try {
        const { software } = await client.allocate();
        await client.release();
        return software;
      } finally {
        client.close();
      }
    };
    assert.equal(await software(coturn()), undefined);
    const chatty = await startCoturn([secret], { withoutLines: ["no-software-attribute"] });
    try {
      assert.match((await software(chatty)) ?? "", /^Coturn-/);
    } finally {
      await chatty.stop();
    }
  });

  it("enforces user-quota=12: the 13th concurrent allocation of one user is answered 486", async () => {
    const credential = credentialFor(`kit-quota-${randomUUID()}`);
    const clients: TurnClient[] = [];
    try {
      for (let index = 0; index < 12; index += 1) {
        const client = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: coturn().port }, credential);
        clients.push(client);
        await client.allocate();
      }
      const extra = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: coturn().port }, credential);
      clients.push(extra);
      await assert.rejects(extra.allocate(), (error: unknown) => error instanceof TurnErrorResponse && error.code === 486);
      for (const client of clients.slice(0, -1)) await client.release();
    } finally {
      clients.forEach((client) => client.close());
    }
  });
});
