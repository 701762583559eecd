// Checks the named constants of the docs' Kotlin and Swift snippets against the contract. No
// Kotlin or Swift toolchain runs here, so the snippets cannot be compiled; instead the numbers a
// port must get right live in one `object Contract` (Kotlin) / `enum Contract` (Swift) per
// language, whose values this compares with the contract's exports, and the snippets must use
// those names where a count decides what the rules accept (how many entries one write takes).
import type { Fence } from "#doc-snippets/fences";

/** One constant the native snippets may declare, and the contract's value for it. */
export interface ContractConstant {
  /** The Kotlin name (`const val NAME` in `object Contract`); Swift's twin is its camelCase (`static let name` in `enum Contract`). */
  kotlin: string;
  value: number;
  /** Where the value comes from, named in failures (`LIMITS.maxCandidatesPerWrite`). */
  source: string;
  /** Whether the docs must declare it once any Kotlin or Swift snippet mentions `Contract`. */
  required: boolean;
}

type Language = "kotlin" | "swift";

interface Declaration {
  language: Language;
  name: string;
  expression: string;
  where: string;
}

const CONTAINERS: Record<Language, { opening: RegExp; declaration: RegExp; label: string }> = {
  kotlin: { opening: /\bobject\s+Contract\s*\{/g, declaration: /\bconst\s+val\s+(\w+)\s*(?::\s*\w+\s*)?=\s*([^;\n]+)/g, label: "`object Contract { const val … }`" },
  swift: { opening: /\benum\s+Contract\s*\{/g, declaration: /\bstatic\s+let\s+(\w+)\s*(?::\s*\w+\s*)?=\s*([^;\n]+)/g, label: "`enum Contract { static let … }`" },
};

/** `take(6)`, `prefix(6)`, `subList(0, 6)`, `splice(0, 6)`, `outbox[..<6]`, or a name such as `takeUpTo8`: a count the rules bound, written as a number. */
const BARE_COUNTS = [
  /\b(?:take|prefix)\(\s*(?:upTo:\s*|through:\s*)?\d[\d_]*L?\s*\)/g,
  /\b(?:subList|splice|slice)\(\s*0\s*,\s*\d[\d_]*L?\s*\)/g,
  /\[\s*(?:0\s*)?\.\.<\s*\d[\d_]*\s*\]/g,
  /\b\w*UpTo\d+\w*/g,
];

/** `MAX_ENTRIES_PER_WRITE` → `maxEntriesPerWrite`. */
export function swiftName(kotlinName: string): string {
  return kotlinName.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Every problem of the Kotlin and Swift named constants in `fences` (the fences of the docs, any
 * language; only kotlin, swift and ts are read), as `file:line message` sentences:
 * - a constant of `object Contract` / `enum Contract` that `table` does not know, whose value is
 *   not a number or a product of numbers, or whose value differs from the contract's;
 * - a Kotlin constant without its Swift twin, or the other way round;
 * - a `Contract.NAME` used that no fence of that language declares;
 * - once any Kotlin or Swift fence mentions `Contract`: a required constant missing in either
 *   language;
 * - a count the rules bound written as a bare number in any kotlin, swift or ts fence.
 */
export function nativeConstantProblems(fences: readonly Fence[], table: readonly ContractConstant[]): string[] {
  const problems: string[] = [];
  const native = fences.filter((fence): fence is Fence & { language: Language } => fence.language === "kotlin" || fence.language === "swift");
  const declarations = native.flatMap(declarationsOf);
  const byKotlin = new Map(table.map((constant) => [constant.kotlin, constant]));
  const bySwift = new Map(table.map((constant) => [swiftName(constant.kotlin), constant]));
  const declared: Record<Language, Map<string, string>> = { kotlin: new Map(), swift: new Map() };

  for (const declaration of declarations) {
    const constant = (declaration.language === "kotlin" ? byKotlin : bySwift).get(declaration.name);
    if (!constant) {
      problems.push(`${declaration.where} ${declaration.language === "kotlin" ? "Kotlin" : "Swift"} constant ${declaration.name} is not a contract constant this test knows (${knownNames(table, declaration.language)})`);
      continue;
    }
    if (!declared[declaration.language].has(constant.kotlin)) declared[declaration.language].set(constant.kotlin, declaration.where);
    const value = evaluate(declaration);
    if (typeof value === "string") problems.push(`${declaration.where} ${declaration.name} = ${declaration.expression}: ${value}`);
    else if (value !== constant.value) problems.push(`${declaration.where} ${declaration.name} = ${declaration.expression} is ${value}, but the contract's ${constant.source} is ${constant.value}`);
  }

  const mentions = native.filter((fence) => /\bContract\b/.test(code(fence)));
  for (const constant of table) {
    const kotlinAt = declared.kotlin.get(constant.kotlin);
    const swiftAt = declared.swift.get(constant.kotlin);
    if (constant.required && mentions.length > 0) {
      const first = `${mentions[0].file}:${mentions[0].openLine}`;
      if (!kotlinAt) problems.push(`no \`\`\`kotlin fence of README.md or docs/*.md declares ${constant.kotlin} = ${constant.value} (${constant.source}) in ${CONTAINERS.kotlin.label}, though ${first} mentions Contract`);
      if (!swiftAt) problems.push(`no \`\`\`swift fence of README.md or docs/*.md declares ${swiftName(constant.kotlin)} = ${constant.value} (${constant.source}) in ${CONTAINERS.swift.label}, though ${first} mentions Contract`);
    } else if (kotlinAt && !swiftAt) {
      problems.push(`${kotlinAt} Kotlin declares ${constant.kotlin} but no \`\`\`swift fence declares its twin ${swiftName(constant.kotlin)} in ${CONTAINERS.swift.label}`);
    } else if (swiftAt && !kotlinAt) {
      problems.push(`${swiftAt} Swift declares ${swiftName(constant.kotlin)} but no \`\`\`kotlin fence declares its twin ${constant.kotlin} in ${CONTAINERS.kotlin.label}`);
    }
  }

  for (const fence of native) {
    const names = new Set([...declared[fence.language].keys()].map((name) => (fence.language === "kotlin" ? name : swiftName(name))));
    forEachMatch(fence, /\bContract\.(\w+)/g, (match, where) => {
      if (!names.has(match[1])) problems.push(`${where} uses Contract.${match[1]}, which no \`\`\`${fence.language} fence declares in ${CONTAINERS[fence.language].label}`);
    });
  }

  for (const fence of fences) {
    if (!["ts", "typescript", "kotlin", "swift"].includes(fence.language)) continue;
    for (const pattern of BARE_COUNTS) {
      forEachMatch(fence, pattern, (match, where) => problems.push(`${where} ${match[0]}: a count the rules bound is written as a number; use the named constant (${fence.language === "kotlin" ? "Contract.MAX_ENTRIES_PER_WRITE" : fence.language === "swift" ? "Contract.maxEntriesPerWrite" : "LIMITS.maxCandidatesPerWrite"} or its kin)`));
    }
  }
  return problems;
}

function knownNames(table: readonly ContractConstant[], language: Language): string {
  return table.map((constant) => (language === "kotlin" ? constant.kotlin : swiftName(constant.kotlin))).join(", ");
}

/** The fence's text with comments blanked (same offsets and lines), so commented-out code neither declares nor uses anything. */
function code(fence: Fence): string {
  return fence.lines
    .join("\n")
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "))
    .replace(/(^|[^:])(\/\/.*)$/gm, (_, before: string, comment: string) => before + " ".repeat(comment.length));
}

function whereIn(fence: Fence, text: string, offset: number): string {
  return `${fence.file}:${fence.openLine + 1 + (text.slice(0, offset).match(/\n/g)?.length ?? 0)}`;
}

function forEachMatch(fence: Fence, pattern: RegExp, report: (match: RegExpExecArray, where: string) => void): void {
  const text = code(fence);
  for (const match of text.matchAll(pattern)) report(match, whereIn(fence, text, match.index));
}

function declarationsOf(fence: Fence & { language: Language }): Declaration[] {
  const text = code(fence);
  const { opening, declaration } = CONTAINERS[fence.language];
  const found: Declaration[] = [];
  for (const open of text.matchAll(opening)) {
    const start = open.index + open[0].length;
    const body = text.slice(start, closingBrace(text, start));
    for (const match of body.matchAll(declaration)) {
      found.push({ language: fence.language, name: match[1], expression: match[2].trim(), where: whereIn(fence, text, start + match.index) });
    }
  }
  return found;
}

/** The offset of the `}` that closes the block opened just before `start` (the end of the text if none does). */
function closingBrace(text: string, start: number): number {
  let depth = 1;
  for (let index = start; index < text.length; index++) {
    if (text[index] === "{") depth++;
    if (text[index] === "}" && --depth === 0) return index;
  }
  return text.length;
}

const LITERAL = /^(\d[\d_]*(?:\.\d[\d_]*)?)([LlFfDd]?)$/;

/** The value of a number or a product of numbers (`25 * 3_600_000L`, `5_000`, `0.2`), or why it cannot be read. */
function evaluate(declaration: Declaration): number | string {
  let value = 1;
  for (const factor of declaration.expression.split("*").map((part) => part.trim())) {
    const literal = LITERAL.exec(factor);
    if (!literal || (declaration.language === "swift" && literal[2] !== "")) {
      return `write the value as a number or a product of numbers (${declaration.language === "kotlin" ? "25 * 3_600_000L" : "25 * 3_600_000"}), not "${factor}"`;
    }
    value *= Number(literal[1].replaceAll("_", ""));
  }
  return value;
}
