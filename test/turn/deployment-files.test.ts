import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";

const run = promisify(execFile);
const TURN = join(__dirname, "..", "..", "turn");
// Where cloud-init and turn/README.md install the packed kit, and where the kit's files then are.
const INSTALL = "/opt/webrtc-lite-turn";
const PACKAGE = `${INSTALL}/node_modules/@webrtc-lite/turn`;
const read = (path: string): string => readFileSync(join(TURN, path), "utf8");

interface Compose {
  services: Record<
    string,
    {
      image: string;
      container_name: string;
      network_mode: string;
      restart: string;
      command: string[];
      volumes: string[];
      cap_drop: string[];
      cap_add: string[];
      security_opt?: string[];
      logging: { driver: string; options: { tag: string } };
    }
  >;
}

describe("the kit's deployment files", () => {
  const compose = parse(read("docker-compose.yml")) as Compose;
  const coturn = compose.services.coturn;
  const cloudInit = read("cloud-init.yaml");
  const jail = read("fail2ban/jail.d/webrtc-lite-coturn.conf");

  it("compose pins a 4.x coturn image (not latest), uses host networking and restarts it", () => {
    assert.match(coturn.image, /^coturn\/coturn:4\.\d+\.\d+-r\d+$/);
    assert.deepEqual([coturn.network_mode, coturn.restart], ["host", "unless-stopped"]);
  });

  it("compose lets coturn bind 443 as the image's user with NET_BIND_SERVICE and no other capability", () => {
    assert.deepEqual([coturn.cap_drop, coturn.cap_add], [["ALL"], ["NET_BIND_SERVICE"]]);
    // no-new-privileges would drop the image's file capability on turnserver at exec.
    assert.ok(!(coturn.security_opt ?? []).some((option) => option.startsWith("no-new-privileges")));
  });

  it("the systemd drop-in gives Debian's coturn.service CAP_NET_BIND_SERVICE and only that, and systemd accepts it", async () => {
    const dropIn = read("systemd/coturn.service.d/webrtc-lite.conf").split("\n");
    for (const line of ["[Service]", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes"]) {
      assert.ok(dropIn.includes(line), line);
    }
    assert.ok(!dropIn.some((line) => /^User=|^ExecStart=/.test(line)), "the drop-in must not change who coturn runs as or how");
    // Debian's unit with the drop-in beside it, as cloud-init's cp -r leaves them.
    const units = await mkdtemp(join(tmpdir(), "webrtc-lite-units-"));
    try {
      await cp("/lib/systemd/system/coturn.service", join(units, "coturn.service"));
      await cp(join(TURN, "systemd", "coturn.service.d"), join(units, "coturn.service.d"), { recursive: true });
      // By name on a unit path of its own, so systemd reads the drop-in directory too (an unknown
      // key there is reported; given a file path, verify skips drop-ins).
      const shown = await run("systemd-analyze", ["verify", "coturn.service"], { env: { ...process.env, SYSTEMD_UNIT_PATH: `${units}:` } }).then(
        ({ stdout, stderr }) => stdout + stderr,
        (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
      );
      assert.equal(shown.trim(), "");
    } finally {
      await rm(units, { recursive: true, force: true });
    }
  });

  it("the certbot hook reloads coturn's certificate with SIGUSR2 instead of restarting it (no call drops at a renewal)", () => {
    const hook = read("certbot/deploy-hook.sh");
    assert.match(hook, /^ {2}systemctl kill --signal=SIGUSR2 coturn\.service$/m);
    assert.match(hook, new RegExp(`^ {2}docker kill --signal=SIGUSR2 ${coturn.container_name} >/dev/null$`, "m"));
    assert.doesNotMatch(hook, /(systemctl|docker) restart/);
  });

  it("compose mounts the rendered config read-only where coturn is told to read it", () => {
    assert.ok(coturn.volumes.includes("/etc/coturn/turnserver.conf:/etc/coturn/turnserver.conf:ro"), coturn.volumes.join(", "));
    assert.deepEqual(coturn.command, ["-c", "/etc/coturn/turnserver.conf"]);
  });

  it("compose logs to journald under the names the fail2ban jail and filter match", () => {
    assert.equal(coturn.logging.driver, "journald");
    assert.match(jail, new RegExp(`CONTAINER_NAME=${coturn.container_name}$`, "m"));
    assert.match(read("fail2ban/filter.d/webrtc-lite-coturn.conf"), new RegExp(`^_daemon = ${coturn.logging.options.tag}$`, "m"));
  });

  it("systemd units pass systemd-analyze verify, but for the kit's install this machine does not have", async () => {
    const units = readdirSync(join(TURN, "systemd"), { withFileTypes: true }).filter((entry) => entry.isFile()).map((unit) => join(TURN, "systemd", unit.name));
    assert.equal(units.length, 6);
    // systemd-analyze checks that ExecStart is executable; /opt/webrtc-lite-turn exists only on a
    // TURN host. test/turn/host-install.test.ts verifies the same units against a real install.
    const output = await run("systemd-analyze", ["verify", ...units]).then(
      ({ stdout, stderr }) => stdout + stderr,
      (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
    );
    assert.deepEqual(output.trim().split("\n").sort(), [
      `webrtc-lite-turn-config.service: Command ${INSTALL}/node_modules/.bin/webrtc-lite-turn-config is not executable: No such file or directory`,
      `webrtc-lite-turn-probe.service: Command ${INSTALL}/node_modules/.bin/webrtc-lite-turn-probe is not executable: No such file or directory`,
    ]);
  });

  it("the tool units run the installed bins with the install's node_modules/.bin first on PATH", () => {
    const { bin } = JSON.parse(read("package.json")) as { bin: Record<string, string> };
    const service = (name: string): string[] => read(`systemd/${name}.service`).split("\n");
    for (const name of Object.keys(bin)) {
      const lines = service(name);
      assert.ok(lines.includes(`Environment=PATH=${INSTALL}/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`), name);
      assert.equal(lines.filter((line) => line.startsWith("ExecStart=")).length, 1, name);
      assert.ok(lines.some((line) => line.startsWith(`ExecStart=${INSTALL}/node_modules/.bin/${name} `)), name);
      assert.deepEqual(lines.filter((line) => !line.startsWith("#") && /WorkingDirectory|npm/.test(line)), [], name);
    }
    assert.deepEqual(Object.keys(bin).sort(), ["webrtc-lite-turn-config", "webrtc-lite-turn-probe"]);
  });

  it("cloud-init installs the packed kit where the units expect it, without git or the repository", () => {
    assert.ok(cloudInit.startsWith("#cloud-config\n"));
    const config = parse(cloudInit) as { packages: string[]; runcmd: string[] };
    for (const name of ["coturn", "fail2ban", "python3-systemd", "certbot", "nodejs", "npm"]) assert.ok(config.packages.includes(name), name);
    assert.ok(!config.packages.includes("git"));
    const allowed = config.runcmd.filter((command) => command.startsWith("ufw allow ")).map((command) => command.slice("ufw allow ".length));
    assert.deepEqual(allowed, ["22/tcp", "80/tcp", "3478/udp", "3478/tcp", "443/tcp", "5349/tcp", "49152:65535/udp"]);
    assert.deepEqual(
      config.runcmd.filter((command) => /\b(npm|git|tsx)\b/.test(command)),
      [`npm install --prefix ${INSTALL} --omit=dev --no-audit --no-fund https://github.com/your-org/webrtc-lite/releases/download/v0.1.0/webrtc-lite-turn-0.1.0.tgz`],
    );
    assert.ok(!cloudInit.includes("/opt/webrtc-lite/"), "cloud-init still refers to a repository checkout");
  });

  it("every kit file cloud-init copies exists in turn/ and is shipped by package.json files", () => {
    const { files } = JSON.parse(read("package.json")) as { files: string[] };
    const paths = [...cloudInit.matchAll(new RegExp(`${PACKAGE}/([\\w./-]+)`, "g"))].map((match) => match[1].replace(/\/\*?$/, ""));
    assert.deepEqual(paths, [
      "certbot/deploy-hook.sh",
      "systemd",
      "fail2ban/filter.d/webrtc-lite-coturn.conf",
      "fail2ban/jail.d/webrtc-lite-coturn.conf",
    ]);
    for (const path of paths) {
      assert.ok(existsSync(join(TURN, path)), `${path} does not exist`);
      assert.ok(files.includes(path.split("/")[0]), `${path} is not in package.json files, so the tarball lacks it`);
    }
  });

  it("the certbot deploy hook is valid shell", async () => {
    await run("sh", ["-n", join(TURN, "certbot", "deploy-hook.sh")]);
  });
});
