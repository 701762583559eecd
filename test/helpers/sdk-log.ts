import { setLogLevel } from "firebase/firestore";

/** The Firestore SDK's log level when nobody set one (@firebase/logger's default). */
export const SDK_DEFAULT_LOG_LEVEL = "info";

/**
 * Silences the Firestore SDK's log for the enclosing `describe` (each refused write there is
 * expected, and the SDK would log it as a stream error) and restores it afterwards: suites that
 * run later in the same process read the SDK's error lines (the stream-failure watch of
 * `@webrtc-lite/dev-stack/listen-stream`), and a silent SDK logs none.
 */
export function quietSdkLogInSuite(): void {
  before(() => setLogLevel("silent"));
  after(() => setLogLevel(SDK_DEFAULT_LOG_LEVEL));
}
