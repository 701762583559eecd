import { strict as assert } from "node:assert";
import { Evaluator, Unsupported, type TerraformModule, type Value } from "./hcl";

// A module of locals only, to check the evaluator itself on cases whose Terraform result is known.
function evaluator(locals: Record<string, unknown>, variables: Record<string, Value> = {}): Evaluator {
  const module: TerraformModule = { dir: "/m", files: [], terraform: [], providers: {}, variables: Object.fromEntries(Object.keys(variables).map((name) => [name, {}])), locals, resources: {}, data: {}, outputs: {} };
  return new Evaluator(module, { variables });
}

describe("infra tests' HCL evaluator", () => {
  it("computes what Terraform documents for cidrhost, cidrnetmask, keys, split, join, replace and templates", async () => {
    const e = evaluator({
      host: '${cidrhost("10.12.112.0/20", 16)}',
      masked: '${cidrhost("10.0.5.0/16", 0)}',
      mask: '${cidrnetmask("172.16.0.0/12")}',
      keys: '${keys({"b" = 1, "a" = 2})}',
      text: 'a-${join(",", split("/", "x/y"))}-${replace("1.2.3", ".", "")}\\n',
      lone: "${[1, 2]}",
      escaped: "$${literal}",
      iterated: '${[for x in ["a", "b", "c"] : upper(x) if x != "b"]}',
    });
    assert.equal(await e.local("host"), "10.12.112.16");
    assert.equal(await e.local("masked"), "10.0.0.0");
    assert.equal(await e.local("mask"), "255.240.0.0");
    assert.equal(await e.local("text"), "a-x,y-123\\n");
    assert.deepEqual(await e.local("lone"), [1, 2]);
    assert.equal(await e.local("escaped"), "${literal}");
    await assert.rejects(e.local("keys"), Unsupported);
    await assert.rejects(e.local("iterated"), /function upper\(\)/);
  });

  it("can() and try() catch Terraform errors but never a case it does not model", async () => {
    const e = evaluator({
      bad: '${can(cidrnetmask("10.0.0.0/33"))}',
      fallback: '${try(regex("^a$", "b"), "none")}',
      ipv6: '${can(cidrhost("2001:db8::/32", 1))}',
      re2: '${can(regex("(?i)^a$", "A"))}',
      negative: '${can(cidrhost("10.0.0.0/24", -1))}',
    });
    assert.equal(await e.local("bad"), false);
    assert.equal(await e.local("fallback"), "none");
    for (const name of ["ipv6", "re2", "negative"]) await assert.rejects(e.local(name), Unsupported, name);
  });

  it("follows HCL: the unpicked branch's errors do not count, both sides of && do", async () => {
    const e = evaluator({ pick: '${true ? "ok" : [][0]}', both: '${false && [][0] == 1}' });
    assert.equal(await e.local("pick"), "ok");
    await assert.rejects(e.local("both"), /out of range/);
  });

  it("refuses unknown references instead of guessing", async () => {
    await assert.rejects(evaluator({ v: "${var.missing}" }).local("v"), /var\.missing is not declared/);
    await assert.rejects(evaluator({ v: "${oci_core_vcn.x.id}" }).local("v"), /oci_core_vcn\.x is not declared/);
  });
});
