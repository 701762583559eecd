// What a test process must not leave running when it dies without running its exit handlers
// (a native module's crash, SIGKILL): the process groups it started, and the Firestore
// emulator's Java, which firebase-tools detaches into a group of its own. The test process
// lists them in a registry file as it starts and stops them; a reaper it starts (this file run
// as a script, detached) watches its pid and, once it is gone, kills what the file still lists.
// Plain CommonJS, so that the reaper runs on bare Node.
"use strict";
const { spawn } = require("node:child_process");
const { readdirSync, readFileSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

/** How often the reaper asks whether its test process is still there. */
const REAPER_POLL_MS = 500;

/** SIGKILLs a whole process group (quietly, if it is gone). */
function killGroup(leader) {
  try {
    process.kill(-leader, "SIGKILL");
  } catch {
    // The whole group is gone.
  }
}

/** SIGKILLs the Firestore emulator's Java serving `port`, found by its command line (synchronous). */
function killFirestoreEmulator(port) {
  const marker = `\0--port\0${port}\0`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // It exited while we looked.
    }
    if (!(cmdline.split("\0")[0] ?? "").endsWith("java") || !cmdline.includes(marker)) continue;
    try {
      process.kill(Number(entry), "SIGKILL");
    } catch {
      // It exited on its own meanwhile.
    }
  }
}

/** Runs one cleanup action. */
function cleanUp(action) {
  if (action.group !== undefined) killGroup(action.group);
  if (action.firestorePort !== undefined) killFirestoreEmulator(action.firestorePort);
}

const registered = new Map();
let nextId = 0;
let registryPath;

function save() {
  writeFileSync(registryPath, JSON.stringify([...registered.values()]));
}

/** Lists `action` for the reaper (started with the first one); the returned function takes it off the list. */
function register(action) {
  if (registryPath === undefined) {
    registryPath = join(tmpdir(), `webrtc-lite-leftovers-${process.pid}.json`);
    save();
    spawn(process.execPath, [__filename, String(process.pid), registryPath], { detached: true, stdio: "ignore" }).unref();
  }
  const id = nextId++;
  registered.set(id, action);
  save();
  return () => {
    if (registered.delete(id)) save();
  };
}

/** Runs every listed action now (the exit handlers' path) and empties the list. */
function cleanUpRegistered() {
  for (const action of registered.values()) cleanUp(action);
  registered.clear();
  if (registryPath !== undefined) save();
}

/** The reaper: waits for `owner` to be gone, then runs what its registry still lists. */
function reap(owner, path) {
  const timer = setInterval(() => {
    try {
      process.kill(owner, 0);
      return;
    } catch {
      // Gone: clean up after it.
    }
    clearInterval(timer);
    let left = [];
    try {
      left = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      // Nothing was listed, or the file is gone.
    }
    left.forEach(cleanUp);
    rmSync(path, { force: true });
  }, REAPER_POLL_MS);
}

if (require.main === module) reap(Number(process.argv[2]), process.argv[3]);

module.exports = { cleanUpRegistered, killFirestoreEmulator, register };
