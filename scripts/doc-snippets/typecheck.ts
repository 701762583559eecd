// Type-checks the ```ts fences of the Markdown files, so a snippet the docs show cannot drift
// from the contract and the client it uses. Each fence is one ES module (an in-memory `.mts`
// file: nothing is written to disk), compiled in one program with the repository's compiler
// settings (snippet-tsconfig.json) against prelude.d.mts, which declares the free variables
// the snippets assume (`db`, `uid`, `pc`, …). Imports resolve as an app's would, from the
// repository's node_modules: `firebase/*`, and `@webrtc-lite/*` to the workspace's sources.
import { join, relative } from "node:path";
import ts from "typescript";
import { fencesOf, type Fence } from "./fences";

/** Languages of the fences that are type-checked. */
export const TYPESCRIPT_FENCE_LANGUAGES = ["ts", "typescript"] as const;

/** The info-string option that leaves a fence unchecked; a reason must follow it (```ts no-check: <reason>). */
export const NO_CHECK_OPTION = "no-check:";

/** What checking the snippets found. */
export interface SnippetReport {
  /** How many fences were compiled. */
  checked: number;
  /** The fences left unchecked, with their reasons. */
  optedOut: { where: string; reason: string }[];
  /** One line per problem, `file:line:column message`, the file being the Markdown file for a snippet's own errors. */
  problems: string[];
}

/** Where the in-memory modules seem to live: module resolution walks up from here to the repository's node_modules. */
const VIRTUAL_FOLDER = ".doc-snippets";

/** Type-checks the TypeScript fences of `markdownFiles` (relative to `root`). */
export function checkTypeScriptSnippets(root: string, markdownFiles: readonly string[]): SnippetReport {
  const problems: string[] = [];
  const optedOut: SnippetReport["optedOut"] = [];
  const snippets = new Map<string, Fence>();
  for (const fence of fencesOf(root, markdownFiles, TYPESCRIPT_FENCE_LANGUAGES)) {
    const where = `${fence.file}:${fence.openLine}`;
    const choice = fenceChoice(fence.options);
    if (choice.kind === "invalid") problems.push(`${where} ${choice.problem}`);
    else if (choice.kind === "opt-out") optedOut.push({ where, reason: choice.reason });
    else snippets.set(join(root, VIRTUAL_FOLDER, `${snippets.size + 1}.mts`), fence);
  }

  const config = ts.getParsedCommandLineOfConfigFile(join(__dirname, "snippet-tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => problems.push(formatDiagnostic(root, diagnostic, snippets)),
  });
  if (!config) return { checked: 0, optedOut, problems };
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => snippets.has(fileName) || fileExists(fileName);
  host.readFile = (fileName) => {
    const fence = snippets.get(fileName);
    return fence ? fence.lines.join("\n") : readFile(fileName);
  };
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const fence = snippets.get(fileName);
    return fence ? ts.createSourceFile(fileName, fence.lines.join("\n"), languageVersion, true) : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram({ rootNames: [...config.fileNames, ...snippets.keys()], options: config.options, host });
  const diagnostics = [
    ...config.errors,
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    // The prelude and the snippets only: the packages they import are checked by their own tsc -p in lint.
    ...[...config.fileNames, ...snippets.keys()].flatMap((fileName) => {
      const source = program.getSourceFile(fileName);
      return source ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)] : [];
    }),
  ];
  problems.push(...diagnostics.map((diagnostic) => formatDiagnostic(root, diagnostic, snippets)));
  return { checked: snippets.size, optedOut, problems };
}

type FenceChoice = { kind: "check" } | { kind: "opt-out"; reason: string } | { kind: "invalid"; problem: string };

/** What a fence's info string (after the language) asks for: nothing, or `no-check: <reason>`. */
export function fenceChoice(options: string): FenceChoice {
  if (options === "") return { kind: "check" };
  if (!options.startsWith(NO_CHECK_OPTION)) {
    return { kind: "invalid", problem: `unknown fence option "${options}": a TypeScript fence is type-checked, or says "${NO_CHECK_OPTION} <why it cannot be>"` };
  }
  const reason = options.slice(NO_CHECK_OPTION.length).trim();
  if (!/\p{L}/u.test(reason)) {
    return { kind: "invalid", problem: `"${NO_CHECK_OPTION}" without a reason: say why this snippet cannot be type-checked (${NO_CHECK_OPTION} <reason>)` };
  }
  return { kind: "opt-out", reason };
}

function formatDiagnostic(root: string, diagnostic: ts.Diagnostic, snippets: ReadonlyMap<string, Fence>): string {
  const message = `error TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ")}`;
  if (!diagnostic.file || diagnostic.start === undefined) return message;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const fence = snippets.get(diagnostic.file.fileName);
  if (fence) return `${fence.file}:${fence.openLine + 1 + line}:${fence.indent + character + 1} ${message}`;
  return `${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1} ${message}`;
}
