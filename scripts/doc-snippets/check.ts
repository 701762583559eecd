// `npm run lint` runs this: type-checks every ```ts fence of the repository's Markdown files
// (typecheck.ts) and fails with the Markdown file and line of each problem.
import { resolve } from "node:path";
import { repositoryMarkdownFiles } from "./fences";
import { checkTypeScriptSnippets } from "./typecheck";

// Not the dev stack's REPO_ROOT: lint runs before any build, and the dev stack imports built packages.
const REPO_ROOT = resolve(__dirname, "..", "..");

const started = performance.now();
const report = checkTypeScriptSnippets(REPO_ROOT, repositoryMarkdownFiles(REPO_ROOT));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
for (const problem of report.problems) console.error(problem);
const optedOut = report.optedOut.length > 0 ? `; unchecked: ${report.optedOut.map(({ where, reason }) => `${where} (${reason})`).join(", ")}` : "";
console.log(`doc snippets: ${report.checked} TypeScript fences type-checked in ${seconds} s${optedOut}`);
if (report.problems.length > 0) {
  console.error(`doc snippets: ${report.problems.length} problem(s); fix the fence, or mark it \`\`\`ts no-check: <reason>`);
  process.exitCode = 1;
}
