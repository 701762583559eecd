// Stops what the bench started even when it is interrupted (Ctrl-C, SIGTERM): emulators and
// coturn run in process groups of their own, so they would not get the terminal's signal.

const stoppers: Array<() => Promise<void>> = [];
let installed = false;

async function stopAll(): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) {
    await stop().catch((error: unknown) => console.error("bench: while stopping:", error));
  }
}

/**
 * Registers `stop` to run on SIGINT/SIGTERM (then the bench exits with 130) and returns a
 * function that runs it now and forgets it, for the normal path.
 */
export function stopOnInterrupt(stop: () => Promise<void>): () => Promise<void> {
  if (!installed) {
    installed = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        console.error(`\nbench: ${signal}: stopping what it started…`);
        void stopAll().finally(() => process.exit(130));
      });
    }
  }
  stoppers.push(stop);
  return async () => {
    const index = stoppers.indexOf(stop);
    if (index >= 0) stoppers.splice(index, 1);
    await stop();
  };
}
