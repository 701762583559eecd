import { randomUUID } from "node:crypto";

/** A user the Auth emulator signed in, with the ID token a callable expects. */
export interface SignedInUser {
  uid: string;
  idToken: string;
}

/** Signs up a user on the Auth emulator over its REST API: anonymous, or with email and password. */
export async function signUpUser(authPort: number, kind: "anonymous" | "password" = "password"): Promise<SignedInUser> {
  const body =
    kind === "anonymous"
      ? { returnSecureToken: true }
      : { email: `user-${randomUUID()}@example.com`, password: "correct-horse-battery", returnSecureToken: true };
  const response = await fetch(
    `http://127.0.0.1:${authPort}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key`,
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  if (!response.ok) throw new Error(`Auth emulator sign-up failed: ${response.status} ${await response.text()}`);
  const json = (await response.json()) as { localId: string; idToken: string };
  return { uid: json.localId, idToken: json.idToken };
}

/** The parsed answer to one raw callable request. */
export interface CallableAnswer {
  status: number;
  body: { result?: unknown; error?: { status: string; message: string } };
}

/**
 * Sends one request in the callable wire protocol (`POST {"data": …}`), as the Android and iOS
 * SDKs do, with an optional ID token; `rawBody` sends bytes exactly as given, and `signal`
 * bounds the wait.
 */
export async function callRaw(
  url: string,
  options: { idToken?: string; data?: unknown; rawBody?: string; headers?: Record<string, string>; signal?: AbortSignal },
): Promise<CallableAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.idToken) headers.authorization = `Bearer ${options.idToken}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: options.rawBody ?? JSON.stringify({ data: options.data ?? null }),
    signal: options.signal,
  });
  const text = await response.text();
  let body: CallableAnswer["body"];
  try {
    body = JSON.parse(text) as CallableAnswer["body"];
  } catch {
    body = { error: { status: "NOT_JSON", message: text.slice(0, 200) } };
  }
  return { status: response.status, body };
}
