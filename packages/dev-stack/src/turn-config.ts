import { randomBytes } from "node:crypto";

/** A fresh 64-character hex secret, as `openssl rand -hex 32` makes. */
export function newSecret(): string {
  return randomBytes(32).toString("hex");
}

/** The params a suite's functions run with, every one given so the emulator never prompts. */
export function functionParams(turnUris: string[], overrides: Record<string, string> = {}): Record<string, string> {
  return { TURN_URIS: turnUris.join(","), STUN_URIS: "", ENFORCE_APP_CHECK: "false", ...overrides };
}
