import { strict as assert } from "node:assert";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { TurnClient, TurnErrorResponse } from "@webrtc-lite/turn/client";
import { useCoturn } from "@webrtc-lite/dev-stack/coturn";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";

// What happens to a call when its credential expires decides how apps must pick `ttl`, so it
// is pinned down here on the shipped config: coturn checks the expiry when a client
// authenticates an allocation, not on every later request of that allocation.
describe("a TURN credential's expiry on a real coturn (shipped config)", function () {
  this.timeout(30_000);
  const secret = newSecret();
  const coturn = useCoturn([secret]);

  it("keeps an allocation made before expiry usable after it (Refresh, CreatePermission)", async () => {
    const credential = mintTurnCredential(secret, "expiring-user", 2, Date.now());
    const client = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: coturn().port }, credential);
    try {
      await client.allocate(4);
      await waitFor("the credential to expire", () => (Date.now() / 1000 > credential.expiresAt + 1 ? true : undefined), 10_000, 200);
      // Permissions only: nothing is ever sent toward these public addresses.
      await client.createPermission("8.8.8.8");
      await client.release();
    } finally {
      client.close();
    }
  });

  it("refuses a new allocation with the expired credential (401)", async () => {
    const credential = mintTurnCredential(secret, "expired-user", 60, Date.now() - 120_000);
    const client = await TurnClient.connect({ transport: "udp", host: "127.0.0.1", port: coturn().port }, credential);
    try {
      await assert.rejects(client.allocate(4), (error: unknown) => error instanceof TurnErrorResponse && error.code === 401);
    } finally {
      client.close();
    }
  });
});
