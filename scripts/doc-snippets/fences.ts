// The fenced code blocks of the repository's Markdown files, with the line each starts on, so
// that the checks of the docs' snippets (TypeScript type-checked in lint, the Kotlin and Swift
// named constants compared with the contract) can name the Markdown file and line of a problem.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One fenced code block of a Markdown file. */
export interface Fence {
  /** The Markdown file, relative to the repository root (as git lists it). */
  file: string;
  /** The first word of the info string (`ts`, `kotlin`, …), lower-cased; empty when there is none. */
  language: string;
  /** The rest of the info string, trimmed (e.g. `no-check: <reason>`). */
  options: string;
  /** 1-based line of the opening fence in `file`. */
  openLine: number;
  /** How many columns of indentation (a list item's) were taken off the block's lines. */
  indent: number;
  /** The block's lines, without the fence's own indentation; line `i` is line `openLine + 1 + i` of the file. */
  lines: string[];
}

const OPENING = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/;

/** The fenced code blocks of one Markdown text (CommonMark fences: ``` or ~~~, indented at most 3 spaces, or inside a list item). */
export function markdownFences(file: string, text: string): Fence[] {
  const fences: Fence[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const opening = openingOf(lines[index]);
    if (!opening) continue;
    const { indent, marker, language, options } = opening;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !isClosing(lines[end], marker)) {
      body.push(stripIndent(lines[end], indent));
      end++;
    }
    fences.push({ file, language: language.toLowerCase(), options: options.trim(), openLine: index + 1, indent, lines: body });
    index = end;
  }
  return fences;
}

function openingOf(line: string): { indent: number; marker: string; language: string; options: string } | undefined {
  // A fence inside a list item is indented by the item's marker width; CommonMark strips that
  // indentation from the block's lines, which stripIndent does too.
  const leading = /^\s*/.exec(line)?.[0].length ?? 0;
  const match = OPENING.exec(line.slice(Math.max(0, leading - 3)));
  if (!match) return undefined;
  return { indent: leading, marker: match[2], language: match[3], options: match[4] };
}

function isClosing(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed === marker[0].repeat(trimmed.length);
}

function stripIndent(line: string, indent: number): string {
  const leading = /^ */.exec(line)?.[0].length ?? 0;
  return line.slice(Math.min(leading, indent));
}

/**
 * The Markdown files of the repository at `root`: tracked or new, never ignored ones
 * (node_modules, build output), and none under test/, whose Markdown is test data (snippets
 * that must fail), not documentation.
 */
export function repositoryMarkdownFiles(root: string): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "--", "*.md", ":(exclude)test/**"], { cwd: root, encoding: "utf8" });
  // A file deleted from the work tree but not yet from the index is still listed: skip it.
  return [...new Set(listed.split("\n").filter((file) => file.length > 0 && existsSync(join(root, file))))].sort();
}

/** Every fence of the given Markdown files (relative to `root`) whose language is one of `languages`. */
export function fencesOf(root: string, files: readonly string[], languages: readonly string[]): Fence[] {
  return files.flatMap((file) => markdownFences(file, readFileSync(join(root, file), "utf8")).filter((fence) => languages.includes(fence.language)));
}
