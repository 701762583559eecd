// A TURN host as cloud-init sets it up: the packed kit installed with production dependencies
// only, then the tools run exactly as the kit's systemd units run them (their PATH, their
// ExecStart), on the Node 22 that came with the install. Only the install prefix and the output
// files move into a temporary directory; everything else is the shipped text.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { startCoturn } from "@webrtc-lite/dev-stack/coturn";
import { newSecret } from "@webrtc-lite/dev-stack/turn-config";

const ROOT = join(__dirname, "..", "..");
const KIT = join(ROOT, "turn");
/** Where cloud-init installs the kit; the units and cloud-init name it literally. */
const HOST_PREFIX = "/opt/webrtc-lite-turn";
const HOST_CONFIG = "/etc/turnserver.conf";
const HOST_METRICS = "/var/lib/prometheus/node-exporter/webrtc_lite_turn.prom";

/** What the root `npm ci` put on the TURN host before, for the one line this test prints. */
const REPOSITORY_INSTALL = { megabytes: 792, files: 35_587 };

/** Packages of the repository's development that must not reach a TURN host. */
const DEV_TOOLING = ["esbuild", "typescript", "firebase-tools", "playwright-core", "@roamhq/wrtc", "mocha", "tsx", "zod", "@webrtc-lite/contract"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runFile(file: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: options.env, cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A shell's environment without what `npm`/`npx` exported to this test (npm_config_*, npm_package_*…). */
function shellEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_|^INIT_CWD$/i.test(name)));
}

/** The command and environment of a `[Service]` as systemd would run it with `variables` from its EnvironmentFile. */
function serviceCommand(unit: string, variables: Record<string, string>): { argv: string[]; environment: Record<string, string> } {
  const lines = unit.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
  const environment: Record<string, string> = {};
  for (const line of lines.filter((candidate) => candidate.startsWith("Environment="))) {
    const assignment = line.slice("Environment=".length);
    // The kit's units use one unquoted assignment per line; anything else needs a real parser.
    assert.match(assignment, /^[A-Z_]+=[^\s"']+$/, line);
    environment[assignment.slice(0, assignment.indexOf("="))] = assignment.slice(assignment.indexOf("=") + 1);
  }
  assert.deepEqual(lines.filter((line) => line.startsWith("EnvironmentFile=")), ["EnvironmentFile=/etc/webrtc-lite/turn.env"]);
  const exec = lines.filter((line) => line.startsWith("ExecStart="));
  assert.equal(exec.length, 1);
  assert.doesNotMatch(exec[0], /["'\\]/, "ExecStart needs quoting rules this test does not model");
  // systemd splits an unbraced $NAME into words at whitespace; the probe's URIs rely on that.
  const argv = exec[0]
    .slice("ExecStart=".length)
    .split(/\s+/)
    .flatMap((word) => {
      if (!word.startsWith("$")) return [word];
      const value = variables[word.slice(1)];
      assert.ok(value !== undefined, `${word} is not set`);
      return value.split(/\s+/);
    });
  return { argv, environment };
}

/** Size on disk (hard links once, as du counts) and number of regular files (as find -type f counts). */
async function footprint(root: string): Promise<{ megabytes: number; files: number; packages: string[] }> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const inodes = new Set<string>();
  const packages: string[] = [];
  let bytes = 0;
  let files = 0;
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const info = await lstat(path);
    if (entry.isFile()) files += 1;
    if (entry.isDirectory() && /(^|\/)node_modules\/(@[^/]+\/)?[^@/][^/]*$/.test(relative(root, path))) packages.push(relative(root, path));
    const inode = `${info.dev}:${info.ino}`;
    if (inodes.has(inode)) continue;
    inodes.add(inode);
    bytes += info.blocks * 512;
  }
  return { megabytes: Math.round(bytes / 1024 / 1024), files, packages };
}

describe("the packed kit installed as on a TURN host", function () {
  this.timeout(60_000);
  let dir: string;
  let prefix: string;
  const secret = newSecret();

  // The install prefix and output files of a host, moved under the temporary directory.
  const moved = (text: string): string =>
    text.replaceAll(HOST_PREFIX, prefix).replaceAll(HOST_CONFIG, join(dir, "turnserver.conf")).replaceAll(HOST_METRICS, join(dir, "webrtc_lite_turn.prom"));
  const installedKit = (): string => join(prefix, "node_modules", "@webrtc-lite", "turn");
  const installedUnit = (name: string): Promise<string> => readFile(join(installedKit(), "systemd", name), "utf8").then(moved);

  before(async function () {
    // Longer than the two commands' own time limits together, so no npm outlives the hook.
    this.timeout(90_000);
    dir = await mkdtemp(join(tmpdir(), "webrtc-lite-host-"));
    prefix = join(dir, "opt", "webrtc-lite-turn");
    const packed = join(dir, "packed");
    await mkdir(packed);
    // npm pack runs the kit's prepack (the esbuild build), as `npm run turn:pack` does.
    const pack = await runFile("npm", ["pack", "--workspace", "@webrtc-lite/turn", "--pack-destination", packed], { env: shellEnvironment(), cwd: ROOT, timeoutMs: 30_000 });
    assert.equal(pack.code, 0, pack.stderr);
    const { version } = JSON.parse(await readFile(join(KIT, "package.json"), "utf8")) as { version: string };
    assert.deepEqual(await readdir(packed), [`webrtc-lite-turn-${version}.tgz`]);

    // cloud-init's own command line, with the tarball instead of the published URL. --offline:
    // everything comes from npm's cache, so the test sends nothing beyond this machine.
    const { runcmd } = parse(await readFile(join(KIT, "cloud-init.yaml"), "utf8")) as { runcmd: string[] };
    const [line] = runcmd.filter((command) => command.startsWith("npm "));
    const words = moved(line).split(" ");
    assert.deepEqual(words.slice(0, -1), ["npm", "install", "--prefix", prefix, "--omit=dev", "--no-audit", "--no-fund"]);
    const args = [...words.slice(1, -1), "--offline", join(packed, `webrtc-lite-turn-${version}.tgz`)];
    const install = await runFile("npm", args, { env: shellEnvironment(), cwd: dir, timeoutMs: 45_000 });
    assert.equal(install.code, 0, install.stdout + install.stderr);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("holds the tools, their runtime dependencies and a Node 22, and none of the repository's dev tooling", async () => {
    const bin = join(prefix, "node_modules", ".bin");
    assert.deepEqual((await readdir(bin)).filter((name) => ["node", "webrtc-lite-turn-config", "webrtc-lite-turn-probe"].includes(name)).sort(), ["node", "webrtc-lite-turn-config", "webrtc-lite-turn-probe"]);
    const { megabytes, files, packages } = await footprint(prefix);
    const found = packages.filter((path) => DEV_TOOLING.some((name) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`)));
    assert.deepEqual(found, []);
    assert.ok(packages.includes("node_modules/@webrtc-lite/turn") && packages.includes("node_modules/@google-cloud/secret-manager"), packages.join(", "));
    console.log(
      `      TURN host install: ${megabytes} MB, ${files.toLocaleString("en-US")} files ` +
        `(the repository's npm ci it replaces: ${REPOSITORY_INSTALL.megabytes} MB, ${REPOSITORY_INSTALL.files.toLocaleString("en-US")} files)`,
    );
  });

  it("the units' PATH finds the install's own Node 22 before any system node", async () => {
    const { environment } = serviceCommand(await installedUnit("webrtc-lite-turn-config.service"), {});
    const run = await runFile("/bin/sh", ["-c", 'command -v node && node --version'], { env: { PATH: environment.PATH }, timeoutMs: 10_000 });
    const [path, version] = run.stdout.trim().split("\n");
    assert.equal(path, join(prefix, "node_modules", ".bin", "node"));
    assert.match(version ?? "", /^v22\.\d+\.\d+$/);
  });

  it("webrtc-lite-turn-config, as its unit runs it, renders the config with mode 0600 for turnserver", async () => {
    const out = join(dir, "turnserver.conf");
    const { argv, environment } = serviceCommand(await installedUnit("webrtc-lite-turn-config.service"), {});
    assert.deepEqual(argv, [join(prefix, "node_modules", ".bin", "webrtc-lite-turn-config"), "--out", out, "--owner", "turnserver"]);
    const [file, ...args] = argv;
    const run = await runFile(file, args, { env: { ...environment, TURN_DOMAIN: "turn.example.com", TURN_SHARED_SECRET: secret }, timeoutMs: 20_000 });
    assert.deepEqual(run, { code: 0, stdout: `turn:config: wrote ${out} (1 static-auth-secret line, mode 0600)\n`, stderr: "" });
    const info = await stat(out);
    assert.equal(info.mode & 0o777, 0o600);
    const turnserver = await runFile("id", ["turnserver"], { env: { PATH: "/usr/bin:/bin" }, timeoutMs: 5_000 });
    const [, uid, gid] = /^uid=(\d+)\(turnserver\) gid=(\d+)/.exec(turnserver.stdout) ?? [];
    assert.deepEqual([info.uid, info.gid], [Number(uid), Number(gid)]);
    const config = await readFile(out, "utf8");
    assert.deepEqual(config.match(/^static-auth-secret=.*$/gm), [`static-auth-secret=${secret}`]);
    assert.match(config, /^realm=turn\.example\.com$/m);
  });

  it("webrtc-lite-turn-probe, as its unit runs it, allocates over udp, tcp and tls on a real coturn", async () => {
    const coturn = await startCoturn([secret]);
    try {
      const ca = join(dir, "ca.pem");
      await writeFile(ca, coturn.certificate);
      const uris = [
        `turn:127.0.0.1:${coturn.port}?transport=udp`,
        `turn:127.0.0.1:${coturn.port}?transport=tcp`,
        `turns:127.0.0.1:${coturn.tlsPort}?transport=tcp`,
      ];
      const turnEnv = { TURN_SHARED_SECRET: secret, TURN_PROBE_URIS: uris.join(" ") };
      const { argv, environment } = serviceCommand(await installedUnit("webrtc-lite-turn-probe.service"), turnEnv);
      const metrics = join(dir, "webrtc_lite_turn.prom");
      assert.deepEqual(argv, [join(prefix, "node_modules", ".bin", "webrtc-lite-turn-probe"), "--prometheus-file", metrics, ...uris]);
      const [file, ...args] = argv;
      // The test's self-signed certificate, trusted the way a host trusts Let's Encrypt's: through
      // Node's CA store, so the unit's command line stays as shipped (no --ca).
      const run = await runFile(file, args, { env: { ...environment, ...turnEnv, NODE_EXTRA_CA_CERTS: ca }, timeoutMs: 30_000 });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const lines = run.stdout.trim().split("\n");
      assert.equal(lines.length, 5, run.stdout);
      uris.forEach((uri, index) => {
        assert.match(lines[index] ?? "", new RegExp(`^ok    ${uri.replace(/[.?]/g, "\\$&")}  relayed 127\\.0\\.0\\.1:\\d+  rtt \\d+\\.\\d ms$`));
      });
      assert.deepEqual(lines.slice(3), ["turn:probe: host 127.0.0.1: 3 of 3 URIs passed", "turn:probe: 3 of 3 URIs passed"]);
      assert.equal(run.stderr, "");
      assert.ok(!run.stdout.includes(secret), "the probe printed the shared secret");
      const text = await readFile(metrics, "utf8");
      assert.deepEqual(
        text.match(/^turn_probe_success\{.*$/gm),
        uris.map((uri, index) => `turn_probe_success{host="127.0.0.1",transport="${["udp", "tcp", "tls"][index]}",uri="${uri}"} 1`),
      );
    } finally {
      await coturn.stop();
    }
  });

  it("the installed units pass systemd-analyze verify against the install, and cloud-init's copies find their files", async () => {
    const units = join(dir, "units");
    await mkdir(units);
    const entries = await readdir(join(installedKit(), "systemd"), { withFileTypes: true });
    // The units, and coturn.service.d/ with the drop-in for port 443 (checked in deployment-files).
    const names = entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
    assert.equal(names.length, 6);
    assert.deepEqual(
      entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name),
      ["coturn.service.d"],
    );
    assert.ok(existsSync(join(installedKit(), "systemd", "coturn.service.d", "webrtc-lite.conf")), "the packed kit lacks the coturn drop-in");
    for (const name of names) await writeFile(join(units, name), await installedUnit(name));
    const verify = await runFile("systemd-analyze", ["verify", ...names.map((name) => join(units, name))], { env: shellEnvironment(), timeoutMs: 20_000 });
    assert.deepEqual(verify, { code: 0, stdout: "", stderr: "" });
    const cloudInit = moved(await readFile(join(KIT, "cloud-init.yaml"), "utf8"));
    const kitPath = new RegExp(`${installedKit().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/[\\w./-]+`, "g");
    const sources = [...cloudInit.matchAll(kitPath)].map((match) => match[0].replace(/\/\*$/, ""));
    assert.equal(sources.length, 4);
    for (const source of sources) assert.ok(existsSync(source), `cloud-init copies ${relative(prefix, source)}, which the install lacks`);
  });
});
