// The parsed infra/terraform module and one operator's sample values, shared by its tests.
import { join } from "node:path";
import { Evaluator, loadModule, type TerraformModule, type Value } from "./hcl";

/** infra/terraform, the module under test. */
export const TERRAFORM_DIR = join(__dirname, "..", "..", "..", "infra", "terraform");

/** turn/, the kit the module must agree with. */
export const KIT_DIR = join(__dirname, "..", "..", "..", "turn");

let loaded: Promise<TerraformModule> | undefined;

/** Parses the module once per test run. */
export function terraformModule(): Promise<TerraformModule> {
  loaded ??= loadModule(TERRAFORM_DIR);
  return loaded;
}

/** The reserved address Oracle Cloud would have handed out (a documentation address unlike the kit's example). */
export const RESERVED_IP = "192.0.2.44";

/** Values an operator would put in terraform.tfvars (unlike the kit's examples, so a missed swap shows). */
export const SAMPLE_VARIABLES = {
  region: "eu-frankfurt-1",
  compartment_ocid: "ocid1.compartment.oc1..aaaaaaaa4u5ew7kq3a",
  domain: "turn.acme.test",
  turn_secret_name: "projects/acme-calls/secrets/TURN_SHARED_SECRET",
  kit_url: "https://downloads.acme.test/webrtc-lite/webrtc-lite-turn-0.1.0.tgz",
  operator_ssh_cidr: "198.51.100.7/32",
  ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq7 ops@acme",
  image_ocid: "ocid1.image.oc1.eu-frankfurt-1.aaaaaaaa5debian12arm",
  launch_instance: true,
} as const satisfies Record<string, Value>;

/** What the data sources and resources would say during a plan with SAMPLE_VARIABLES. */
export const SAMPLE_OBJECTS: Record<string, Value> = {
  "data.oci_core_public_ips.reserved": { public_ips: [{ ip_address: RESERVED_IP }] },
  "oci_core_public_ip.turn": { ip_address: RESERVED_IP },
};

/** An evaluator for the sample operator, with some variables or inputs changed. */
export async function sampleEvaluator(variables: Record<string, Value> = {}, readFile?: (path: string) => string): Promise<Evaluator> {
  return new Evaluator(await terraformModule(), { variables: { ...SAMPLE_VARIABLES, ...variables }, objects: SAMPLE_OBJECTS, ...(readFile ? { readFile } : {}) });
}
