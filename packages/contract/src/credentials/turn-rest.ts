// The TURN REST API scheme that coturn checks with `use-auth-secret`, for Node (node:crypto,
// node:net): minting, the shared secret's checks and TURN URI parsing. The function and the
// TURN host's tools both use it, so the two sides cannot sign differently.
export * from "./mint.js";
export * from "./secret.js";
export * from "./uris.js";
