import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { secretSourceFromEnvironment } from "@webrtc-lite/turn/secrets";
import { settingsFromEnvironment } from "@webrtc-lite/turn/settings";
import { Evaluator, stringValue, type Value } from "./hcl";
import { TERRAFORM_DIR, sampleEvaluator, terraformModule } from "./fixture";

// For each validated variable: values Terraform must accept and values it must refuse.
const SAMPLES: Record<string, { good: Value[]; bad: Value[] }> = {
  region: { good: ["eu-frankfurt-1", "us-ashburn-1", "ap-chuncheon-1"], bad: ["Frankfurt", "eu-frankfurt", "eu_frankfurt_1", ""] },
  oci_config_profile: { good: ["DEFAULT", "turn-ops"], bad: ["", "my profile", "[DEFAULT]"] },
  compartment_ocid: {
    good: ["ocid1.compartment.oc1..aaaaaaaa4u5ew7kq3a", "ocid1.tenancy.oc1..aaaaaaaabbbb"],
    bad: ["ocid1.instance.oc1.eu-frankfurt-1.abc", "compartment", "ocid1.compartment.oc1.eu-frankfurt-1.aaaa", ""],
  },
  availability_domain_number: { good: [1, 2, 3], bad: [0, 4, 1.5] },
  name_prefix: { good: ["webrtc-lite-turn", "t"], bad: ["", "Turn", "1turn", "turn_host", "a".repeat(41)] },
  domain: {
    good: ["turn.example.com", "turn-1.eu.acme.test", "a.b"],
    bad: ["localhost", "Turn.Example.com", "turn.example.com.", "https://turn.example.com", "turn.example.com:3478", "-turn.example.com", "turn..example.com", `${"a".repeat(64)}.com`, ""],
  },
  turn_secret_name: {
    good: ["projects/acme-calls/secrets/TURN_SHARED_SECRET", "projects/123456789/secrets/turn-secret"],
    bad: ["TURN_SHARED_SECRET", "projects/acme/secrets/", "projects/acme/secrets/TURN_SHARED_SECRET/versions/1", "projects/Acme Calls/secrets/x"],
  },
  kit_url: {
    good: [
      "https://github.com/your-org/webrtc-lite/releases/download/v0.1.0/webrtc-lite-turn-0.1.0.tgz",
      "https://objectstorage.eu-frankfurt-1.oraclecloud.com/p/Xq7-k2_Lm9/n/acme/b/kits/o/webrtc-lite-turn-0.1.0.tgz",
      "https://downloads.acme.test:8443/webrtc-lite-turn-0.2.0.tgz",
    ],
    bad: [
      "http://downloads.acme.test/webrtc-lite-turn-0.1.0.tgz",
      "https://github.com/your-org/webrtc-lite.git",
      "https://downloads.acme.test/webrtc-lite-turn-0.1.0.tar",
      "https://downloads.acme.test/webrtc-lite-turn-0.1.0.tgz?sig=abc&expires=1",
      "https://downloads.acme.test/kit.tgz; rm -rf /",
      "https://downloads.acme.test/\"kit\".tgz",
      "https://downloads.acme.test/my kit.tgz",
      "/tmp/webrtc-lite-turn-0.1.0.tgz",
      "https://.tgz",
    ],
  },
  operator_ssh_cidr: { good: ["198.51.100.7/32", "198.51.100.0/24", "10.0.0.0/8"], bad: ["0.0.0.0/0", "198.51.100.7", "198.51.100.7/24", "198.51.100.0/33", "2001:db8::/32", "anywhere"] },
  ssh_public_key: {
    good: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq7 ops@acme", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== ", "ecdsa-sha2-nistp256 AAAAE2VjZHNh"],
    bad: ["-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519", "ssh-dss AAAAB3NzaC1kc3M", "ssh-ed25519 AAAA\nssh-ed25519 BBBB", ""],
  },
  image_ocid: { good: ["ocid1.image.oc1.eu-frankfurt-1.aaaaaaaa5debian12arm", "ocid1.image.oc1.iad.aaaaaaaaxyz"], bad: ["ocid1.instance.oc1.iad.aaaa", "debian-12", "ocid1.image.oc1..aaaa", ""] },
  shape: { good: ["VM.Standard.A1.Flex", "VM.Standard.E2.1.Micro"], bad: ["VM.Standard.E4.Flex", "VM.Standard3.Flex", "VM.Standard.A2.Flex", "BM.Standard.A1.160", "vm.standard.a1.flex"] },
  ocpus: { good: [1, 2, 4], bad: [0, 0.5, 5, 80] },
  memory_in_gbs: { good: [1, 6, 24], bad: [0, 25, 6.5, 64] },
  boot_volume_size_in_gbs: { good: [50, 100, 200], bad: [47, 201, 50.5] },
  vcn_cidr: { good: ["10.0.0.0/16", "172.16.0.0/20", "192.168.0.0/28"], bad: ["10.0.0.0/8", "10.0.0.0/29", "10.0.0.1/16", "10.0.0.0", "fd00::/48"] },
  subnet_cidr: { good: ["10.0.0.0/24", "10.0.1.0/28", "10.0.0.0/16"], bad: ["10.0.0.0/29", "10.0.0.5/24", "10.0.0.0/15", "300.0.0.0/24"] },
};

async function verdicts(name: string, value: Value): Promise<boolean[]> {
  const module = await terraformModule();
  const evaluator = new Evaluator(module, { variables: { [name]: value } });
  return Promise.all((module.variables[name].validation ?? []).map(async (rule) => (await evaluator.value(rule.condition)) === true));
}

describe("infra/terraform: variable validation", () => {
  it("every variable has a type and a description, and every validated one has samples here", async () => {
    const module = await terraformModule();
    for (const [name, body] of Object.entries(module.variables)) {
      assert.match(String(body.type), /^\$\{(string|number|bool)\}$/, name);
      assert.ok(typeof body.description === "string" && body.description.length > 20, name);
    }
    const validated = Object.keys(module.variables).filter((name) => module.variables[name].validation);
    assert.deepEqual(validated.sort(), Object.keys(SAMPLES).sort());
    // launch_instance is a bool: Terraform's type check is its validation.
    assert.deepEqual(Object.keys(module.variables).filter((name) => !validated.includes(name)), ["launch_instance"]);
  });

  it("each error message names its variable and says what to write instead", async () => {
    const module = await terraformModule();
    for (const [name, body] of Object.entries(module.variables)) {
      for (const rule of body.validation ?? []) {
        assert.ok(rule.error_message.startsWith(`${name} must`), rule.error_message);
        assert.ok(rule.error_message.endsWith(".") && rule.error_message.length > 50, rule.error_message);
        assert.ok(rule.condition.includes(`var.${name}`), `${name}'s condition does not look at var.${name}`);
      }
    }
  });

  for (const [name, { good, bad }] of Object.entries(SAMPLES)) {
    it(`${name}: accepts ${good.length} good values and refuses ${bad.length} bad ones`, async () => {
      for (const value of good) assert.ok((await verdicts(name, value)).every(Boolean), `${JSON.stringify(value)} was refused`);
      for (const value of bad) assert.ok(!(await verdicts(name, value)).every(Boolean), `${JSON.stringify(value)} was accepted`);
    });
  }

  it("the defaults pass their own validations", async () => {
    const module = await terraformModule();
    for (const [name, body] of Object.entries(module.variables)) {
      if ("default" in body && body.validation) assert.ok((await verdicts(name, body.default as Value)).every(Boolean), name);
    }
  });

  it("a domain and a secret name Terraform accepts are ones the kit accepts too", async () => {
    for (const domain of SAMPLES.domain.good) assert.ok(settingsFromEnvironment({ TURN_DOMAIN: stringValue(domain) }).ok, stringValue(domain));
    for (const secret of SAMPLES.turn_secret_name.good) assert.equal(secretSourceFromEnvironment({ TURN_SECRET_NAME: stringValue(secret) }).kind, "secret-manager");
  });

  it("the subnet must lie inside the VCN (precondition on the subnet)", async () => {
    const module = await terraformModule();
    const [inside] = (module.resources.oci_core_subnet.turn.lifecycle as { precondition: { condition: string; error_message: string }[] }[])[0].precondition;
    const cases: [string, string, boolean][] = [
      ["10.0.0.0/16", "10.0.0.0/24", true],
      ["10.0.0.0/16", "10.0.255.240/28", true],
      ["10.0.0.0/16", "10.1.0.0/24", false],
      ["10.0.0.0/24", "10.0.0.0/16", false],
      ["172.16.0.0/20", "172.16.16.0/24", false],
    ];
    for (const [vcn, subnet, expected] of cases) {
      const evaluator = await sampleEvaluator({ vcn_cidr: vcn, subnet_cidr: subnet });
      assert.equal(await evaluator.value(inside.condition), expected, `${subnet} in ${vcn}`);
    }
    const message = await (await sampleEvaluator({ subnet_cidr: "10.1.0.0/24" })).value(inside.error_message);
    assert.equal(message, "subnet_cidr (10.1.0.0/24) must lie inside vcn_cidr (10.0.0.0/16), e.g. 10.0.0.0/24 inside 10.0.0.0/16.");
  });

  it("an A1.Flex needs 1 GB per OCPU; E2.1.Micro ignores the sizes (precondition on the VM)", async () => {
    const module = await terraformModule();
    const rule = (module.resources.oci_core_instance.turn.lifecycle as { precondition: { condition: string }[] }[])[0].precondition[2];
    const check = async (variables: Record<string, Value>): Promise<Value> => (await sampleEvaluator(variables)).value(rule.condition);
    assert.equal(await check({ ocpus: 4, memory_in_gbs: 24 }), true);
    assert.equal(await check({ ocpus: 4, memory_in_gbs: 3 }), false);
    assert.equal(await check({ shape: "VM.Standard.E2.1.Micro", ocpus: 4, memory_in_gbs: 3 }), true);
  });

  it("terraform.tfvars.example sets only declared variables, with values that pass validation", async () => {
    const module = await terraformModule();
    const example = (await parse("terraform.tfvars.example", readFileSync(join(TERRAFORM_DIR, "terraform.tfvars.example"), "utf8"))) as Record<string, Value>;
    const required = Object.keys(module.variables).filter((name) => !("default" in module.variables[name]));
    for (const name of required) assert.ok(name in example, `the example lacks ${name}, which has no default`);
    for (const [name, value] of Object.entries(example)) {
      assert.ok(name in module.variables, `${name} is not a variable`);
      if (module.variables[name].validation) assert.ok((await verdicts(name, value)).every(Boolean), `${name} = ${JSON.stringify(value)}`);
    }
  });
});
