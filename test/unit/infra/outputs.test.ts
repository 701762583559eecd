import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseTurnUris, resolveStunUris } from "@webrtc-lite/contract/turn-rest";
import { stringValue } from "./hcl";
import { KIT_DIR, RESERVED_IP, sampleEvaluator, terraformModule } from "./fixture";

describe("infra/terraform: outputs", () => {
  it("turn_uris is a TURN_URIS line that getTurnCredentials' parseTurnUris accepts as is", async () => {
    const module = await terraformModule();
    const line = stringValue(await (await sampleEvaluator()).value(module.outputs.turn_uris.value));
    assert.ok(line.startsWith("TURN_URIS="), line);
    const parsed = parseTurnUris(line.slice("TURN_URIS=".length));
    assert.deepEqual(parsed, {
      ok: true,
      uris: ["turn:turn.acme.test:3478?transport=udp", "turn:turn.acme.test:3478?transport=tcp", "turns:turn.acme.test:443?transport=tcp"],
    });
    assert.deepEqual(resolveStunUris("", parsed.uris), { ok: true, uris: ["stun:turn.acme.test:3478"] });
  });

  it("for turn.example.com it is the very line turn/README.md tells the operator to set", async () => {
    const module = await terraformModule();
    const line = stringValue(await (await sampleEvaluator({ domain: "turn.example.com" })).value(module.outputs.turn_uris.value));
    assert.ok(readFileSync(join(KIT_DIR, "README.md"), "utf8").split("\n").includes(line), line);
  });

  it("probe_command checks the URIs the function hands out, and TLS on 5349, which coturn serves beside 443", async () => {
    const module = await terraformModule();
    const evaluator = await sampleEvaluator();
    const uris = stringValue(await evaluator.value(module.outputs.turn_uris.value)).slice("TURN_URIS=".length).split(",");
    assert.equal(
      await evaluator.value(module.outputs.probe_command.value),
      `npm run turn:probe -- ${uris.join(" ")} turns:turn.acme.test:5349?transport=tcp`,
    );
  });

  it("dns_a_record and public_ip give the reserved address under the TURN domain", async () => {
    const module = await terraformModule();
    const evaluator = await sampleEvaluator();
    assert.deepEqual(await evaluator.value(module.outputs.dns_a_record.value), { name: "turn.acme.test", type: "A", value: RESERVED_IP });
    assert.equal(await evaluator.value(module.outputs.public_ip.value), RESERVED_IP);
  });

  it("every output says what it is for", async () => {
    const module = await terraformModule();
    assert.deepEqual(Object.keys(module.outputs).sort(), ["dns_a_record", "probe_command", "public_ip", "ssh_command", "turn_uris"]);
    for (const [name, body] of Object.entries(module.outputs)) assert.ok(typeof body.description === "string" && body.description.length > 20, name);
  });
});
