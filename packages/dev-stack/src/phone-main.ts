// The phone process: a PhoneDriver behind Node's IPC channel, started by phone.ts (inside a
// test's network namespace, or anywhere). It lives as long as the channel: when the test
// process goes, even killed, the channel closes and the phone hangs up and exits.
import { PhoneDriver } from "./phone-driver";
import { phoneCommandSchema, type PhoneEvent } from "./phone-protocol";

/** How long the phone may take to hang up and sign out once the test is gone. */
const CLOSE_GRACE_MS = 3_000;

if (!process.send) {
  console.error("the phone takes its commands over Node's IPC channel: start it with startPhone (phone.ts)");
  process.exit(2);
}

const send = (event: PhoneEvent): void => {
  if (process.connected) process.send?.(event);
};
const driver = new PhoneDriver(send);

process.on("message", (raw: unknown) => {
  const parsed = phoneCommandSchema.safeParse(raw);
  if (!parsed.success) {
    const id = (raw as { id?: unknown } | null)?.id;
    send({ type: "result", id: typeof id === "number" ? id : 0, ok: false, value: null, error: `the phone refused a command: ${parsed.error.message}` });
    return;
  }
  void driver.result(parsed.data).then(send);
});

send({ type: "ready", at: Date.now() });

process.once("disconnect", () => {
  setTimeout(() => process.exit(0), CLOSE_GRACE_MS).unref();
  void driver.close().finally(() => process.exit(0));
});
