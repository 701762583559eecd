import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { secretSourceFromEnvironment } from "@webrtc-lite/turn/secrets";
import { settingsFromEnvironment } from "@webrtc-lite/turn/settings";
import { stringValue } from "./hcl";
import { KIT_DIR, RESERVED_IP, SAMPLE_VARIABLES, sampleEvaluator, terraformModule } from "./fixture";

const KIT_PATH = join(KIT_DIR, "cloud-init.yaml");
const kitCloudInit = (): string => readFileSync(KIT_PATH, "utf8");

interface CloudInit {
  write_files: { path: string; permissions: string; content: string }[];
  runcmd: string[];
  packages: string[];
}

// KEY=value lines of the env file cloud-init writes (comments skipped).
function envFile(cloudInit: string): Record<string, string> {
  const file = (parse(cloudInit) as CloudInit).write_files.find((entry) => entry.path === "/etc/webrtc-lite/turn.env");
  assert.ok(file, "cloud-init writes no /etc/webrtc-lite/turn.env");
  assert.equal(file.permissions, "0600");
  const lines = file.content.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"));
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}

async function renderedUserData(readFile?: (path: string) => string): Promise<string> {
  return stringValue(await (await sampleEvaluator({}, readFile)).local("user_data"));
}

describe("infra/terraform: the VM's user data is the kit's cloud-init", () => {
  it("reads turn/cloud-init.yaml itself and changes only the example lines marked CHANGE", async () => {
    const kit = kitCloudInit().split("\n");
    const rendered = (await renderedUserData()).split("\n");
    assert.equal(rendered.length, kit.length);
    const changed = kit.flatMap((line, i) => (line === rendered[i] ? [] : [line.trim()]));
    assert.deepEqual(changed, [
      "TURN_DOMAIN=turn.example.com",
      "TURN_PUBLIC_IP=203.0.113.10",
      "TURN_PRIVATE_IP=10.0.0.5",
      "TURN_SECRET_NAME=projects/your-project-id/secrets/TURN_SHARED_SECRET",
      "TURN_PROBE_URIS=turn:turn.example.com:3478?transport=udp turn:turn.example.com:3478?transport=tcp turns:turn.example.com:443?transport=tcp turns:turn.example.com:5349?transport=tcp",
      "- npm install --prefix /opt/webrtc-lite-turn --omit=dev --no-audit --no-fund https://github.com/your-org/webrtc-lite/releases/download/v0.1.0/webrtc-lite-turn-0.1.0.tgz",
    ]);
    const module = await terraformModule();
    assert.equal(module.locals.kit_cloud_init, '${file("${path.module}/../../turn/cloud-init.yaml")}');
  });

  it("writes this host's values into the env file, under the kit's keys and nothing else", async () => {
    const rendered = await renderedUserData();
    assert.deepEqual(envFile(rendered), {
      TURN_DOMAIN: "turn.acme.test",
      TURN_PUBLIC_IP: RESERVED_IP,
      TURN_PRIVATE_IP: "10.0.0.10",
      TURN_SECRET_NAME: "projects/acme-calls/secrets/TURN_SHARED_SECRET",
      GOOGLE_APPLICATION_CREDENTIALS: "/etc/webrtc-lite/turn-secret-reader.json",
      TURN_PROBE_URIS: "turn:turn.acme.test:3478?transport=udp turn:turn.acme.test:3478?transport=tcp turns:turn.acme.test:443?transport=tcp turns:turn.acme.test:5349?transport=tcp",
    });
    assert.deepEqual(Object.keys(envFile(rendered)), Object.keys(envFile(kitCloudInit())));
  });

  it("the env file is one the kit's own tools accept: 1:1 NAT onto the fixed private address, the secret from Secret Manager", async () => {
    const env = envFile(await renderedUserData());
    const settings = settingsFromEnvironment(env);
    assert.ok(settings.ok, JSON.stringify(settings));
    assert.deepEqual(settings.settings.externalIp, { public: RESERVED_IP, private: "10.0.0.10" });
    assert.deepEqual(settings.settings.listeningIps, ["10.0.0.10"]);
    assert.deepEqual(secretSourceFromEnvironment(env), { kind: "secret-manager", secret: SAMPLE_VARIABLES.turn_secret_name, rotationWindowSeconds: 172_800 });
  });

  it("gives the VM the address the user data names: the 10th of the subnet, fixed at launch", async () => {
    const evaluator = await sampleEvaluator({ subnet_cidr: "10.20.30.0/26" });
    assert.equal(await evaluator.local("private_ip"), "10.20.30.10");
    assert.match(stringValue(await evaluator.local("user_data")), /^ {6}TURN_PRIVATE_IP=10\.20\.30\.10$/m);
  });

  it("installs the operator's published kit (no repository, no git) and leaves no example value behind", async () => {
    const rendered = await renderedUserData();
    const config = parse(rendered) as CloudInit;
    assert.deepEqual(
      config.runcmd.filter((command) => /\bnpm\b/.test(command)),
      ["npm install --prefix /opt/webrtc-lite-turn --omit=dev --no-audit --no-fund https://downloads.acme.test/webrtc-lite/webrtc-lite-turn-0.1.0.tgz"],
    );
    assert.ok(!config.packages.includes("git"));
    assert.deepEqual(config.runcmd.filter((command) => /\bgit\b|\/opt\/webrtc-lite\//.test(command)), []);
    for (const example of ["turn.example.com", "203.0.113.10", "10.0.0.5", "your-project-id", "your-org"]) assert.ok(!rendered.includes(example), example);
    assert.ok(rendered.startsWith("#cloud-config\n"));
  });

  it("a kit whose example line changed is caught by the VM's precondition, naming the line", async () => {
    const module = await terraformModule();
    const drifted = (path: string): string => readFileSync(path, "utf8").replace("TURN_PUBLIC_IP=203.0.113.10", "TURN_PUBLIC_IP=198.51.100.1");
    const evaluator = await sampleEvaluator({}, drifted);
    assert.deepEqual(await evaluator.local("kit_lines_missing"), ["TURN_PUBLIC_IP=203.0.113.10"]);
    const lifecycle = (module.resources.oci_core_instance.turn.lifecycle as Record<string, unknown>[])[0];
    const kitCheck = (lifecycle.precondition as { condition: string; error_message: string }[])[1];
    assert.equal(await evaluator.value(kitCheck.condition), false);
    assert.match(stringValue(await evaluator.value(kitCheck.error_message)), /no longer contains these example lines.*: TURN_PUBLIC_IP=203\.0\.113\.10\. Update cloud_init_lines in kit\.tf/);
    assert.equal(await (await sampleEvaluator()).value(kitCheck.condition), true);
  });

  it("waits for a route out before fetching packages, since the reserved address is attached after boot", () => {
    const config = parse(kitCloudInit()) as { bootcmd: string[][] };
    const [wait] = config.bootcmd;
    assert.deepEqual(wait.slice(0, 5), ["cloud-init-per", "once", "wait-for-route-out", "sh", "-c"]);
    assert.match(wait[5], /for i in \$\(seq 60\); do python3 -c .*create_connection.* && exit 0; sleep 5; done; exit 0$/);
  });

  it("is sent base64-encoded as the instance's user_data, with the trimmed SSH key", async () => {
    const module = await terraformModule();
    const metadata = module.resources.oci_core_instance.turn.metadata as Record<string, string>;
    const evaluator = await sampleEvaluator({ ssh_public_key: `${SAMPLE_VARIABLES.ssh_public_key}\n` });
    const sent = stringValue(await evaluator.value(metadata.user_data));
    assert.equal(Buffer.from(sent, "base64").toString("utf8"), await evaluator.local("user_data"));
    assert.equal(await evaluator.value(metadata.ssh_authorized_keys), SAMPLE_VARIABLES.ssh_public_key);
  });
});
