import { strict as assert } from "node:assert";
import { LIMITS_RULE_READS, SWEEP_QUERIES_PER_RUN, codelabCallCost, signalingCallCost, sessionPath } from "@webrtc-lite/contract";
import { sweepSessions } from "#functions/sessions/sweep";
import { adminFirestoreModule, type AdminFirestore, type AdminDocumentReference, type AdminQuerySnapshot, type AdminWriteResult } from "@webrtc-lite/dev-stack/admin";
import { PROJECT_ID } from "@webrtc-lite/dev-stack/emulators";
import { captureOutputAsync } from "../helpers/capture";
import { sampleCandidates } from "../helpers/sdp";
import { CostMeter, IncomingCalls, OutgoingCall, signIn } from "../helpers/signaling-client";
import { SUITE_TIMEOUTS, useSignalingStack, waitForLogEntries } from "@webrtc-lite/dev-stack/signaling-stack";
import { waitFor } from "@webrtc-lite/dev-stack/wait";


/** One expression of the Firestore emulator's rule coverage report: what it evaluated to, how often. */
interface CoverageNode {
  sourcePosition: { line: number; column: number; currentOffset: number; endOffset: number };
  values?: Array<{ value: unknown; count: number | string }>;
  children?: CoverageNode[];
}

/** The emulator's rule coverage report: every evaluation since it started, per expression of the rules it runs. */
interface CoverageReport {
  rules: { files: Array<{ name: string; content: string }> };
  report: CoverageNode[];
}

/** Evaluations per value of the expressions that start at one offset of the rules. */
type Evaluations = Map<number, Array<{ span: number; counts: Map<string, number> }>>;

/** What the rules did between two coverage reports. */
interface RulesTally {
  /** Documents the rules let clients create or update. */
  writes: number;
  /** Documents the rules let clients delete. */
  deletes: number;
  /** Documents the rules' get()/getAfter()/exists()/existsAfter() read to authorize writes. */
  writeReads: number;
  /** Documents they read to re-check a listener (the emulator does it when a watched document changes). */
  listenReads: number;
  /** Deletes they allowed of a document that was gone already (`resource == null` held in a delete statement). */
  deletesOfMissing: number;
  /** One line per rule that counted, for the report. */
  lines: string[];
}

const RULES_READS = /^(get|getAfter|exists|existsAfter)\(/;
const WRITE_METHODS = new Set(["create", "update", "delete", "write"]);
const UNDEFINED = JSON.stringify({ undefined: {} });
const TRUE = JSON.stringify({ boolValue: true });

/** The emulator's rule coverage report for the suite's project. */
async function ruleCoverage(firestorePort: number): Promise<CoverageReport> {
  const response = await fetch(`http://127.0.0.1:${firestorePort}/emulator/v1/projects/${PROJECT_ID}:ruleCoverage`);
  assert.equal(response.status, 200, `the emulator's rule coverage report: ${await response.clone().text()}`);
  return (await response.json()) as CoverageReport;
}

/** The rules' text with strings and comments blanked, so braces, calls and `;` can be found by position. */
function blankStringsAndComments(text: string): string {
  let code = "";
  for (let i = 0; i < text.length; i += 1) {
    if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") {
        code += " ";
        i += 1;
      }
      code += text[i] ?? "";
    } else if (text[i] === "'" || text[i] === '"') {
      const quote = text[i];
      code += " ";
      for (i += 1; i < text.length && text[i] !== quote; i += 1) {
        if (text[i] === "\\") {
          code += " ";
          i += 1;
        }
        code += text[i] === "\n" ? "\n" : " ";
      }
      code += " ";
    } else {
      code += text[i];
    }
  }
  return code;
}

/** The offset of the `}` that closes the `{` at `open`. */
function closingBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i += 1) {
    if (code[i] === "{") depth += 1;
    if (code[i] === "}" && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces in the rules from offset ${open}`);
}

/**
 * firestore.rules as the emulator runs it: where its functions and `allow` statements are, and
 * which request methods reach each function (through the statements that call it, directly
 * or through other functions). That tells a get() that authorizes a write from one that a
 * read's rule makes.
 */
class RulesSource {
  readonly statements: Array<{ methods: string[]; condition: number; end: number }>;
  private readonly lineStarts = [0];
  private readonly functions: Array<{ name: string; start: number; end: number }>;
  private readonly methodsOf = new Map<string, Set<string>>();

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i += 1) if (text[i] === "\n") this.lineStarts.push(i + 1);
    const code = blankStringsAndComments(text);
    this.functions = [...code.matchAll(/\bfunction\s+(\w+)\s*\([^)]*\)\s*\{/g)].map((match) => {
      const open = match.index + match[0].length - 1;
      return { name: match[1], start: open, end: closingBrace(code, open) };
    });
    const names = new Set(this.functions.map((found) => found.name));
    // A function is known by its name below; two of one name in different match blocks would be confused.
    assert.equal(names.size, this.functions.length, "every function in the rules has a name of its own");
    this.statements = [...code.matchAll(/\ballow\s+([a-z,\s]+?)\s*:\s*if\s+/g)].map((match) => {
      const condition = match.index + match[0].length;
      return { methods: match[1].split(",").map((method) => method.trim()), condition, end: code.indexOf(";", condition) };
    });
    const calls = (start: number, end: number) => [...code.slice(start, end).matchAll(/\b(\w+)\s*\(/g)].map((match) => match[1]).filter((name) => names.has(name));
    for (const statement of this.statements) {
      const pending = calls(statement.condition, statement.end);
      const seen = new Set<string>();
      for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
        if (seen.has(name)) continue;
        seen.add(name);
        const methods = this.methodsOf.get(name) ?? new Set<string>();
        statement.methods.forEach((method) => methods.add(method));
        this.methodsOf.set(name, methods);
        const body = this.functions.find((found) => found.name === name)!;
        pending.push(...calls(body.start, body.end));
      }
    }
  }

  /** The text offset of a report position (line and column count from 1). */
  offset(position: { line: number; column: number }): number {
    return this.lineStarts[position.line - 1] + position.column - 1;
  }

  /** The innermost function (else the `allow` statement) around `offset`, and the methods of the requests that evaluate it. */
  scopeOf(offset: number): { name: string; methods: Set<string> } {
    const inside = this.functions.filter((found) => found.start < offset && offset < found.end).sort((a, b) => b.start - a.start)[0];
    if (inside) return { name: `${inside.name}()`, methods: this.methodsOf.get(inside.name) ?? new Set() };
    const statement = this.statements.find((found) => found.condition <= offset && offset < found.end);
    assert.ok(statement, `no function or allow statement around offset ${offset} of the rules`);
    return { name: `allow ${statement.methods.join(", ")}`, methods: new Set(statement.methods) };
  }

  /** The document-reading call that starts at `offset` (get, getAfter, exists, existsAfter) and its argument's text, if one does. */
  readAt(offset: number): { call: string; argument: string } | undefined {
    const match = RULES_READS.exec(this.text.slice(offset, offset + 16));
    // `data.get(key, default)` is a map's method, not a document read.
    if (!match || this.text[offset - 1] === ".") return undefined;
    const open = offset + match[1].length;
    let depth = 0;
    for (let i = open; i < this.text.length; i += 1) {
      if (this.text[i] === "(") depth += 1;
      if (this.text[i] === ")" && --depth === 0) return { call: match[1], argument: this.text.slice(open + 1, i).trim() };
    }
    throw new Error(`unbalanced parentheses in the rules from offset ${offset}`);
  }
}

/** A report's evaluation counts, per expression start and value. */
function evaluations(source: RulesSource, coverage: CoverageReport): Evaluations {
  const found: Evaluations = new Map();
  const visit = (node: CoverageNode): void => {
    const at = source.offset(node.sourcePosition);
    const counts = new Map((node.values ?? []).map(({ value, count }) => [JSON.stringify(value), Number(count)]));
    found.set(at, [...(found.get(at) ?? []), { span: node.sourcePosition.endOffset - node.sourcePosition.currentOffset, counts }]);
    node.children?.forEach(visit);
  };
  coverage.report.forEach(visit);
  return found;
}

/**
 * How often `resource == null` held in `statement` between two reports: requests on a document
 * that was not there. (The emulator reports each expression's span as its last character's
 * offset less its first's.)
 */
function missingResourceChecks(source: RulesSource, earlier: Evaluations, later: Evaluations, statement: RulesSource["statements"][number]): number {
  let total = 0;
  for (const [at, nodes] of later) {
    if (at < statement.condition || at >= statement.end) continue;
    for (const node of nodes) {
      if (!/^resource\s*==\s*null$/.test(source.text.slice(at, at + node.span + 1))) continue;
      const was = earlier.get(at)?.find((found) => found.span === node.span)?.counts.get(TRUE) ?? 0;
      total += (node.counts.get(TRUE) ?? 0) - was;
    }
  }
  return total;
}

/**
 * What the rules did between `before` and `after`, from the emulator's own counts. A write is
 * a condition of a create or update statement evaluating to true (a delete: of a delete
 * statement). A read is a get()/getAfter()/exists()/existsAfter() that returned a value: the
 * emulator also evaluates some rules once more with no document (`undefined`), which no
 * production request does. Billing counts a document once per request, so calls in one
 * function on one path expression (hasEnded's existsAfter and getAfter) are one read per run.
 */
function tallyRules(before: CoverageReport, after: CoverageReport): RulesTally {
  const source = new RulesSource(after.rules.files[0].content);
  const earlier = evaluations(source, before);
  const later = evaluations(source, after);
  const pick = (nodes: Array<{ span: number; counts: Map<string, number> }> | undefined, widest: boolean) =>
    nodes?.reduce((best, node) => ((widest ? node.span > best.span : node.span < best.span) ? node : best));
  const added = (at: number, widest: boolean, counted: (value: string) => boolean): number => {
    const was = pick(earlier.get(at), widest)?.counts ?? new Map<string, number>();
    const now = pick(later.get(at), widest)?.counts ?? new Map<string, number>();
    return [...now].filter(([value]) => counted(value)).reduce((sum, [value, count]) => sum + count - (was.get(value) ?? 0), 0);
  };
  const tally: RulesTally = { writes: 0, deletes: 0, writeReads: 0, listenReads: 0, deletesOfMissing: 0, lines: [] };
  const line = (at: number) => source.text.slice(0, at).split("\n").length;

  for (const statement of source.statements) {
    const allowed = added(statement.condition, true, (value) => value === TRUE);
    if (allowed === 0 || statement.methods.every((method) => !WRITE_METHODS.has(method))) continue;
    const kinds = new Set(statement.methods.map((method) => (method === "delete" ? "deletes" : method === "create" || method === "update" ? "writes" : "either")));
    assert.ok(kinds.size === 1 && !kinds.has("either"), `allow ${statement.methods.join(", ")} (line ${line(statement.condition)}) mixes writes and deletes: its count cannot be split`);
    const kind = [...kinds][0] as "writes" | "deletes";
    tally[kind] += allowed;
    tally.lines.push(`allow ${statement.methods.join(", ")} (line ${line(statement.condition)}): ${allowed} ${kind === "writes" ? "document write(s)" : "delete(s)"}`);
    const missing = kind === "deletes" ? missingResourceChecks(source, earlier, later, statement) : 0;
    if (missing > 0) {
      tally.deletesOfMissing += missing;
      tally.lines.push(`allow ${statement.methods.join(", ")} (line ${line(statement.condition)}): ${missing} of them of a missing document`);
    }
  }

  const groups = new Map<string, { reads: number; writeSide: boolean; what: string }>();
  for (const at of later.keys()) {
    const read = source.readAt(at);
    if (!read) continue;
    const returned = added(at, false, (value) => value !== UNDEFINED);
    if (returned === 0) continue;
    const scope = source.scopeOf(at);
    const writeSide = [...scope.methods].some((method) => WRITE_METHODS.has(method));
    assert.ok(writeSide !== [...scope.methods].some((method) => !WRITE_METHODS.has(method)), `${scope.name} (line ${line(at)}) runs for reads and writes: its reads cannot be told apart`);
    const key = `${scope.name} ${read.argument}`;
    const group = groups.get(key) ?? { reads: 0, writeSide, what: `${read.call}(${read.argument}) in ${scope.name} (line ${line(at)})` };
    group.reads = Math.max(group.reads, returned);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    tally[group.writeSide ? "writeReads" : "listenReads"] += group.reads;
    tally.lines.push(`${group.what}: ${group.reads} document read(s)${group.writeSide ? "" : " re-checking a listener"}`);
  }
  return tally;
}

/** What the sweep did through the Admin SDK: the documents each of its queries returned, and those its BulkWriter deleted. */
interface SweepObservation {
  queries: string[][];
  deleted: string[];
}

/** `db` as the sweep uses it, recording into `seen` the results of its queries and the deletions its BulkWriter commits. */
function observedBySweep(db: AdminFirestore, seen: SweepObservation): AdminFirestore {
  const { BulkWriter, Query } = adminFirestoreModule;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, key) {
        const value: unknown = Reflect.get(object, key);
        if (typeof value !== "function") return value;
        return (...args: unknown[]): unknown => {
          const result: unknown = (value as (...parameters: unknown[]) => unknown).apply(object, args);
          if (object instanceof Query && key === "get") {
            return (result as Promise<AdminQuerySnapshot>).then((snapshot) => {
              seen.queries.push(snapshot.docs.map((document) => document.ref.path));
              return snapshot;
            });
          }
          if (object instanceof BulkWriter && key === "delete") {
            const path = (args[0] as AdminDocumentReference).path;
            return (result as Promise<AdminWriteResult>).then((written) => {
              seen.deleted.push(path);
              return written;
            });
          }
          return result instanceof Query || result instanceof BulkWriter ? wrap(result) : result;
        };
      },
    });
  return wrap(db);
}

describe("cost of one call (Functions, Firestore and Auth emulators)", function () {
  this.timeout(180_000);
  const suite = useSignalingStack(["auth", "functions", "firestore"]);

  // Polled (reads by the Admin SDK are not the call's cost), not listened to: the emulator's
  // Listen stream can break when a listener attaches while a write lands (listen-stream.ts).
  const waitForStatus = (sessionId: string, status: string) =>
    waitFor(`session ${sessionId} to be ${status}`, async () => {
      const snapshot = await suite.admin.db.doc(sessionPath(sessionId)).get();
      return snapshot.get("status") === status ? snapshot : undefined;
    }, 20_000, 50);

  it("observes a 5+5-candidate call, the caller's limits and cleanup included, costing what the model says", async () => {
    const callerMeter = new CostMeter();
    const calleeMeter = new CostMeter();
    const caller = await signIn(suite.stack.ports, callerMeter);
    const callee = await signIn(suite.stack.ports, calleeMeter);
    try {
      // The incoming-calls query lives as long as the callee's app; its first snapshot is not a cost of this call.
      const incoming = new IncomingCalls(callee);
      await incoming.attached.wait();

      // The steady state of the limits: the caller called this person before, so the measured
      // call's limits write replaces that ended call's entry (the rules read it). The earlier
      // call's own operations are not counted.
      const earlier = await OutgoingCall.place(caller, callee.uid);
      await incoming.waitForRinging(earlier.sessionId);
      await earlier.end("cancel");
      await waitForStatus(earlier.sessionId, "ended");
      await incoming.waitForLeft(earlier.sessionId);
      earlier.stop();
      const before = { caller: callerMeter.snapshot(), callee: calleeMeter.snapshot(), rules: await ruleCoverage(suite.stack.ports.firestore) };

      const call = await OutgoingCall.place(caller, callee.uid);
      const id = call.sessionId;
      // Since `before`, only the dial batch and listeners (whose reads are told apart) met the
      // rules: this is the dial's share of the rules' reads.
      const dial = tallyRules(before.rules, await ruleCoverage(suite.stack.ports.firestore));
      const ringing = await incoming.waitForRinging(id);
      // Waiting for the trigger here only makes the count deterministic; no step needs it.
      await call.offered.wait();
      await waitForStatus(id, "offered");
      await call.sendCandidates(sampleCandidates("caller"));
      await ringing.accept();
      await call.waitForAnswer();
      await incoming.waitForGone(id);
      await incoming.waitForLeft(id);
      // The incoming-calls query lets the call go at the answer; waiting for the trigger's `answered` here keeps its
      // report apart from the connectivity one (else one late delivery may record both at once).
      await waitForStatus(id, "answered");
      await ringing.sendCandidates(sampleCandidates("callee"));
      await Promise.all([call.candidates(6), ringing.candidates(6)]);
      await call.reportConnected();
      await waitForStatus(id, "connected");
      await ringing.end("hangup");
      await Promise.all([call.waitForEnd(), ringing.waitForEnd()]);
      const ended = await waitForStatus(id, "ended");
      incoming.stop();
      call.stop();
      ringing.stop();
      const rules = tallyRules(before.rules, await ruleCoverage(suite.stack.ports.firestore));

      // Cleanup: the sweep, run once expire_at has passed, finds this session, whose candidates
      // the trigger already deleted, and the earlier call's, and deletes both alone.
      assert.equal((await suite.admin.db.collection(`${sessionPath(id)}/ice_candidates`).get()).size, 0);
      const sweep: SweepObservation = { queries: [], deleted: [] };
      const swept = await captureOutputAsync(() => sweepSessions(observedBySweep(suite.admin.db, sweep), ended.get("expire_at").toMillis(), SUITE_TIMEOUTS));
      if (swept.error) throw swept.error;
      assert.deepEqual(swept.result, { recorded: 0, ended: 0, superseded: 0, deleted: 2, deletedLive: 0, remaining: 0 });
      assert.equal(sweep.queries.length, SWEEP_QUERIES_PER_RUN, "queries the sweep ran");
      assert.deepEqual(sweep.deleted.sort(), [sessionPath(earlier.sessionId), sessionPath(id)].sort());
      assert.equal((await suite.admin.db.doc(sessionPath(id)).get()).exists, false);
      const sweptThisCall = {
        reads: sweep.queries.flat().filter((path) => path === sessionPath(id)).length,
        deletes: sweep.deleted.filter((path) => path === sessionPath(id)).length,
      };

      // The trigger's commits, as its log line reports each batch it committed.
      const server = await waitForLogEntries(suite.stack, "session transition", id, 4);
      const serverWrites = server.reduce((sum, entry) => sum + (entry.writes as number), 0);
      const serverDeletes = server.reduce((sum, entry) => sum + (entry.deletes as number), 0);
      const callerCounts = callerMeter.since(before.caller);
      const calleeCounts = calleeMeter.since(before.callee);
      const clients = {
        writes: callerCounts.writes + calleeCounts.writes,
        deletes: callerCounts.deletes + calleeCounts.deletes,
        listenerReads: callerCounts.listenerReads + calleeCounts.listenerReads,
        documentReads: callerCounts.documentReads + calleeCounts.documentReads,
      };
      const measured = {
        writes: clients.writes + serverWrites,
        listenerReads: clients.listenerReads,
        // The rules' reads for the clients' writes, the clients' own getDoc reads (none on the
        // call path), and the sweep's query results that were this session.
        otherReads: rules.writeReads + clients.documentReads + sweptThisCall.reads,
        deletes: clients.deletes + serverDeletes + sweptThisCall.deletes,
      };
      // Only the side that did not hang up can find its document gone: the trigger, woken by the
      // end request, may delete it before that side hears of the hang-up.
      assert.ok(rules.deletesOfMissing <= 1, `${rules.deletesOfMissing} deletes of a missing candidates document`);
      const model = signalingCallCost({ callerCandidates: 5, calleeCandidates: 5, callerBatches: 1, calleeBatches: 1, triggerDeletedFirst: rules.deletesOfMissing === 1 }).totals;
      // The model counts every status write the trigger makes as seen. When the trigger's
      // `offered` beat a listener's first sight of the call, that listener never pays for the change.
      const missedOffered = (call.offeredAtAttach ? 1 : 0) + (incoming.firstSeenStatus.get(id) === "offered" ? 1 : 0);
      const codelab = codelabCallCost(5, 5);

      console.log(
        [
          "      measured Firestore operations for one 5+5-candidate call:",
          ...callerMeter.entries.slice(before.caller.entries).map((entry) => `        caller  ${entry}`),
          ...calleeMeter.entries.slice(before.callee.entries).map((entry) => `        callee  ${entry}`),
          ...rules.lines.map((entry) => `        rules   ${entry}`),
          ...server.map((entry) => `        server  ${String(entry.by)}: ${String(entry.from)} → ${String(entry.to)}, ${String(entry.writes)} write(s), ${String(entry.deletes)} delete(s)`),
          `        sweep   ${sweep.queries.length} queries returned ${sweep.queries.map((paths) => paths.length).join("+")} session(s), ${sweptThisCall.reads} of them this one; deleted ${sweep.deleted.length}, ${sweptThisCall.deletes} of them this one`,
          `      totals: ${measured.writes} writes, ${measured.listenerReads} listener reads + ${measured.otherReads} other reads ` +
            `(rules reads, client gets and the sweep's query), ${measured.deletes} deletes; model: ${model.writes} writes, ` +
            `${model.listenerReads - missedOffered} + ${model.otherReads} reads, ${model.deletes} deletes; codelab: ${codelab.writes} writes, ${codelab.listenerReads} listener reads` +
            (rules.listenReads > 0 ? `; not in the model: ${rules.listenReads} rules read(s) re-checking listeners` : ""),
        ].join("\n"),
      );

      // A resumed Listen stream may bill its targets again: a count across one proves nothing.
      const broken = [...caller.streams.failures, ...callee.streams.failures];
      assert.equal(broken.length, 0, `the count is void: ${broken.length} emulator stream failure(s) during it (see the !!! line above)`);
      // Two observations of the clients' writes agree: the SDK calls that committed, and the rules' allowed writes.
      assert.deepEqual({ writes: rules.writes, deletes: rules.deletes }, { writes: clients.writes, deletes: clients.deletes }, "the rules allowed what the clients committed");
      assert.equal(dial.writeReads, LIMITS_RULE_READS, "rules reads of the dial batch");
      assert.deepEqual(measured, { writes: model.writes, listenerReads: model.listenerReads - missedOffered, otherReads: model.otherReads, deletes: model.deletes });
    } finally {
      await caller.close();
      await callee.close();
    }
  });
});
