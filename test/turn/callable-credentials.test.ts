import { strict as assert } from "node:assert";
import { mintTurnCredential } from "@webrtc-lite/contract/turn-rest";
import { callRaw, signUpUser } from "@webrtc-lite/dev-stack/callable";
import { startCoturn, relayThroughCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";

interface Minted {
  username: string;
  credential: string;
  uris: string[];
}

/** coturn logs this for every request whose MESSAGE-INTEGRITY it cannot verify for the user. */
function authFailureLogged(coturn: TestCoturn, username: string): boolean {
  return coturn.output().includes(`check_stun_auth: Cannot find credentials of user <${username}>`);
}

describe("credentials from getTurnCredentials against a real coturn", function () {
  this.timeout(120_000);
  const secret = newSecret();
  let coturn: TestCoturn;
  let stack: EmulatorStack;
  let minted: Minted;
  let uid: string;

  before(async () => {
    coturn = await startCoturn([secret], { relayBetweenLocalClients: true });
    stack = await startEmulatorStack({
      emulators: ["auth", "functions"],
      params: functionParams(coturn.uris()),
      secrets: { TURN_SHARED_SECRET: secret },
    });
    const user = await signUpUser(stack.ports.auth);
    uid = user.uid;
    const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data: { ttl: 300 } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    minted = answer.body.result as Minted;
  });
  after(async () => {
    await stack?.stop();
    await coturn?.stop();
  });

  it("hands out the URIs of the coturn it is configured for", () => {
    assert.deepEqual(minted.uris, coturn.uris());
  });

  for (const transport of ["udp", "tcp"] as const) {
    it(`is accepted: coturn allocates and relays data over ${transport}`, async () => {
      const result = await relayThroughCoturn(coturn.port, minted.username, minted.credential, transport);
      assert.ok(result.relayed, result.output);
    });
  }

  const refused: Array<[string, () => { username: string; credential: string }]> = [
    ["an expired credential", () => mintTurnCredential(secret, uid, 60, Date.now() - 120_000)],
    ["a tampered credential", () => ({ username: minted.username, credential: flipFirstCharacter(minted.credential) })],
    ["a credential signed with another secret", () => mintTurnCredential(newSecret(), uid, 300, Date.now())],
    ["a username with another uid", () => ({ username: minted.username.replace(`:${uid}`, ":mallory"), credential: minted.credential })],
    ["a username with a later expiry", () => ({
      username: minted.username.replace(/^\d+/, (expiry) => String(Number(expiry) + 86_400)),
      credential: minted.credential,
    })],
  ];
  for (const [name, make] of refused) {
    it(`refuses ${name}`, async () => {
      const { username, credential } = make();
      const result = await relayThroughCoturn(coturn.port, username, credential);
      assert.equal(result.relayed, false, result.output);
      assert.match(result.output, /Cannot complete Allocation/);
      assert.ok(authFailureLogged(coturn, username), `coturn logged no auth failure for ${username}`);
    });
  }
});

describe("secret rotation on a real coturn", function () {
  this.timeout(60_000);
  const oldSecret = newSecret();
  const newSecretValue = newSecret();

  it("accepts credentials signed with either secret while both are configured", async () => {
    const coturn = await startCoturn([oldSecret, newSecretValue], { relayBetweenLocalClients: true });
    try {
      for (const secret of [oldSecret, newSecretValue]) {
        const { username, credential } = mintTurnCredential(secret, "rotating-user", 300, Date.now());
        const result = await relayThroughCoturn(coturn.port, username, credential);
        assert.ok(result.relayed, result.output);
      }
    } finally {
      await coturn.stop();
    }
  });

  it("refuses the old secret's credentials once it is removed, and keeps accepting the new", async () => {
    const coturn = await startCoturn([newSecretValue], { relayBetweenLocalClients: true });
    try {
      const stale = mintTurnCredential(oldSecret, "rotating-user", 300, Date.now());
      const staleResult = await relayThroughCoturn(coturn.port, stale.username, stale.credential);
      assert.equal(staleResult.relayed, false, staleResult.output);
      assert.ok(authFailureLogged(coturn, stale.username));

      const fresh = mintTurnCredential(newSecretValue, "rotating-user", 300, Date.now());
      const freshResult = await relayThroughCoturn(coturn.port, fresh.username, fresh.credential);
      assert.ok(freshResult.relayed, freshResult.output);
    } finally {
      await coturn.stop();
    }
  });
});

function flipFirstCharacter(value: string): string {
  return (value[0] === "A" ? "B" : "A") + value.slice(1);
}
