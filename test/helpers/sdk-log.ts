import { setLogLevel } from "firebase/firestore";

/**
 * The Firestore SDK's log level in every test run: its errors are what the stream-failure watch
 * of `@webrtc-lite/dev-stack/listen-stream` reads, and its warnings are mostly the refused writes
 * and cut connections that suites cause on purpose.
 */
export const SDK_TEST_LOG_LEVEL = "error";

/**
 * Silences the Firestore SDK's log for the enclosing `describe` (each refused write there is
 * expected, and the SDK would log it as a stream error) and restores the run's level afterwards:
 * a silent SDK logs no stream failure either, so suites that run later in the same process would
 * not see theirs.
 */
export function quietSdkLogInSuite(): void {
  before(() => setLogLevel("silent"));
  after(() => setLogLevel(SDK_TEST_LOG_LEVEL));
}
