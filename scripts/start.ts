// `npm start`: the local stack, and proof that it works. Starts Debian's coturn on loopback
// (the kit's config) with a fresh shared secret, the Auth, Functions and Hosting emulators with
// the same secret and the browser self-test page, signs a user in, asks getTurnCredentials for
// a credential and has coturn accept it (a real TURN Allocate and relayed data). Then it keeps
// everything running until Ctrl-C (open the printed self-test URL and click once), or exits
// with `--once`.
import { callRaw, signUpUser } from "@webrtc-lite/dev-stack/callable";
import { relayThroughCoturn, startCoturn } from "@webrtc-lite/dev-stack/coturn";
import { startEmulatorStack } from "@webrtc-lite/dev-stack/emulators";
import { functionParams, newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { buildSelfTest, writeSelfTestEmulators } from "@webrtc-lite/dev-stack/selftest";

interface Credentials {
  username: string;
  credential: string;
  ttl: number;
  expiresAt: number;
  uris: string[];
}

async function main(): Promise<void> {
  const once = process.argv.includes("--once");
  const secret = newSecret();

  // Loopback peers are allowed so that the check below can relay between two local clients.
  const coturn = await startCoturn([secret], { relayBetweenLocalClients: true });
  console.log(`✔ coturn ${coturn.uris().join(", ")} (use-auth-secret, fresh secret for this run)`);
  const selfTestDir = await buildSelfTest();
  const stack = await startEmulatorStack({
    emulators: ["auth", "functions", "hosting"],
    hostingPublic: selfTestDir,
    params: functionParams(coturn.uris()),
    secrets: { TURN_SHARED_SECRET: secret },
    preferredPorts: { auth: 9099, functions: 5001, hosting: 5000, hub: 4400 },
  });
  await writeSelfTestEmulators(selfTestDir, { auth: stack.ports.auth, functions: stack.ports.functions });
  const stop = async (): Promise<void> => {
    await stack.stop();
    await coturn.stop();
  };
  console.log(`✔ Auth emulator      http://127.0.0.1:${stack.ports.auth}`);
  console.log(`✔ Functions emulator ${stack.functionUrl("getTurnCredentials")}`);
  console.log(`✔ Self-test page     http://127.0.0.1:${stack.ports.hosting}/  (open it and click once)`);

  try {
    const user = await signUpUser(stack.ports.auth, "anonymous");
    const started = Date.now();
    const answer = await callRaw(stack.functionUrl("getTurnCredentials"), { idToken: user.idToken, data: { ttl: 600 } });
    if (answer.status !== 200) throw new Error(`getTurnCredentials answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    const minted = answer.body.result as Credentials;
    console.log(`✔ getTurnCredentials for anonymous user ${user.uid} in ${Date.now() - started} ms:`);
    console.log(`    username   ${minted.username}`);
    console.log(`    credential ${minted.credential.slice(0, 6)}… (HMAC-SHA1, valid ${minted.ttl} s, until ${new Date(minted.expiresAt * 1000).toISOString()})`);
    console.log(`    uris       ${minted.uris.join(", ")}`);

    for (const transport of ["udp", "tcp"] as const) {
      const relayStarted = Date.now();
      const result = await relayThroughCoturn(coturn.port, minted.username, minted.credential, transport);
      if (!result.relayed) throw new Error(`coturn refused the credential over ${transport}:\n${result.output}`);
      console.log(`✔ coturn accepted it over ${transport}: allocated relays and relayed data (${Date.now() - relayStarted} ms, turnutils_uclient)`);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  if (once) {
    await stop();
    console.log("Done (--once).");
    return;
  }
  console.log(
    `\nThe stack is running. Open http://127.0.0.1:${stack.ports.hosting}/ for the TURN self-test, or point an app at the emulators above; press Ctrl-C to stop.`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await stop();
}

main().catch((error: unknown) => {
  console.error(`✘ ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
