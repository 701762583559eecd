import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";

const run = promisify(execFile);
const TURN = join(__dirname, "..", "..", "turn");
const read = (path: string): string => readFileSync(join(TURN, path), "utf8");

interface Compose {
  services: Record<string, { image: string; container_name: string; network_mode: string; restart: string; command: string[]; volumes: string[]; logging: { driver: string; options: { tag: string } } }>;
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

  it("compose mounts the rendered config read-only where coturn is told to read it", () => {
    assert.ok(coturn.volumes.includes("/etc/coturn/turnserver.conf:/etc/coturn/turnserver.conf:ro"), coturn.volumes.join(", "));
    assert.deepEqual(coturn.command, ["-c", "/etc/coturn/turnserver.conf"]);
  });

  it("compose logs to journald under the names the fail2ban jail and filter match", () => {
    assert.equal(coturn.logging.driver, "journald");
    assert.match(jail, new RegExp(`CONTAINER_NAME=${coturn.container_name}$`, "m"));
    assert.match(read("fail2ban/filter.d/webrtc-lite-coturn.conf"), new RegExp(`^_daemon = ${coturn.logging.options.tag}$`, "m"));
  });

  it("systemd units pass systemd-analyze verify", async () => {
    const units = readdirSync(join(TURN, "systemd")).map((unit) => join(TURN, "systemd", unit));
    assert.equal(units.length, 6);
    const { stdout, stderr } = await run("systemd-analyze", ["verify", ...units]);
    assert.equal(stdout + stderr, "");
  });

  it("cloud-init opens exactly the kit's ports and installs files that exist in the repository", () => {
    assert.ok(cloudInit.startsWith("#cloud-config\n"));
    const config = parse(cloudInit) as { packages: string[]; runcmd: string[] };
    for (const name of ["coturn", "fail2ban", "python3-systemd", "certbot", "nodejs", "npm"]) assert.ok(config.packages.includes(name), name);
    const allowed = config.runcmd.filter((command) => command.startsWith("ufw allow ")).map((command) => command.slice("ufw allow ".length));
    assert.deepEqual(allowed, ["22/tcp", "80/tcp", "3478:3479/udp", "3478:3479/tcp", "5349:5350/tcp", "49152:65535/udp"]);
    const repoPaths = [...cloudInit.matchAll(/\/opt\/webrtc-lite\/(turn\/[\w./-]+)/g)].map((match) => match[1].replace(/\/\*$/, ""));
    assert.ok(repoPaths.length >= 4);
    for (const path of repoPaths) assert.ok(existsSync(join(TURN, "..", path)), `${path} does not exist`);
  });

  it("the certbot deploy hook is valid shell", async () => {
    await run("sh", ["-n", join(TURN, "certbot", "deploy-hook.sh")]);
  });
});
