import { DEFAULT_TIMEOUTS } from "@webrtc-lite/contract";
import { emulatorAdmin, type EmulatorAdmin } from "./admin";
import { startEmulatorStack, type EmulatorName, type EmulatorStack } from "./emulators";
import { waitFor } from "./wait";
import { functionParams, newSecret } from "./turn-config";

/** The timeouts the signaling suites run with (the defaults, stated so the emulator never prompts). */
export const SUITE_TIMEOUTS = { ...DEFAULT_TIMEOUTS };

/** Params and secrets a suite adds to (or changes in) the signaling stack's, e.g. the push function's. */
export interface StackSettings {
  params?: Record<string, string>;
  secrets?: Record<string, string>;
}

/** Starts the emulators a signaling suite needs, with every param of every function given. */
export function startSignalingStack(emulators: EmulatorName[], settings: StackSettings = {}): Promise<EmulatorStack> {
  return startEmulatorStack({
    emulators,
    params: functionParams(["turn:127.0.0.1:3478?transport=udp"], {
      SESSION_PENDING_TIMEOUT_SECONDS: String(SUITE_TIMEOUTS.pendingSeconds),
      SESSION_RING_TIMEOUT_SECONDS: String(SUITE_TIMEOUTS.ringSeconds),
      SESSION_ANSWER_TIMEOUT_SECONDS: String(SUITE_TIMEOUTS.answerSeconds),
      SESSION_MAX_CALL_SECONDS: String(SUITE_TIMEOUTS.maxCallSeconds),
      SESSION_TTL_SECONDS: String(SUITE_TIMEOUTS.sessionTtlSeconds),
      ...settings.params,
    }),
    secrets: { TURN_SHARED_SECRET: newSecret(), ...settings.secrets },
  });
}

/** One structured log entry a function wrote (firebase-functions/logger), as the emulator prints it. */
type LogEntry = Record<string, unknown> & { message: string };

/** The structured log entries in the emulator's output with the given message. */
function logEntries(output: string, message: string): LogEntry[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith(">  {") && line.includes(`"message":${JSON.stringify(message)}`))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as LogEntry);
}

/**
 * Waits until the emulator has printed at least `count` entries with `message` about
 * `sessionId` (a function logs after its commit, so the entry can trail the write it reports).
 */
export function waitForLogEntries(stack: EmulatorStack, message: string, sessionId: string, count: number): Promise<LogEntry[]> {
  return waitFor(`${count} "${message}" log entries for session ${sessionId}`, () => {
    const entries = logEntries(stack.output(), message).filter((entry) => entry.sessionId === sessionId);
    return entries.length >= count ? entries : undefined;
  });
}

/** A suite's running emulators and its admin Firestore on them, available from `before` on. */
export interface SignalingSuite {
  stack: EmulatorStack;
  admin: EmulatorAdmin;
}

/**
 * Registers mocha hooks that start the emulators (and an admin client) before a suite and stop
 * them after; `settings` is asked for when the stack starts (after the suite's earlier hooks).
 */
export function useSignalingStack(emulators: EmulatorName[], settings: () => StackSettings = () => ({})): SignalingSuite {
  const suite = {} as SignalingSuite;
  before(async () => {
    suite.stack = await startSignalingStack(emulators, settings());
    suite.admin = emulatorAdmin(suite.stack.ports.firestore);
  });
  after(async () => {
    await suite.admin?.close();
    await suite.stack?.stop();
  });
  return suite;
}

/** Stacks shared by suites, one per emulator set, started by the first suite that asks. */
const sharedStacks = new Map<string, Promise<SignalingSuite>>();

/**
 * Like `useSignalingStack`, but one stack per set of emulators for the whole mocha run, started
 * by the first suite that asks and stopped by `stopSharedSignalingStacks` (a root hook) when the
 * run ends: for suites that only write documents of their own (fresh users, fresh sessions), so
 * that each does not pay an emulator start.
 */
export function useSharedSignalingStack(emulators: EmulatorName[]): SignalingSuite {
  const suite = {} as SignalingSuite;
  before(async function () {
    this.timeout(120_000);
    const key = [...emulators].sort().join(",");
    let shared = sharedStacks.get(key);
    if (!shared) {
      shared = startSignalingStack(emulators).then((stack) => ({ stack, admin: emulatorAdmin(stack.ports.firestore) }));
      // A failed start is not shared: the next suite tries again.
      shared.catch(() => sharedStacks.delete(key));
      sharedStacks.set(key, shared);
    }
    Object.assign(suite, await shared);
  });
  return suite;
}

/** Stops every shared stack (the run's root `afterAll`). */
export async function stopSharedSignalingStacks(): Promise<void> {
  const stacks = [...sharedStacks.values()];
  sharedStacks.clear();
  for (const started of stacks) {
    const suite = await started.catch(() => undefined);
    await suite?.admin.close();
    await suite?.stack.stop();
  }
}
