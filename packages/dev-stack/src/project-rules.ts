// Rules per project in a running Firestore emulator: a test or benchmark may give a project of its
// own other rules (allow-all for a bare baseline) while the app's project keeps firestore.rules.

/**
 * Loads `rules` for `projectId` into a running Firestore emulator through its REST endpoint;
 * the emulator keeps rules per project, so the app's own project keeps firestore.rules.
 */
export async function loadRules(firestorePort: number, projectId: string, rules: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${firestorePort}/emulator/v1/projects/${projectId}:securityRules`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rules: { files: [{ name: "firestore.rules", content: rules }] } }),
  });
  if (!response.ok) throw new Error(`the Firestore emulator refused rules for ${projectId}: ${response.status} ${await response.text()}`);
}
