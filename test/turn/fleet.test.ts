import { strict as assert } from "node:assert";
import { handleGetTurnCredentials } from "#functions/credentials/handler";
import { parseTurnHosts, pickTurnHost } from "#functions/credentials/hosts";
import { resolveSecrets } from "@webrtc-lite/turn/secrets";
import { callRaw, signUpUser, type SignedInUser } from "@webrtc-lite/dev-stack/callable";
import { relayThroughCoturn, startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { startEmulatorStack, type EmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { FakeSecretManager } from "../helpers/secret-manager";
import { runTurnCommand } from "../helpers/turn-cli";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";

// Two coturn hosts on two loopback addresses (127.0.0.1 and 127.0.0.2): in TURN_URIS they are
// two hosts, as two VMs of a fleet are, not two ports of one server.
const ADDRESSES = ["127.0.0.1", "127.0.0.2"] as const;

interface Minted {
  username: string;
  credential: string;
  uris: string[];
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
}

function startFleet(secrets: string[]): Promise<TestCoturn[]> {
  return Promise.all(ADDRESSES.map((address) => startCoturn(secrets, { relayBetweenLocalClients: true, address })));
}

/** `TURN_URIS` for the fleet: each host's URIs comma-separated, hosts separated by `;`. */
function fleetTurnUris(fleet: readonly TestCoturn[]): string {
  return fleet.map((coturn) => coturn.uris().join(",")).join(";");
}

async function stopFleet(fleet: readonly TestCoturn[]): Promise<void> {
  await Promise.all(fleet.map((coturn) => coturn.stop()));
}

/** coturn logs this for every request whose MESSAGE-INTEGRITY it cannot verify for the user. */
function authFailureLogged(coturn: TestCoturn, username: string): boolean {
  return coturn.output().includes(`check_stun_auth: Cannot find credentials of user <${username}>`);
}

describe("a fleet of two coturn hosts behind one TURN_URIS", function () {
  this.timeout(180_000);

  describe("credentials from getTurnCredentials", () => {
    const secret = newSecret();
    let fleet: TestCoturn[] = [];
    let stack: EmulatorStack | undefined;
    /** Every URI of both hosts (the probe's arguments). */
    let turnUris: string[];
    /** The TURN_URIS param: one host's URIs, `;`, the other's. */
    let turnUrisParam: string;
    /** One credential per host, minted by the callable for a user the host was picked for. */
    const mintedFor = new Map<string, Minted>();

    before(async () => {
      fleet = await startFleet([secret]);
      turnUris = fleet.flatMap((coturn) => coturn.uris());
      turnUrisParam = fleetTurnUris(fleet);
      stack = await startEmulatorStack({
        emulators: ["auth", "functions"],
        params: functionParams([], { TURN_URIS: turnUrisParam }),
        secrets: { TURN_SHARED_SECRET: secret },
      });
    });
    after(async () => {
      await stack?.stop();
      await stopFleet(fleet);
      assert.ok(!stack?.output().includes(secret), "the shared secret appeared in the emulator's output");
    });

    const call = async (user: SignedInUser, ttl: number): Promise<Minted> => {
      const answer = await callRaw(stack?.functionUrl("getTurnCredentials") ?? "", { idToken: user.idToken, data: { ttl } });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body.result as Minted;
    };

    it("names the host the uid hashes to and the other as its fallback, in that order, on every call of that uid", async () => {
      const parsed = parseTurnHosts(turnUrisParam);
      assert.ok(parsed.ok);
      const hosts = parsed.hosts;
      assert.deepEqual(hosts.map((host) => host.host), [...ADDRESSES]);
      // Sign up users until each host is some user's pick (uids are random; 40 users leave a
      // 2^-39 chance of never meeting one of two hosts).
      const users = new Map<string, SignedInUser>();
      for (let attempt = 0; attempt < 40 && users.size < hosts.length; attempt += 1) {
        const user = await signUpUser(stack?.ports.auth ?? 0);
        const host = pickTurnHost(hosts, user.uid).host;
        if (!users.has(host)) users.set(host, user);
      }
      assert.equal(users.size, 2, "40 random uids all hashed to one host");
      for (const coturn of fleet) {
        const user = users.get(coturn.address);
        const fallback = fleet.find((other) => other !== coturn);
        assert.ok(user && fallback);
        const first = await call(user, 300);
        // The uid's host first, the other host as its fallback.
        assert.deepEqual(first.uris, [...coturn.uris(), ...fallback.uris()]);
        assert.deepEqual(first.iceServers, [
          { urls: [`stun:${coturn.address}:${coturn.port}`, `stun:${fallback.address}:${fallback.port}`] },
          { urls: coturn.uris(), username: first.username, credential: first.credential },
          { urls: fallback.uris(), username: first.username, credential: first.credential },
        ]);
        assert.equal(first.username.split(":")[1], user.uid);
        // A retry (another ttl, a new expiry) names the same hosts in the same order.
        assert.deepEqual((await call(user, 600)).uris, first.uris);
        mintedFor.set(coturn.address, first);
      }
    });

    for (const address of ADDRESSES) {
      for (const transport of ["udp", "tcp"] as const) {
        it(`a credential naming ${address} allocates and relays data there over ${transport}`, async () => {
          const coturn = fleet.find((candidate) => candidate.address === address);
          const minted = mintedFor.get(address);
          assert.ok(coturn && minted, "the first test minted no credential for this host");
          const result = await relayThroughCoturn(coturn.port, minted.username, minted.credential, transport, coturn.address);
          assert.ok(result.relayed, result.output);
        });
      }
    }

    it("is accepted by the other host too: the secret is shared, so an operator can move users between hosts", async () => {
      const [first, second] = fleet;
      const minted = mintedFor.get(ADDRESSES[0]);
      assert.ok(first && second && minted);
      const result = await relayThroughCoturn(second.port, minted.username, minted.credential, "udp", second.address);
      assert.ok(result.relayed, result.output);
    });

    it("npm run turn:probe over both hosts' URIs reports each host's URIs on lines of their own, and a stopped host's as failed", async () => {
      const passing = await runTurnCommand("probe", ["--timeout-ms", "2000", ...turnUris], { TURN_SHARED_SECRET: secret });
      assert.equal(passing.code, 0, passing.stdout + passing.stderr);
      for (const coturn of fleet) {
        for (const uri of coturn.uris()) {
          const lines = passing.stdout.split("\n").filter((line) => line.includes(uri));
          assert.equal(lines.length, 1, passing.stdout);
          // The relayed address proves which host answered.
          assert.match(lines[0] ?? "", new RegExp(`^ok +${escapeRegExp(uri)} +relayed ${escapeRegExp(coturn.address)}:\\d+ `));
        }
      }
      assert.ok(!passing.stdout.includes(secret) && !passing.stderr.includes(secret), "the probe printed the shared secret");

      const [up, down] = fleet;
      assert.ok(up && down);
      await down.stop();
      const failing = await runTurnCommand("probe", ["--timeout-ms", "1000", ...turnUris], { TURN_SHARED_SECRET: secret });
      assert.equal(failing.code, 1, failing.stdout + failing.stderr);
      const lineFor = (uri: string): string => failing.stdout.split("\n").find((line) => line.includes(uri)) ?? "";
      for (const uri of up.uris()) assert.match(lineFor(uri), /^ok /, failing.stdout);
      assert.match(lineFor(down.uris()[0] ?? ""), new RegExp(`^FAIL +\\S+ +port unreachable: nothing listens on ${escapeRegExp(down.address)}:${down.port} over UDP`));
      assert.match(lineFor(down.uris()[1] ?? ""), new RegExp(`^FAIL +\\S+ +connection refused by ${escapeRegExp(down.address)}:${down.port} `));
    });
  });

  describe("secret rotation from Secret Manager", () => {
    // The kit renders every host from the same Secret Manager secret (turn:config → resolveSecrets),
    // so a rotation is one new version that each host picks up on its next render.
    const SECRET_NAME = "projects/demo-webrtc-lite/secrets/TURN_SHARED_SECRET";
    const DAY = 86_400;
    const WINDOW = 2 * DAY;
    const oldSecret = newSecret();
    const newSecretValue = newSecret();
    const start = Date.now();
    const versions = [{ name: `${SECRET_NAME}/versions/1`, createTime: { seconds: String(Math.floor(start / 1000) - 30 * DAY) }, data: oldSecret }];
    let fleet: TestCoturn[] = [];

    /** Each host renders from Secret Manager as `turn:config` does at `nowMillis`, and (re)starts coturn. */
    const renderEveryHost = async (nowMillis: number): Promise<void> => {
      const secrets = await resolveSecrets(
        { kind: "secret-manager", secret: SECRET_NAME, rotationWindowSeconds: WINDOW },
        async () => new FakeSecretManager(versions),
        nowMillis,
      );
      await stopFleet(fleet);
      fleet = await startFleet(secrets);
    };
    /** The function's handler (the code the callable runs) configured with `secret` and both hosts. */
    const mintWith = (secret: string, uid: string): Minted =>
      handleGetTurnCredentials(
        { auth: { uid, token: {} } as never, app: undefined, data: { ttl: 300 } },
        { secret, turnUris: fleetTurnUris(fleet), stunUris: "", enforceAppCheck: false },
      );
    const assertEveryHost = async (minted: Minted, accepted: boolean): Promise<void> => {
      for (const coturn of fleet) {
        const result = await relayThroughCoturn(coturn.port, minted.username, minted.credential, "udp", coturn.address);
        assert.equal(result.relayed, accepted, `${coturn.address}: ${result.output}`);
        if (!accepted) assert.ok(authFailureLogged(coturn, minted.username), `${coturn.address} logged no auth failure`);
      }
    };
    const staticSecretLines = (coturn: TestCoturn): number => coturn.config.match(/^static-auth-secret=/gm)?.length ?? 0;

    after(async () => {
      await stopFleet(fleet);
    });

    it("before: both hosts accept what the function signs with the one secret", async () => {
      await renderEveryHost(start);
      assert.deepEqual(fleet.map(staticSecretLines), [1, 1]);
      await assertEveryHost(mintWith(oldSecret, "rotating-user"), true);
    });

    it("new version added: both hosts accept the old and the new secret; the function switches to the new one", async () => {
      versions.push({ name: `${SECRET_NAME}/versions/2`, createTime: { seconds: String(Math.floor(start / 1000)) }, data: newSecretValue });
      await renderEveryHost(start + 60_000);
      assert.deepEqual(fleet.map(staticSecretLines), [2, 2]);
      // Credentials signed before the function was redeployed keep working on every host …
      await assertEveryHost(mintWith(oldSecret, "rotating-user"), true);
      // … and so do those of the redeployed function.
      await assertEveryHost(mintWith(newSecretValue, "rotating-user"), true);
    });

    it("after the rotation window: both hosts drop the old secret, refuse its credentials and accept the new", async () => {
      await renderEveryHost(start + (WINDOW + 60) * 1000);
      assert.deepEqual(fleet.map(staticSecretLines), [1, 1]);
      await assertEveryHost(mintWith(oldSecret, "rotating-user"), false);
      await assertEveryHost(mintWith(newSecretValue, "rotating-user"), true);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
