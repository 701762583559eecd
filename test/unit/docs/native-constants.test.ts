import assert from "node:assert/strict";
import { CALL_LIMITS, CREATE_EXPIRY, ICE_RESTART, LIMITS, MAX_CANDIDATE_LENGTH, MAX_SDP_LENGTH, RING_DEADLINE, RING_SECONDS } from "@webrtc-lite/contract";
import { CREDENTIAL_REFRESH } from "@webrtc-lite/client";
import { REPO_ROOT } from "@webrtc-lite/dev-stack/emulators";
import { fencesOf, repositoryMarkdownFiles } from "#doc-snippets/fences";
import { nativeConstantProblems, swiftName, type ContractConstant } from "./native-constants";

/**
 * The constants the docs' Kotlin snippets may declare in `object Contract` (Swift: the camelCase
 * twin in `enum Contract`), each with the contract export it must equal. Required ones must be
 * declared in both languages as soon as any Kotlin or Swift snippet mentions `Contract`.
 */
const CONTRACT_CONSTANTS: readonly ContractConstant[] = [
  { kotlin: "MAX_ENTRIES_PER_WRITE", value: LIMITS.maxCandidatesPerWrite, source: "LIMITS.maxCandidatesPerWrite", required: true },
  { kotlin: "MAX_ENTRIES_PER_GENERATION", value: LIMITS.maxCandidatesPerSide, source: "LIMITS.maxCandidatesPerSide", required: true },
  { kotlin: "RING_SECONDS_MIN", value: RING_SECONDS.min, source: "RING_SECONDS.min", required: true },
  { kotlin: "RING_SECONDS_MAX", value: RING_SECONDS.max, source: "RING_SECONDS.max", required: true },
  { kotlin: "RING_SECONDS_DEFAULT", value: RING_SECONDS.default, source: "RING_SECONDS.default", required: true },
  // The ring deadline's tolerance for a device clock behind the server's (the docs' "Ringing").
  { kotlin: "RING_CLOCK_TOLERANCE_MS", value: RING_DEADLINE.clockToleranceMs, source: "RING_DEADLINE.clockToleranceMs", required: true },
  { kotlin: "EXPIRE_AFTER_MS", value: CREATE_EXPIRY.clientSeconds * 1000, source: "CREATE_EXPIRY.clientSeconds × 1000", required: true },
  { kotlin: "EXPIRE_ACCEPTED_MIN_MS", value: CREATE_EXPIRY.minSeconds * 1000, source: "CREATE_EXPIRY.minSeconds × 1000", required: true },
  { kotlin: "EXPIRE_ACCEPTED_MAX_MS", value: CREATE_EXPIRY.maxSeconds * 1000, source: "CREATE_EXPIRY.maxSeconds × 1000", required: true },
  { kotlin: "MAX_GENERATION", value: ICE_RESTART.maxGeneration, source: "ICE_RESTART.maxGeneration", required: true },
  { kotlin: "DISCONNECTED_GRACE_MS", value: ICE_RESTART.disconnectedGraceMs, source: "ICE_RESTART.disconnectedGraceMs", required: true },
  { kotlin: "RESTART_ATTEMPT_MS", value: ICE_RESTART.attemptMs, source: "ICE_RESTART.attemptMs", required: true },
  { kotlin: "RECOVERY_WINDOW_MS", value: ICE_RESTART.giveUpMs, source: "ICE_RESTART.giveUpMs", required: true },
  { kotlin: "MAX_LIVE_CALLS", value: CALL_LIMITS.maxLiveCalls, source: "CALL_LIMITS.maxLiveCalls", required: true },
  { kotlin: "CALLS_PER_MINUTE", value: CALL_LIMITS.callsPerMinute, source: "CALL_LIMITS.callsPerMinute", required: true },
  { kotlin: "CALL_WINDOW_MS", value: CALL_LIMITS.windowSeconds * 1000, source: "CALL_LIMITS.windowSeconds × 1000", required: true },
  { kotlin: "CREDENTIAL_REFRESH_FRACTION", value: CREDENTIAL_REFRESH.fraction, source: "the web client's CREDENTIAL_REFRESH.fraction", required: true },
  { kotlin: "CREDENTIAL_REFRESH_MAX_MS", value: CREDENTIAL_REFRESH.maxMarginSeconds * 1000, source: "the web client's CREDENTIAL_REFRESH.maxMarginSeconds × 1000", required: true },
  // The received entry's grammar, for ports that spell its bounds with names.
  { kotlin: "MAX_SDP_LENGTH", value: MAX_SDP_LENGTH, source: "MAX_SDP_LENGTH", required: false },
  { kotlin: "MAX_CANDIDATE_LENGTH", value: MAX_CANDIDATE_LENGTH, source: "MAX_CANDIDATE_LENGTH", required: false },
  { kotlin: "MAX_SDP_MID_LENGTH", value: LIMITS.maxSdpMidLength, source: "LIMITS.maxSdpMidLength", required: false },
  { kotlin: "MAX_SDP_MLINE_INDEX", value: LIMITS.maxSdpMLineIndex, source: "LIMITS.maxSdpMLineIndex", required: false },
  { kotlin: "MAX_USERNAME_FRAGMENT_LENGTH", value: LIMITS.maxUsernameFragmentLength, source: "LIMITS.maxUsernameFragmentLength", required: false },
];

const FIXTURES = "test/unit/docs/fixtures";

function problemsOf(files: readonly string[], table = CONTRACT_CONSTANTS): string[] {
  return nativeConstantProblems(fencesOf(REPO_ROOT, files, ["kotlin", "swift", "ts", "typescript"]), table);
}

describe("docs: the Kotlin and Swift snippets' named constants", () => {
  it("finds nothing wrong in fences that declare every constant as the contract has it and use the names", () => {
    assert.deepEqual(problemsOf([`${FIXTURES}/native-good.md`]), []);
  });

  it("names each wrong value, unknown name, missing twin, undeclared use and bare count with its file and line", () => {
    // Nothing required here, so that every other rule shows on its own.
    const optional = CONTRACT_CONSTANTS.map((constant) => ({ ...constant, required: false }));
    const file = `${FIXTURES}/native-bad.md`;
    assert.deepEqual(problemsOf([file], optional), [
      `${file}:5 MAX_ENTRIES_PER_WRITE = 8 is 8, but the contract's LIMITS.maxCandidatesPerWrite is 6`,
      `${file}:8 RING_SECONDS_DEFAULT = ONE_MINUTE: write the value as a number or a product of numbers (25 * 3_600_000L), not "ONE_MINUTE"`,
      `${file}:9 Kotlin constant MAX_ENTRIES is not a contract constant this test knows (${CONTRACT_CONSTANTS.map((constant) => constant.kotlin).join(", ")})`,
      `${file}:24 Swift constant ringClockTolerance is not a contract constant this test knows (${CONTRACT_CONSTANTS.map((constant) => swiftName(constant.kotlin)).join(", ")})`,
      `${file}:6 Kotlin declares RING_SECONDS_MAX but no \`\`\`swift fence declares its twin ringSecondsMax in \`enum Contract { static let … }\``,
      `${file}:7 Kotlin declares EXPIRE_AFTER_MS but no \`\`\`swift fence declares its twin expireAfterMs in \`enum Contract { static let … }\``,
      `${file}:23 Swift declares callsPerMinute but no \`\`\`kotlin fence declares its twin CALLS_PER_MINUTE in \`object Contract { const val … }\``,
      `${file}:16 uses Contract.MAX_LIVE_CALLS, which no \`\`\`kotlin fence declares in \`object Contract { const val … }\``,
      `${file}:13 take(8): a count the rules bound is written as a number; use the named constant (Contract.MAX_ENTRIES_PER_WRITE or its kin)`,
      `${file}:14 subList(0, 6): a count the rules bound is written as a number; use the named constant (Contract.MAX_ENTRIES_PER_WRITE or its kin)`,
      `${file}:15 batchOfUpTo8: a count the rules bound is written as a number; use the named constant (Contract.MAX_ENTRIES_PER_WRITE or its kin)`,
      `${file}:27 prefix(6): a count the rules bound is written as a number; use the named constant (Contract.maxEntriesPerWrite or its kin)`,
      `${file}:27 [..<6]: a count the rules bound is written as a number; use the named constant (Contract.maxEntriesPerWrite or its kin)`,
      `${file}:31 splice(0, 8): a count the rules bound is written as a number; use the named constant (LIMITS.maxCandidatesPerWrite or its kin)`,
    ]);
  });

  it("fails when a snippet uses Contract but no fence declares the constants", () => {
    const file = `${FIXTURES}/native-undeclared.md`;
    const required = CONTRACT_CONSTANTS.filter((constant) => constant.required);
    assert.deepEqual(problemsOf([file]), [
      ...required.flatMap((constant) => [
        `no \`\`\`kotlin fence of README.md or docs/*.md declares ${constant.kotlin} = ${constant.value} (${constant.source}) in \`object Contract { const val … }\`, though ${file}:3 mentions Contract`,
        `no \`\`\`swift fence of README.md or docs/*.md declares ${swiftName(constant.kotlin)} = ${constant.value} (${constant.source}) in \`enum Contract { static let … }\`, though ${file}:3 mentions Contract`,
      ]),
      `${file}:4 uses Contract.MAX_ENTRIES_PER_WRITE, which no \`\`\`kotlin fence declares in \`object Contract { const val … }\``,
    ]);
  });

  it("finds nothing wrong in README.md and docs/*.md (constants required once a Kotlin or Swift snippet mentions Contract)", () => {
    const docs = repositoryMarkdownFiles(REPO_ROOT).filter((file) => file === "README.md" || /^docs\/[^/]+\.md$/.test(file));
    assert.ok(docs.includes("docs/signaling.md"), `the docs were not found: ${docs.join(", ")}`);
    assert.deepEqual(problemsOf(docs), []);
  });
});
