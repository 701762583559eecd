import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect as connectTls } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { handleGetTurnCredentials } from "#functions/credentials/handler";
import { TurnClient, type Allocation } from "@webrtc-lite/turn/client";
import { DEFAULT_PORTS } from "@webrtc-lite/turn/settings";
import { startCoturn, type TestCoturn } from "@webrtc-lite/dev-stack/coturn";
import { startProcess } from "@webrtc-lite/dev-stack/processes";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";
import { waitFor } from "@webrtc-lite/dev-stack/wait";
import { MONITORING_DIR, readShippedRules } from "../helpers/monitoring";
import { runTurnCommand } from "../helpers/turn-cli";
import { KIT_DIR, sampleEvaluator, terraformModule } from "../unit/infra/fixture";

const run = promisify(execFile);

// Loopback addresses of their own, so that this test's port 443 meets nothing else's.
const ADDRESS = "127.0.0.44";
const WITHOUT_CAPABILITY = "127.0.0.45";
const TLS_PORT: number = DEFAULT_PORTS.tls;
/** CAP_NET_BIND_SERVICE is capability 10: bit 10 of /proc/<pid>/status's capability masks. */
const NET_BIND_SERVICE_MASK = (1n << 10n).toString(16).padStart(16, "0");

describe("TURN over TLS on 443: coturn as turnserver with CAP_NET_BIND_SERVICE, a turns:…:443 credential, the probe and its alert", function () {
  this.timeout(60_000);
  const secret = newSecret();
  let coturn: TestCoturn | undefined;
  let dir: string;
  let caPath: string;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log("\n!!! SKIPPED: TURN over TLS on 443: binding port 443 and starting coturn as user turnserver need root. !!!\n");
      this.skip();
    }
    coturn = await startCoturn([secret], {
      address: ADDRESS,
      tlsPort: TLS_PORT,
      relayBetweenLocalClients: true,
      runAs: { user: "turnserver", capabilities: ["net_bind_service"] },
    });
    dir = await mkdtemp(join(tmpdir(), "webrtc-lite-443-"));
    caPath = join(dir, "ca.pem");
    await writeFile(caPath, coturn.certificate);
  });
  after(async () => {
    await coturn?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const server = (): TestCoturn => {
    if (!coturn) throw new Error("coturn did not start");
    return coturn;
  };
  const tlsUri = (port = TLS_PORT): string => `turns:${ADDRESS}:${port}?transport=tcp`;

  it("coturn runs as turnserver, holding CAP_NET_BIND_SERVICE and nothing else, and serves TLS on 443 and on 5349's aux-server", async () => {
    const status = await readFile(`/proc/${server().pid()}/status`, "utf8");
    const field = (name: string): string => status.match(new RegExp(`^${name}:\\s+(.+)$`, "m"))?.[1] ?? "";
    const uid = (await run("id", ["-u", "turnserver"])).stdout.trim();
    assert.equal(field("Uid").split(/\s+/)[0], uid);
    assert.deepEqual([field("CapEff"), field("CapBnd")], [NET_BIND_SERVICE_MASK, NET_BIND_SERVICE_MASK]);
    assert.match(server().config, new RegExp(`^tls-listening-port=${TLS_PORT}$`, "m"));
    assert.match(server().config, new RegExp(`^aux-server=${ADDRESS.replace(/\./g, "\\.")}:${server().registeredTlsPort}$`, "m"));
    for (const port of [TLS_PORT, server().registeredTlsPort]) {
      assert.equal(await certificateNotAfter(port), new X509Certificate(server().certificate).validToDate.getTime(), `TLS on ${port}`);
    }
  });

  it("a turns:…:443 credential from getTurnCredentials allocates and relays data both ways over TLS", async () => {
    const turnUris = `turn:${ADDRESS}:${server().port}?transport=udp,${tlsUri()}`;
    const mint = (uid: string) =>
      handleGetTurnCredentials({ auth: { uid, token: {} } as never, app: undefined, data: { ttl: 300 } }, { secret, turnUris, stunUris: "", enforceAppCheck: false });
    const caller = mint("caller-on-443");
    const callee = mint("callee-on-443");
    assert.ok(caller.uris.includes(tlsUri()), caller.uris.join(" "));
    const ca = server().certificate;
    const [a, b] = await Promise.all(
      [caller, callee].map((minted) => TurnClient.connect({ transport: "tls", host: ADDRESS, port: TLS_PORT, tls: { ca } }, minted)),
    );
    assert.ok(a && b);
    try {
      const [relayA, relayB] = await Promise.all<[Promise<Allocation>, Promise<Allocation>]>([a.allocate(), b.allocate()]);
      await Promise.all([a.createPermission(relayB.relayed.address), b.createPermission(relayA.relayed.address)]);
      const received = (client: TurnClient): Promise<string> => new Promise((resolve) => client.onData((data) => resolve(data.toString("utf8"))));
      const atB = received(b);
      const atA = received(a);
      a.sendIndication(relayB.relayed.address, relayB.relayed.port, Buffer.from("caller to callee over 443"));
      b.sendIndication(relayA.relayed.address, relayA.relayed.port, Buffer.from("callee to caller over 443"));
      assert.deepEqual(await Promise.all([atB, atA]), ["caller to callee over 443", "callee to caller over 443"]);
      await Promise.all([a.release(), b.release()]);
    } finally {
      a.close();
      b.close();
    }
  });

  let prometheusFile = "";
  it("npm run turn:probe reports turns: on 443 and on 5349 as passing, with their Prometheus series", async () => {
    prometheusFile = join(dir, "turn.prom");
    const uris = [tlsUri(), tlsUri(server().registeredTlsPort)];
    const probe = await runTurnCommand("probe", ["--ca", caPath, "--prometheus-file", prometheusFile, ...uris], { TURN_SHARED_SECRET: secret });
    assert.equal(probe.code, 0, probe.stdout + probe.stderr);
    for (const uri of uris) assert.match(probe.stdout, new RegExp(`^ok +${escapeRegExp(uri)} +relayed ${escapeRegExp(ADDRESS)}:\\d+ `, "m"));
    const text = await readFile(prometheusFile, "utf8");
    assert.ok(text.includes(`turn_probe_success{host="${ADDRESS}",transport="tls",uri="${tlsUri()}"} 1\n`), text);
  });

  it("promtool: TurnProbeFailing fires on the 443 URI, with the probe's own labels, when that series turns 0", async () => {
    const text = await readFile(prometheusFile, "utf8");
    const series = text.split("\n").find((line) => line.startsWith("turn_probe_success{") && line.includes(`uri="${tlsUri()}"`));
    assert.ok(series, text);
    const labels = series.slice(0, series.lastIndexOf(" ")).replace("turn_probe_success", "");
    // The annotations as the shipped rule words them, for this URI and host.
    const rule = (await readShippedRules()).groups.flatMap((group) => group.rules).find((candidate) => candidate.alert === "TurnProbeFailing");
    assert.ok(rule);
    const fill = (text: string): string => text.replaceAll("{{ $labels.uri }}", tlsUri()).replaceAll("{{ $labels.host }}", ADDRESS);
    const annotations = Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([name, text]) => [name, fill(text)]));
    const unitTest = {
      rule_files: [join(MONITORING_DIR, "rules", "turn-alerts.yml")],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [{ series: `turn_probe_success${labels}`, values: "1 0x10" }],
          alert_rule_test: [
            { eval_time: "3m", alertname: "TurnProbeFailing", exp_alerts: [] },
            {
              eval_time: "5m",
              alertname: "TurnProbeFailing",
              exp_alerts: [{ exp_labels: { severity: "page", host: ADDRESS, transport: "tls", uri: tlsUri() }, exp_annotations: annotations }],
            },
          ],
        },
      ],
    };
    const file = join(dir, "tls-443.test.yml");
    await writeFile(file, stringify(unitTest));
    const promtool = await run("promtool", ["test", "rules", file]).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );
    assert.equal(promtool.code, 0, promtool.output);
  });

  it("a renewed certificate is served on 443 after SIGUSR2 (what the certbot hook sends), without a restart", async () => {
    const pid = server().pid();
    const certPath = server().config.match(/^cert=(.+)$/m)?.[1] ?? "";
    const keyPath = server().config.match(/^pkey=(.+)$/m)?.[1] ?? "";
    const before = await certificateNotAfter(TLS_PORT);
    // Renewed in place, as certbot replaces the files behind the live/ links; owner and mode stay.
    await run("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=webrtc-lite.test", "-addext", `subjectAltName=IP:${ADDRESS}`, "-keyout", keyPath, "-out", certPath,
    ]);
    await writeFile(caPath, await readFile(certPath));
    const renewed = new X509Certificate(await readFile(certPath)).validToDate.getTime();
    assert.ok(renewed > before);
    assert.ok(pid);
    process.kill(pid, "SIGUSR2");
    // Until coturn has reloaded, it serves the old certificate, which the new one as CA refuses: try again.
    const servesRenewed = async (): Promise<true | undefined> => {
      const served = await certificateNotAfter(TLS_PORT, await readFile(certPath)).catch(() => undefined);
      return served === renewed ? true : undefined;
    };
    await waitFor("coturn to serve the renewed certificate on 443", servesRenewed, 10_000);
    assert.equal(server().pid(), pid);
  });

  it("without the capability, coturn as turnserver cannot bind 443 (so the drop-in's line is what makes 443 work)", async () => {
    // The same rendered config on another loopback address (its ports are free there), started
    // by setpriv exactly as the running one but with no capability at all.
    const own = join(dir, "without-capability");
    await mkdir(own);
    const config = join(own, "turnserver.conf");
    const pidfile = join(own, "turnserver.pid");
    await writeFile(config, server().config.replaceAll(ADDRESS, WITHOUT_CAPABILITY).replace(/^pidfile=.*$/m, `pidfile=${pidfile}`), { mode: 0o600 });
    const [uid, gid] = await Promise.all(["-u", "-g"].map(async (flag) => Number((await run("id", [flag, "turnserver"])).stdout.trim())));
    await Promise.all([chown(dir, uid ?? 0, gid ?? 0), chown(own, uid ?? 0, gid ?? 0), chown(config, uid ?? 0, gid ?? 0)]);
    const refused = startProcess("setpriv", [`--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "turnserver", "-c", config]);
    try {
      await refused.waitForOutput(new RegExp(`Cannot bind TLS/TCP listener socket to addr ${escapeRegExp(WITHOUT_CAPABILITY)}:${TLS_PORT}`), 10_000);
      await assert.rejects(tlsHandshake(WITHOUT_CAPABILITY, TLS_PORT, server().certificate), /ECONNREFUSED/);
      assert.match(refused.output(), /bind: Permission denied/);
    } finally {
      await refused.stop(3_000);
    }
  });

  it("every firewall of the kit opens 443/tcp: ufw in cloud-init, Terraform's security list, and compose lets coturn bind it", async () => {
    const { runcmd } = parse(await readFile(join(KIT_DIR, "cloud-init.yaml"), "utf8")) as { runcmd: string[] };
    assert.ok(runcmd.includes(`ufw allow ${TLS_PORT}/tcp`), runcmd.join("\n"));
    const module = await terraformModule();
    const rules = (await (await sampleEvaluator()).value(module.resources.oci_core_security_list.turn.ingress_security_rules)) as Array<Record<string, unknown>>;
    const tcp = rules.filter((rule) => rule.protocol === "6").map((rule) => (rule.tcp_options as Array<{ min: number; max: number }>)[0]);
    assert.ok(tcp.some((range) => range && range.min === TLS_PORT && range.max === TLS_PORT), JSON.stringify(tcp));
    // Host networking: no port list to publish; the capability is what 443 needs there.
    const compose = parse(await readFile(join(KIT_DIR, "docker-compose.yml"), "utf8")) as { services: { coturn: { network_mode: string; cap_add: string[] } } };
    assert.deepEqual([compose.services.coturn.network_mode, compose.services.coturn.cap_add], ["host", ["NET_BIND_SERVICE"]]);
  });

  /** The notAfter (unix ms) of the certificate coturn presents on `port`. */
  async function certificateNotAfter(port: number, ca: Buffer = server().certificate): Promise<number> {
    return Date.parse(await tlsHandshake(ADDRESS, port, ca));
  }
});

/** Completes a TLS handshake and returns the server certificate's `valid_to`. */
function tlsHandshake(host: string, port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host, port, ca }, () => {
      const validTo = socket.getPeerCertificate().valid_to;
      socket.destroy();
      resolve(validTo);
    });
    socket.once("error", reject);
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
