// The test's side of a phone: commands out, events in. `startPhone` runs the phone as a child
// process inside a network namespace (phone-main.ts over Node's IPC channel, which survives
// `ip netns exec`); `localPhone` runs the same driver in the test's own process, on loopback.
import { join } from "node:path";
import { REPO_ROOT } from "./emulators";
import type { NetworkNamespace, NamespaceProcess } from "./netns";
import { PhoneDriver } from "./phone-driver";
import { phoneEventSchema, type PhoneCommand, type PhoneEvent, type PhoneReport, type PhoneRequest, type PhoneResults, type PhoneRtcConfiguration } from "./phone-protocol";

export type { PhoneEvent, PhoneReport, PhoneRtcConfiguration, SelectedPair } from "./phone-protocol";

/** The phone process's entry point. */
const PHONE_MAIN = join(__dirname, "phone-main.ts");
/** How long a phone process may take to load (tsx, Firebase, libwebrtc) on a busy machine. */
const START_TIMEOUT_MS = 30_000;
/** How long a phone process may take to hang up and sign out once told to close. */
const CLOSE_GRACE_MS = 5_000;
/** How long a command may take before the test hears of it (an answer waits longer: its own timeout). */
const COMMAND_TIMEOUT_MS = 30_000;

/** Where the emulators are, as seen from the phone (through the namespace's forwards for a phone inside one). */
export interface PhoneEmulators {
  projectId: string;
  auth: { host: string; port: number };
  firestore: { host: string; port: number };
  /** Restart Firestore's streams when the phone's addresses change (see the sign-in command); default false. */
  restartStreamsOnNetworkChange?: boolean;
}

/** What a call or an answer runs with: the peer connection's configuration and CallOptions as JSON. */
export interface PhoneCallSetup {
  rtc: PhoneRtcConfiguration;
  options?: Record<string, unknown>;
}

type Waiter = { check: (event: PhoneReport) => boolean };

/** One side of a call the test drives; each method is one command. */
export class Phone {
  /** Every event but command results, in arrival order. */
  readonly events: PhoneReport[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly waiters = new Set<Waiter>();

  private constructor(
    private readonly name: string,
    private readonly transport: { send(command: PhoneCommand): void; close(): Promise<void>; output(): string },
  ) {}

  /** Signs a new anonymous user in; resolves with its uid. */
  signIn(emulators: PhoneEmulators): Promise<string> {
    return this.command({ type: "sign-in", ...emulators, restartStreamsOnNetworkChange: emulators.restartStreamsOnNetworkChange ?? false });
  }

  /** Calls `calleeId` with a data channel `chat`; resolves once the call rings. */
  call(calleeId: string, setup: PhoneCallSetup): Promise<PhoneResults["call"]> {
    return this.command({ type: "call", calleeId, rtc: setup.rtc, options: setup.options ?? {}, channel: "chat" });
  }

  /** Answers the first call that rings within `timeoutMs`. */
  answer(setup: PhoneCallSetup, timeoutMs: number): Promise<PhoneResults["answer"]> {
    return this.command({ type: "answer", rtc: setup.rtc, options: setup.options ?? {}, timeoutMs }, timeoutMs + COMMAND_TIMEOUT_MS);
  }

  /** Sends `text` on the data channel. */
  send(text: string): Promise<null> {
    return this.command({ type: "send", text });
  }

  /** The selected candidate pair of the call, or null. */
  stats(): Promise<PhoneResults["stats"]> {
    return this.command({ type: "stats" });
  }

  /** Hangs up and closes the peer connection. */
  hangUp(): Promise<null> {
    return this.command({ type: "hang-up" });
  }

  /** Sends one command and resolves with its result. */
  command<R extends PhoneRequest>(request: R, timeoutMs = COMMAND_TIMEOUT_MS): Promise<PhoneResults[R["type"]]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no result for ${request.type} within ${timeoutMs} ms${this.outputTail()}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as PhoneResults[R["type"]]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.transport.send({ ...request, id });
    });
  }

  /** Resolves with the first event, past or future, that `match` accepts. */
  waitForEvent(what: string, match: (event: PhoneReport) => boolean, timeoutMs: number): Promise<PhoneReport> {
    const found = this.events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: (event) => {
          if (!match(event)) return false;
          clearTimeout(timer);
          resolve(event);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}${this.outputTail()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Hangs up a call still going, signs out and, for a phone process, ends it. */
  close(): Promise<void> {
    this.abandon("closed");
    return this.transport.close();
  }

  /** Fails every command still waiting for its result. */
  private abandon(why: string): void {
    for (const { reject } of this.pending.values()) reject(new Error(`${this.name} ${why}${this.outputTail()}`));
    this.pending.clear();
  }

  private receive(event: PhoneEvent): void {
    if (event.type === "result") {
      const pending = this.pending.get(event.id);
      this.pending.delete(event.id);
      if (event.ok) pending?.resolve(event.value);
      else pending?.reject(new Error(`${this.name}: ${event.error}`));
      return;
    }
    this.events.push(event);
    for (const waiter of this.waiters) if (waiter.check(event)) this.waiters.delete(waiter);
  }

  private outputTail(): string {
    const output = this.transport.output().trim();
    return output ? `\n${this.name} printed:\n${output.split("\n").slice(-30).join("\n")}` : "";
  }

  /** A phone process inside `namespace`, killed with the namespace or the test process at the latest. */
  static async start(namespace: NetworkNamespace, name = `phone in ${namespace.name}`): Promise<Phone> {
    const running: NamespaceProcess = namespace.run(process.execPath, ["--import", "tsx", "--conditions=@webrtc-lite/source", PHONE_MAIN], { ipc: true, cwd: REPO_ROOT });
    const { child } = running;
    const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(`exited (${signal ?? code})`)));
    const phone = new Phone(name, {
      send: (command) => child.send(command),
      output: () => running.output(),
      async close() {
        // Closing the channel is the phone's cue to hang up, sign out and exit; it gets the time to.
        if (child.connected) child.disconnect();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
        clearTimeout(timer);
        await running.stop(1_000);
      },
    });
    void exited.then((why) => phone.abandon(why));
    const ready = new Promise<void>((resolve, reject) => {
      void exited.then((why) => reject(new Error(`${name} ${why} before it was ready${phone.outputTail()}`)));
      phone.waitForEvent("ready", (event) => event.type === "ready", START_TIMEOUT_MS).then(() => resolve(), reject);
    });
    child.on("message", (raw: unknown) => {
      const parsed = phoneEventSchema.safeParse(raw);
      if (parsed.success) phone.receive(parsed.data);
      else phone.events.push({ type: "warning", at: Date.now(), code: "invalid-event", message: `${name} sent an event outside the protocol: ${parsed.error.message}` });
    });
    try {
      await ready;
    } catch (error) {
      await running.stop(1_000);
      throw error;
    }
    return phone;
  }

  /** A phone in the test's own process (same driver, no IPC): the other side of a call, on loopback. */
  static local(name = "local phone"): Phone {
    const driver = new PhoneDriver((event) => phone.receive(event));
    const phone: Phone = new Phone(name, {
      send: (command) => void driver.result(command).then((event) => phone.receive(event)),
      output: () => "",
      close: () => driver.close(),
    });
    return phone;
  }
}
