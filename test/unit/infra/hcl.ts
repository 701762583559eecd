// Reads infra/terraform with HashiCorp's own HCL parser (@cdktf/hcl2json: hcl2json and HCL's
// expression parser compiled to WebAssembly) and evaluates the expressions the tests need on
// sample values. There is no terraform binary here, so this evaluator is deliberately small and
// strict: it knows only the functions and operators the configuration uses, with Terraform's
// semantics, and throws `Unsupported` (which can() and try() do not swallow) wherever JavaScript
// could silently disagree with Terraform (RE2-only regex syntax, IPv6 or leading-zero CIDRs,
// empty separators, regex replace) instead of guessing.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getExpressionAst, parse, type TFExpressionSyntaxTree } from "@cdktf/hcl2json";
import { Unsupported } from "./cidr";
import { binary, FUNCTIONS, index, indexKey, literal, literalText, text, type Value } from "./functions";

type Node = TFExpressionSyntaxTree.ExpressionType;
type Part = TFExpressionSyntaxTree.TerraformTraversalPart;


export type { Value };

/** One block body as hcl2json returns it: attributes, and nested blocks as arrays of bodies. */
export type Body = Record<string, unknown>;

/** A validation block of a variable. */
export interface Validation {
  condition: string;
  error_message: string;
}

/** The blocks of one Terraform module, merged over its `.tf` files as Terraform does. */
export interface TerraformModule {
  dir: string;
  files: string[];
  terraform: Body[];
  providers: Record<string, Body>;
  variables: Record<string, Body & { validation?: Validation[] }>;
  locals: Record<string, unknown>;
  resources: Record<string, Record<string, Body>>;
  data: Record<string, Record<string, Body>>;
  outputs: Record<string, Body>;
}

export { Unsupported };

const TOP_LEVEL = new Set(["terraform", "provider", "variable", "locals", "resource", "data", "output"]);

/** Parses every `.tf` file of `dir`; throws on a syntax error, an unknown block or a duplicate name. */
export async function loadModule(dir: string): Promise<TerraformModule> {
  const files = readdirSync(dir).filter((name) => name.endsWith(".tf")).sort();
  const module: TerraformModule = { dir, files, terraform: [], providers: {}, variables: {}, locals: {}, resources: {}, data: {}, outputs: {} };
  for (const file of files) {
    const parsed = (await parse(file, readFileSync(join(dir, file), "utf8"))) as Record<string, unknown>;
    for (const [kind, content] of Object.entries(parsed)) {
      if (!TOP_LEVEL.has(kind)) throw new Error(`${file}: unknown top-level block "${kind}"`);
      if (kind === "terraform") module.terraform.push(...(content as Body[]));
      else if (kind === "locals") for (const body of content as Body[]) mergeNamed(module.locals, body, `${file}: local`);
      else if (kind === "provider") mergeNamed(module.providers, single(content as Record<string, Body[]>, file), `${file}: provider`);
      else if (kind === "variable") mergeNamed(module.variables, single(content as Record<string, Body[]>, file), `${file}: variable`);
      else if (kind === "output") mergeNamed(module.outputs, single(content as Record<string, Body[]>, file), `${file}: output`);
      else {
        const target = kind === "resource" ? module.resources : module.data;
        for (const [type, named] of Object.entries(content as Record<string, Record<string, Body[]>>)) {
          target[type] ??= {};
          mergeNamed(target[type], single(named, file), `${file}: ${kind} ${type}`);
        }
      }
    }
  }
  return module;
}

function single(named: Record<string, Body[]>, file: string): Record<string, Body> {
  return Object.fromEntries(
    Object.entries(named).map(([name, bodies]) => {
      if (bodies.length !== 1) throw new Error(`${file}: "${name}" is declared ${bodies.length} times`);
      return [name, bodies[0]];
    }),
  );
}

function mergeNamed<T>(target: Record<string, T>, source: Record<string, T>, where: string): void {
  for (const [name, value] of Object.entries(source)) {
    if (name in target) throw new Error(`${where} "${name}" is declared twice`);
    target[name] = value;
  }
}

/** Values the evaluator cannot know without Oracle Cloud: resource and data source attributes. */
export interface Inputs {
  /** Variable values; the module's defaults fill the rest. */
  variables?: Record<string, Value>;
  /** Attributes by address, e.g. `data.oci_core_public_ips.reserved` or `oci_core_public_ip.turn`. */
  objects?: Record<string, Value>;
  /** Reads a file for file(); defaults to the disk. */
  readFile?: (path: string) => string;
}

const astCache = new Map<string, Node>();

// hcl2json gives each attribute as template source: literal parts decoded (except `$${`) and
// interpolations as written. A heredoc reads exactly that: no backslash escapes, `$${` escaped.
async function templateAst(source: string): Promise<Node> {
  let ast = astCache.get(source);
  if (!ast) {
    const parsed = await getExpressionAst("expression.tf", `<<HCL_EVAL_END\n${source}\nHCL_EVAL_END\n`);
    if (!parsed) throw new Error(`cannot parse ${JSON.stringify(source)}`);
    ast = parsed;
    astCache.set(source, ast);
  }
  return ast;
}

/** Evaluates the module's expressions for one set of inputs. */
export class Evaluator {
  private readonly variables: Record<string, Value>;
  private readonly localValues = new Map<string, Promise<Value>>();

  constructor(
    private readonly module: TerraformModule,
    private readonly inputs: Inputs = {},
  ) {
    const defaults = Object.entries(module.variables).filter(([, body]) => "default" in body);
    this.variables = { ...Object.fromEntries(defaults.map(([name, body]) => [name, body.default as Value])), ...inputs.variables };
  }

  /** Evaluates an attribute as hcl2json returned it (string template, number, list, object…). */
  async value(raw: unknown, symbols: ReadonlyMap<string, Value> = new Map()): Promise<Value> {
    if (typeof raw === "string") return this.template(raw, symbols);
    if (Array.isArray(raw)) return Promise.all(raw.map((item) => this.value(item, symbols)));
    if (raw !== null && typeof raw === "object") {
      const entries = await Promise.all(Object.entries(raw).map(async ([key, item]) => [key, await this.value(item, symbols)] as const));
      return Object.fromEntries(entries);
    }
    return raw as Value;
  }

  /** The value of `local.<name>`. */
  local(name: string): Promise<Value> {
    if (!(name in this.module.locals)) throw new Error(`local.${name} is not declared`);
    let value = this.localValues.get(name);
    if (!value) {
      value = this.value(this.module.locals[name]);
      this.localValues.set(name, value);
    }
    return value;
  }

  private async template(source: string, symbols: ReadonlyMap<string, Value>): Promise<Value> {
    const ast = await templateAst(source);
    const parts = ast.children;
    const last = parts.at(-1);
    // A lone interpolation keeps its type, as in Terraform: "${[1]}" is a list.
    if (parts.length === 2 && parts[0].type !== "literalValue" && last?.type === "literalValue" && last.meta.value === "\n") return this.node(parts[0], symbols);
    const text = await this.concat(parts, symbols, false);
    return text.slice(0, -1);
  }

  private async concat(parts: Node[], symbols: ReadonlyMap<string, Value>, quoted: boolean): Promise<string> {
    let text = "";
    for (const part of parts) {
      const value = part.type === "literalValue" ? literalText(part.meta.value, quoted) : await this.node(part, symbols);
      if (value === null || typeof value === "object") throw new Error(`cannot put ${JSON.stringify(value)} into a string`);
      text += String(value);
    }
    return text;
  }

  private async node(node: Node, symbols: ReadonlyMap<string, Value>): Promise<Value> {
    switch (node.type) {
      case "literalValue":
        return literal(node.meta.type, node.meta.value);
      case "template":
        return this.concat(node.children, symbols, node.meta.value.startsWith('"'));
      case "templateWrap":
        return this.node(node.children[0], symbols);
      case "tuple":
        return Promise.all(node.children.map((child) => this.node(child, symbols)));
      case "scopeTraversal":
        return this.traverse(await this.root(node.meta.traversal, symbols), node.meta.traversal.slice(rootLength(node.meta.traversal, symbols)));
      case "relativeTraversal":
        return this.traverse(await this.node(node.children[0], symbols), node.meta.traversal);
      case "index":
        return index(await this.node(node.children[0], symbols), await this.node(node.children[1], symbols));
      case "conditional": {
        // HCL reports errors of the branch it picks only.
        const condition = await this.node(node.children[0], symbols);
        if (typeof condition !== "boolean") throw new Error(`condition is ${JSON.stringify(condition)}, not a bool`);
        return this.node(node.children[condition ? 1 : 2], symbols);
      }
      case "unaryOp": {
        const operand = await this.node(node.children[0], symbols);
        if (node.meta.operator === "logicalNot" && typeof operand === "boolean") return !operand;
        if (node.meta.operator === "negate" && typeof operand === "number") return -operand;
        throw new Error(`cannot apply ${node.meta.operator} to ${JSON.stringify(operand)}`);
      }
      case "binaryOp":
        // Both sides are evaluated (and their errors count) whatever the left one says.
        return binary(node.meta.operator, await this.node(node.children[0], symbols), await this.node(node.children[1], symbols));
      case "function":
        return this.call(node, symbols);
      case "for":
        return this.forExpression(node, symbols);
      default:
        throw new Unsupported(`expression type ${node.type} (${node.meta.value})`);
    }
  }

  private async root(parts: Part[], symbols: ReadonlyMap<string, Value>): Promise<Value> {
    const [first, second, third] = parts.map((part) => part.segment);
    if (symbols.has(first)) return symbols.get(first) as Value;
    if (first === "var") {
      if (!(second in this.module.variables)) throw new Error(`var.${second} is not declared`);
      if (!(second in this.variables)) throw new Error(`var.${second} has no value in this test`);
      return this.variables[second];
    }
    if (first === "local") return this.local(second);
    if (first === "path" && second === "module") return this.module.dir;
    const address = first === "data" ? `data.${second}.${third}` : `${first}.${second}`;
    const declared = first === "data" ? this.module.data[second]?.[third] : this.module.resources[first]?.[second];
    if (!declared) throw new Error(`${address} is not declared`);
    const objects = this.inputs.objects ?? {};
    if (!(address in objects)) throw new Error(`${address} has no value in this test`);
    return objects[address];
  }

  private traverse(value: Value, parts: Part[]): Value {
    return parts.reduce<Value>((current, part) => {
      const key = part.type === "indexTraversal" ? indexKey(part.segment) : part.segment;
      return index(current, key);
    }, value);
  }

  private async call(node: TFExpressionSyntaxTree.FunctionCallExpression, symbols: ReadonlyMap<string, Value>): Promise<Value> {
    const name = node.meta.name;
    if (node.meta.expandedFinalArgument) throw new Unsupported(`${name}(…...)`);
    if (name === "can" || name === "try") {
      for (const [position, argument] of node.children.entries()) {
        try {
          const value = await this.node(argument, symbols);
          return name === "can" ? true : value;
        } catch (error) {
          if (error instanceof Unsupported) throw error;
          if (name === "try" && position === node.children.length - 1) throw error;
        }
      }
      return false;
    }
    const args = await Promise.all(node.children.map((child) => this.node(child, symbols)));
    if (name === "file") return (this.inputs.readFile ?? ((path: string) => readFileSync(path, "utf8")))(text(args[0]));
    const fn = FUNCTIONS[name];
    if (!fn) throw new Unsupported(`function ${name}()`);
    return fn(...args);
  }

  private async forExpression(node: TFExpressionSyntaxTree.ForExpression, symbols: ReadonlyMap<string, Value>): Promise<Value> {
    const { keyVar, valVar, collectionExpression, valueExpression, conditionalExpression, groupedValue, value } = node.meta;
    if (groupedValue || value.trimStart().startsWith("{")) throw new Unsupported(`object for-expression ${value}`);
    const collection = await this.template(`\${${collectionExpression}}`, symbols);
    if (collection === null || typeof collection !== "object") throw new Error(`cannot iterate over ${JSON.stringify(collection)}`);
    const entries: [Value, Value][] = Array.isArray(collection) ? collection.map((item, i) => [i, item]) : Object.entries(collection).sort(([a], [b]) => (a < b ? -1 : 1));
    const results: Value[] = [];
    for (const [key, item] of entries) {
      const inner = new Map(symbols).set(valVar, item);
      if (keyVar) inner.set(keyVar, key);
      if (conditionalExpression && (await this.template(`\${${conditionalExpression}}`, inner)) !== true) continue;
      results.push(await this.template(`\${${valueExpression}}`, inner));
    }
    return results;
  }
}

function rootLength(parts: Part[], symbols: ReadonlyMap<string, Value>): number {
  const first = parts[0].segment;
  if (symbols.has(first)) return 1;
  return first === "data" ? 3 : 2;
}


/** The value as a string, or an error saying it is none. */
export function stringValue(value: Value): string {
  if (typeof value !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}
