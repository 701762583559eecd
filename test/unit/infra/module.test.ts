import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { Evaluator, loadModule, stringValue, type Body } from "./hcl";
import { TERRAFORM_DIR, terraformModule, sampleEvaluator } from "./fixture";

// Every `var.x`, `local.x`, `data.t.n` and `resource_type.n` the files mention, as text.
function references(module: Body): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === "string") {
      for (const match of value.matchAll(/\b(var|local)\.([a-z0-9_]+)|\b(data\.oci_[a-z0-9_]+\.[a-z0-9_]+)|\b(oci_[a-z0-9_]+\.[a-z0-9_]+)/g)) {
        found.add(match[1] ? `${match[1]}.${match[2]}` : (match[3] ?? match[4]));
      }
    } else if (value !== null && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(module);
  return [...found].sort();
}

describe("infra/terraform: the module", () => {
  it("has exactly the expected files, each parsed by HCL's own parser", async () => {
    const module = await terraformModule();
    assert.deepEqual(module.files, ["instance.tf", "kit.tf", "network.tf", "outputs.tf", "variables.tf", "versions.tf"]);
    assert.deepEqual(readdirSync(TERRAFORM_DIR).filter((name) => /\.tf(\.json)?$/.test(name)), module.files);
  });

  it("the loader refuses a syntax error, an unknown block and a name declared twice", async () => {
    await assert.rejects(parse("broken.tf", 'variable "x" {\n  type = \n}\n'), /broken\.tf/);
    await assert.rejects(parse("unclosed.tf", 'locals {\n  a = "x\n'), /unclosed\.tf/);
    const duplicate = await parse("a.tf", 'variable "x" {}\nvariable "x" {}\n');
    assert.equal((duplicate.variable as Record<string, unknown[]>).x.length, 2);
  });

  it("pins Terraform and the OCI provider's 5.x line, and signs with the ~/.oci/config profile", async () => {
    const module = await terraformModule();
    assert.equal(module.terraform.length, 1);
    const [settings] = module.terraform;
    assert.equal(settings.required_version, "~> 1.5");
    const providers = (settings.required_providers as Body[])[0];
    assert.deepEqual(providers, { oci: { source: "oracle/oci", version: "~> 5.0" } });
    assert.deepEqual(Object.keys(module.providers), ["oci"]);
    assert.deepEqual(module.providers.oci, { region: "${var.region}", config_file_profile: "${var.oci_config_profile}" });
  });

  it("every reference names a declared variable, local, data source or resource", async () => {
    const module = await terraformModule();
    const declared = new Set([
      ...Object.keys(module.variables).map((name) => `var.${name}`),
      ...Object.keys(module.locals).map((name) => `local.${name}`),
      ...Object.entries(module.data).flatMap(([type, named]) => Object.keys(named).map((name) => `data.${type}.${name}`)),
      ...Object.entries(module.resources).flatMap(([type, named]) => Object.keys(named).map((name) => `${type}.${name}`)),
    ]);
    const everything = { ...module, dir: "", files: [] } as unknown as Body;
    const undeclared = references(everything).filter((reference) => !declared.has(reference));
    assert.deepEqual(undeclared, []);
    // And nothing is declared that nothing uses (apart from the provider's inputs).
    const used = new Set(references(everything));
    assert.deepEqual([...declared].filter((name) => !used.has(name) && name.startsWith("local.")), []);
  });

  it("declares the network, the reserved address and the VM, and nothing billable besides", async () => {
    const module = await terraformModule();
    const resources = Object.entries(module.resources).flatMap(([type, named]) => Object.keys(named).map((name) => `${type}.${name}`));
    assert.deepEqual(resources.sort(), [
      "oci_core_default_security_list.closed",
      "oci_core_instance.turn",
      "oci_core_internet_gateway.turn",
      "oci_core_public_ip.turn",
      "oci_core_route_table.turn",
      "oci_core_security_list.turn",
      "oci_core_subnet.turn",
      "oci_core_vcn.turn",
    ]);
    const instance = module.resources.oci_core_instance.turn;
    assert.equal(instance.shape, "${var.shape}");
    assert.equal(module.resources.oci_core_public_ip.turn.lifetime, "RESERVED");
  });

  it("defaults to an Always Free shape, sized within the free allowance, with no ephemeral address", async () => {
    const module = await terraformModule();
    const defaults = new Evaluator(module, { variables: {} });
    const shape = await defaults.value(module.resources.oci_core_instance.turn.shape);
    assert.equal(shape, "VM.Standard.A1.Flex");
    assert.deepEqual([module.variables.ocpus.default, module.variables.memory_in_gbs.default, module.variables.boot_volume_size_in_gbs.default], [1, 6, 50]);
    const vnic = (module.resources.oci_core_instance.turn.create_vnic_details as Body[])[0];
    assert.equal(vnic.assign_public_ip, false);
    assert.equal(vnic.private_ip, "${local.private_ip}");
  });

  it("sizes only the flexible shape (E2.1.Micro takes no shape_config)", async () => {
    const module = await terraformModule();
    const dynamic = (module.resources.oci_core_instance.turn.dynamic as Record<string, Body[]>).shape_config[0];
    for (const [shape, expected] of [["VM.Standard.A1.Flex", [1]], ["VM.Standard.E2.1.Micro", []]] as const) {
      assert.deepEqual(await (await sampleEvaluator({ shape })).value(dynamic.for_each), expected, shape);
    }
  });

  it("creates the VM and attaches the address only with launch_instance = true", async () => {
    const module = await terraformModule();
    for (const launch of [false, true]) {
      const evaluator = await sampleEvaluator({ launch_instance: launch });
      assert.equal(await evaluator.value(module.resources.oci_core_instance.turn.count), launch ? 1 : 0);
      assert.equal(await evaluator.value(module.data.oci_core_vnic_attachments.turn.count), launch ? 1 : 0);
    }
    const attach = module.resources.oci_core_public_ip.turn.private_ip_id;
    assert.equal(await (await sampleEvaluator({ launch_instance: false })).value(attach), null);
  });

  it("the VM refuses to plan before the address is reserved, with the next step in the message", async () => {
    const module = await terraformModule();
    const lifecycle = (module.resources.oci_core_instance.turn.lifecycle as Body[])[0];
    const [reserved] = lifecycle.precondition as { condition: string; error_message: string }[];
    const before = new Evaluator(module, { variables: { name_prefix: "webrtc-lite-turn", domain: "turn.acme.test" }, objects: { "data.oci_core_public_ips.reserved": { public_ips: [] } } });
    assert.equal(await before.value(reserved.condition), false);
    assert.match(stringValue(await before.value(reserved.error_message)), /named webrtc-lite-turn-ip .* launch_instance = false first, point the DNS A record of turn\.acme\.test/);
    assert.equal(await (await sampleEvaluator()).value(reserved.condition), true);
  });

  it("ignores state, plans and the operator's tfvars in git, but not the example", () => {
    const ignored = readFileSync(join(TERRAFORM_DIR, ".gitignore"), "utf8").split("\n");
    for (const pattern of [".terraform/", "*.tfstate", "*.tfstate.*", "terraform.tfvars", "*.auto.tfvars"]) assert.ok(ignored.includes(pattern), pattern);
    assert.ok(!ignored.some((pattern) => pattern.includes("example") || pattern === "*.tfvars"));
  });

  it("loadModule reads the same blocks as a second, independent parse", async () => {
    const again = await loadModule(TERRAFORM_DIR);
    assert.deepEqual(Object.keys(again.variables).sort(), Object.keys((await terraformModule()).variables).sort());
  });
});
