/** Runs `action` while collecting what it writes to stdout and stderr (e.g. logger lines). */
export function captureOutput<T>(action: () => T): { result?: T; error?: unknown; output: string } {
  const capture = redirectOutput();
  try {
    return { result: action(), output: capture.output() };
  } catch (error) {
    return { error, output: capture.output() };
  } finally {
    capture.restore();
  }
}

/** Awaits `action` while collecting what it writes to stdout and stderr; never run two at once (they would interleave). */
export async function captureOutputAsync<T>(action: () => Promise<T>): Promise<{ result?: T; error?: unknown; output: string }> {
  const capture = redirectOutput();
  try {
    return { result: await action(), output: capture.output() };
  } catch (error) {
    return { error, output: capture.output() };
  } finally {
    capture.restore();
  }
}

function redirectOutput(): { output: () => string; restore: () => void } {
  let output = "";
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  const collect = (chunk: string | Uint8Array): boolean => {
    output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  };
  process.stdout.write = collect;
  process.stderr.write = collect;
  return {
    output: () => output,
    restore() {
      process.stdout.write = originalOut;
      process.stderr.write = originalErr;
    },
  };
}
