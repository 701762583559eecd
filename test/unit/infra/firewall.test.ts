import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { DEFAULT_PORTS } from "@webrtc-lite/turn/settings";
import { stringValue, type Body, type Value } from "./hcl";
import { KIT_DIR, SAMPLE_VARIABLES, sampleEvaluator, terraformModule } from "./fixture";

/** One opening in the firewall: "udp 3478-3478 from 0.0.0.0/0". */
type Opening = string;

const PROTOCOLS: Record<string, string> = { "6": "tcp", "17": "udp" };

// The security list's ingress rules, evaluated, as openings.
function openings(rules: Value): Opening[] {
  return (rules as Record<string, Value>[]).map((rule) => {
    const protocol = PROTOCOLS[stringValue(rule.protocol)];
    assert.ok(protocol, `protocol ${JSON.stringify(rule.protocol)} is neither TCP (6) nor UDP (17)`);
    const options = (rule[`${protocol}_options`] as Record<string, number>[] | undefined) ?? [];
    assert.equal(options.length, 1, `a ${protocol} rule without a port range opens every port`);
    const other = protocol === "tcp" ? "udp_options" : "tcp_options";
    assert.ok(!(other in rule) && !("icmp_options" in rule) && !("destination_port_range" in rule));
    return `${protocol} ${options[0].min}-${options[0].max} from ${stringValue(rule.source)}`;
  });
}

// The kit's ports (turn/src/settings.ts) and certbot's, open to everyone; SSH from the operator.
// RFC 5780's alternate ports are not among them: coturn serves them only with a second address.
function kitOpenings(ports: Record<keyof typeof DEFAULT_PORTS, number>, operatorCidr: string): Opening[] {
  const world = "0.0.0.0/0";
  return [
    `udp ${ports.listening}-${ports.listening} from ${world}`,
    `tcp ${ports.listening}-${ports.listening} from ${world}`,
    `tcp ${ports.tls}-${ports.tls} from ${world}`,
    `tcp ${ports.registeredTls}-${ports.registeredTls} from ${world}`,
    `udp ${ports.minRelay}-${ports.maxRelay} from ${world}`,
    `tcp 80-80 from ${world}`,
    `tcp 22-22 from ${operatorCidr}`,
  ].sort();
}

// The `ufw allow` lines of the kit's cloud-init, in the same form (SSH comes from the cloud's list).
function ufwOpenings(cloudInit: string, operatorCidr: string): Opening[] {
  const { runcmd } = parse(cloudInit) as { runcmd: string[] };
  return runcmd
    .filter((command) => command.startsWith("ufw allow "))
    .map((command) => {
      const [ports, protocol] = command.slice("ufw allow ".length).split("/");
      const [min, max = min] = ports.split(":");
      return `${protocol} ${min}-${max} from ${min === "22" ? operatorCidr : "0.0.0.0/0"}`;
    })
    .sort();
}

async function securityList(): Promise<Body> {
  return (await terraformModule()).resources.oci_core_security_list.turn;
}

describe("infra/terraform: the security list", () => {
  const operator = SAMPLE_VARIABLES.operator_ssh_cidr;

  it("opens exactly the kit's ports from turn/src/settings.ts DEFAULT_PORTS, port 80 for certbot and SSH from the operator", async () => {
    const rules = await (await sampleEvaluator()).value((await securityList()).ingress_security_rules);
    assert.deepEqual(openings(rules).sort(), kitOpenings(DEFAULT_PORTS, operator));
  });

  it("opens TURN over TLS on 443 and 5349, and neither of RFC 5780's alternate ports (3479, 5350)", async () => {
    const opened = openings(await (await sampleEvaluator()).value((await securityList()).ingress_security_rules));
    for (const port of [443, 5349]) assert.ok(opened.includes(`tcp ${port}-${port} from 0.0.0.0/0`), opened.join("; "));
    const covers = (port: number): boolean =>
      opened.some((opening) => {
        const [min = 0, max = 0] = opening.split(" ")[1]?.split("-").map(Number) ?? [];
        return min <= port && port <= max;
      });
    assert.deepEqual([DEFAULT_PORTS.altListening, DEFAULT_PORTS.altTls].filter(covers), []);
  });

  it("the comparison catches drift: a moved relay range or an extra port (coturn's exporter, 9641) differs", async () => {
    const rules = (await (await sampleEvaluator()).value((await securityList()).ingress_security_rules)) as Record<string, Value>[];
    const actual = openings(rules).sort();
    assert.notDeepEqual(actual, kitOpenings({ ...DEFAULT_PORTS, minRelay: 40000 }, operator));
    const extra = [...rules, { protocol: "6", source: "0.0.0.0/0", tcp_options: [{ min: 9641, max: 9641 }] }];
    assert.notDeepEqual(openings(extra).sort(), kitOpenings(DEFAULT_PORTS, operator));
  });

  it("mirrors DEFAULT_PORTS in local.kit_ports, which the rules and the URIs use", async () => {
    const ports = await (await sampleEvaluator()).local("kit_ports");
    assert.deepEqual(ports, {
      listening: DEFAULT_PORTS.listening,
      alt_listening: DEFAULT_PORTS.altListening,
      tls: DEFAULT_PORTS.tls,
      alt_tls: DEFAULT_PORTS.altTls,
      registered_tls: DEFAULT_PORTS.registeredTls,
      min_relay: DEFAULT_PORTS.minRelay,
      max_relay: DEFAULT_PORTS.maxRelay,
    });
  });

  it("agrees with the ufw lines of the kit's cloud-init (the VM's own firewall)", async () => {
    const rules = await (await sampleEvaluator()).value((await securityList()).ingress_security_rules);
    const cloudInit = readFileSync(join(KIT_DIR, "cloud-init.yaml"), "utf8");
    assert.deepEqual(openings(rules).sort(), ufwOpenings(cloudInit, operator));
  });

  it("takes SSH's source from operator_ssh_cidr and every rule is stateful with a description", async () => {
    const list = await securityList();
    const rules = list.ingress_security_rules as Body[];
    assert.deepEqual(rules.filter((rule) => rule.source !== "0.0.0.0/0").map((rule) => rule.source), ["${var.operator_ssh_cidr}"]);
    for (const rule of rules) {
      assert.ok(!("stateless" in rule));
      assert.ok(typeof rule.description === "string" && rule.description.length > 10);
    }
  });

  it("lets everything out (packages, Let's Encrypt, Secret Manager, media toward peers) and nothing else in", async () => {
    const list = await securityList();
    assert.deepEqual((list.egress_security_rules as Body[]).map(({ protocol, destination }) => ({ protocol, destination })), [{ protocol: "all", destination: "0.0.0.0/0" }]);
    assert.deepEqual(Object.keys(list).sort(), ["compartment_id", "display_name", "egress_security_rules", "ingress_security_rules", "vcn_id"]);
  });

  it("is the subnet's only list, and the VCN's default list (SSH open to the world) is emptied", async () => {
    const module = await terraformModule();
    assert.deepEqual(module.resources.oci_core_subnet.turn.security_list_ids, ["${oci_core_security_list.turn.id}"]);
    const closed = module.resources.oci_core_default_security_list.closed;
    assert.deepEqual(Object.keys(closed).sort(), ["display_name", "manage_default_resource_id"]);
    assert.equal(closed.manage_default_resource_id, "${oci_core_vcn.turn.default_security_list_id}");
  });

  it("routes the subnet to the internet gateway", async () => {
    const module = await terraformModule();
    assert.equal(module.resources.oci_core_subnet.turn.route_table_id, "${oci_core_route_table.turn.id}");
    const [route] = module.resources.oci_core_route_table.turn.route_rules as Body[];
    assert.deepEqual(route, { destination: "0.0.0.0/0", destination_type: "CIDR_BLOCK", network_entity_id: "${oci_core_internet_gateway.turn.id}" });
  });
});
