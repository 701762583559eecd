// Push for incoming calls: where devices register (targets) and what the pushes carry (payload).
export * from "./targets.js";
export * from "./payload.js";
