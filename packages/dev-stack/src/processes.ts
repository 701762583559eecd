import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** A long-running child process whose output is kept for assertions and failure reports. */
export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects if the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Stops the whole process group: SIGINT, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

// Each child runs in a process group of its own, so a Ctrl-C in the terminal (sent to the
// foreground group only) or an exit before the `after` hooks ran would leave it running. These
// hooks kill every group still alive when the test process exits or is interrupted.
const liveGroups = new Set<number>();
const exitKillers = new Set<() => void>();
let exitHooksInstalled = false;

function killLiveGroups(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  liveGroups.clear();
  for (const kill of exitKillers) {
    try {
      kill();
    } catch {
      // Best effort: the others must still run.
    }
  }
  exitKillers.clear();
}

/**
 * Runs `kill` (synchronous) if the test process exits or is interrupted before the returned
 * function is called: for what a child starts outside its own process group (firebase-tools
 * detaches the Firestore emulator's Java into a group of its own).
 */
export function killOnExit(kill: () => void): () => void {
  installExitHooks();
  exitKillers.add(kill);
  return () => exitKillers.delete(kill);
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once("exit", killLiveGroups);
  // `on`, not `once`: a Ctrl-C reaches mocha's parent process too, which forwards SIGINT and then
  // SIGTERM; with the listener gone a second signal would kill this process before the cleanup.
  for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
    process.on(signal, () => {
      killLiveGroups();
      // The default action (exit) is gone once a listener exists: exit as it would have.
      process.exit(128 + number);
    });
  }
}

/** Starts `command` in its own process group so that stopping it also stops what it spawned. */
export function startProcess(command: string, args: string[], options: SpawnOptions = {}): RunningProcess {
  installExitHooks();
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const group = child.pid;
  if (group !== undefined) liveGroups.add(group);
  let output = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    listeners.forEach((listener) => listener());
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => listeners.forEach((listener) => listener()));

  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };

  return {
    child,
    output: () => output,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) {
            done();
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${command} exited before printing ${pattern}:\n${tail(output)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${tail(output)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      signalGroup("SIGINT");
      const killer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
      // Children of the group may outlive the leader (e.g. the functions runtime).
      if (group !== undefined) {
        try {
          process.kill(-group, "SIGKILL");
        } catch {
          // The whole group is gone.
        }
        liveGroups.delete(group);
      }
    },
  };
}

/** The last lines of a log, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}
