import assert from "node:assert/strict";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { markdownFences } from "#doc-snippets/fences";
import { checkTypeScriptSnippets } from "#doc-snippets/typecheck";

const FIXTURE = "test/unit/docs/fixtures/ts-snippets.md";

describe("docs: type-checking the TypeScript snippets", () => {
  it("reports each snippet's errors at its Markdown line, and each fence option that is not a reasoned opt-out", () => {
    const report = checkTypeScriptSnippets(REPO_ROOT, [FIXTURE]);
    assert.equal(report.checked, 3);
    assert.deepEqual(report.optedOut, [{ where: `${FIXTURE}:20`, reason: "a fragment of a class body, which is not a module" }]);
    assert.deepEqual(report.problems, [
      `${FIXTURE}:24 "no-check:" without a reason: say why this snippet cannot be type-checked (no-check: <reason>)`,
      `${FIXTURE}:28 unknown fence option "nocheck": a TypeScript fence is type-checked, or says "no-check: <why it cannot be>"`,
      `${FIXTURE}:10:7 error TS2322: Type 'number' is not assignable to type 'string'.`,
      `${FIXTURE}:11:7 error TS2304: Cannot find name 'deleteDoc'.`,
      `${FIXTURE}:11:17 error TS2304: Cannot find name 'batch'.`,
      `${FIXTURE}:17:10 error TS2322: Type 'string' is not assignable to type 'number'.`,
    ]);
  });

  it("reads fences with their language, options and first line, inside list items too", () => {
    const fences = markdownFences("x.md", "text\n\n- item\n\n  ~~~~Kotlin  extra words\n  val a = 1\n    val b = 2\n  ~~~~\n\n```\nplain\n```\n");
    assert.deepEqual(fences, [
      { file: "x.md", language: "kotlin", options: "extra words", openLine: 5, indent: 2, lines: ["val a = 1", "  val b = 2"] },
      { file: "x.md", language: "", options: "", openLine: 10, indent: 0, lines: ["plain"] },
    ]);
  });
});
