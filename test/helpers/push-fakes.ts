// Loopback stand-ins for the services the push function talks to, speaking their real
// protocols, so the tests see exactly what each platform would receive:
//   - Google's OAuth 2.0 token endpoint (oauth2.googleapis.com/token): checks the RS256 JWT
//     assertion against the test service account's public key, hands out bearer tokens;
//   - FCM HTTP v1 (fcm.googleapis.com): POST /v1/projects/{project}/messages:send over HTTP/2
//     or HTTP/1.1, only with a bearer token the token endpoint issued; answers as FCM does,
//     including UNREGISTERED and INVALID_ARGUMENT for tokens a test marked dead;
//   - APNs (api.push.apple.com, api.sandbox.push.apple.com): HTTP/2 only, checks the ES256
//     provider token against the test key, and answers 200, 410 Unregistered or 400
//     BadDeviceToken as APNs does.
// TLS everywhere, with one self-signed certificate for all those names (the test CA).
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID, verify, type KeyObject } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createSecureServer, type Http2SecureServer, type Http2ServerResponse, type IncomingHttpHeaders } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/** The host names the fakes answer for. */
export const FAKE_HOSTS = Object.freeze({
  oauth: "oauth2.googleapis.com",
  fcm: "fcm.googleapis.com",
  apns: "api.push.apple.com",
  apnsSandbox: "api.sandbox.push.apple.com",
});

/** The test Apple key's id and team (10 characters each, as Apple's). */
export const TEST_APNS = Object.freeze({ keyId: "KEY1234567", teamId: "TEAM123456" });

/** One request a fake received: when (this machine's clock), where, its headers and its parsed JSON body. */
export interface ReceivedRequest {
  receivedAt: number;
  authority: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** How a fake answers a device token: accepted, or dead the way each platform says it. */
export type TokenFate = "ok" | "unregistered" | "invalid";

/** Keys, certificate and files the fakes and the code under test share. */
export interface PushPki {
  dir: string;
  /** The self-signed certificate of every fake host: the one root the redirected connections trust. */
  caPem: string;
  caPath: string;
  keyPem: string;
  /** A service account key file (GOOGLE_APPLICATION_CREDENTIALS) whose public half the OAuth fake checks. */
  serviceAccountPath: string;
  serviceAccount: { client_email: string; private_key: string; project_id: string };
  /** The same, as firebase-admin's cert() takes it. */
  serviceAccountCredential: { projectId: string; clientEmail: string; privateKey: string };
  serviceAccountPublicKey: KeyObject;
  /** The APNs .p8 key (PKCS #8 PEM) and its public half. */
  apnsKeyPem: string;
  apnsPublicKey: KeyObject;
  remove(): Promise<void>;
}

/** Makes the test CA certificate (openssl), a service account key and an APNs key in a temporary folder. */
export async function makePushPki(projectId: string): Promise<PushPki> {
  const dir = await mkdtemp(join(tmpdir(), "webrtc-lite-push-"));
  const caPath = join(dir, "ca.pem");
  const keyPath = join(dir, "key.pem");
  const names = Object.values(FAKE_HOSTS).map((host) => `DNS:${host}`).join(",");
  await promisify(execFile)("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=webrtc-lite push fakes", "-addext", `subjectAltName=${names}`, "-keyout", keyPath, "-out", caPath,
  ]);
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const serviceAccount = {
    type: "service_account",
    project_id: projectId,
    private_key_id: randomBytes(20).toString("hex"),
    private_key: rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: `push-test@${projectId}.iam.gserviceaccount.com`,
    client_id: "100000000000000000001",
    token_uri: `https://${FAKE_HOSTS.oauth}/token`,
  };
  const serviceAccountPath = join(dir, "service-account.json");
  await writeFile(serviceAccountPath, JSON.stringify(serviceAccount), { mode: 0o600 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    dir,
    caPem: await readFile(caPath, "utf8"),
    caPath,
    keyPem: await readFile(keyPath, "utf8"),
    serviceAccountPath,
    serviceAccount,
    serviceAccountCredential: { projectId, clientEmail: serviceAccount.client_email, privateKey: serviceAccount.private_key },
    serviceAccountPublicKey: rsa.publicKey,
    apnsKeyPem: ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    apnsPublicKey: ec.publicKey,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A running fake: its port, what it received, and how it treats tokens. */
export interface FakeServer {
  readonly port: number;
  readonly received: ReceivedRequest[];
  /** Tells the fake how to answer pushes to `token` from now on. */
  setFate(token: string, fate: TokenFate): void;
  /** Waits until `count` requests satisfy `predicate` (polled; a fake records each request as it ends). */
  waitFor(count: number, predicate: (request: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Splits "header.claims.signature" and checks the signature with `key` (`ieee-p1363` for ES256). */
function verifiedJwt(jwt: string, key: KeyObject, dsaEncoding?: "ieee-p1363"): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const parts = jwt.split(".");
  if (parts.length !== 3) return undefined;
  const ok = verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), dsaEncoding ? { key, dsaEncoding } : key, Buffer.from(parts[2], "base64url"));
  if (!ok) return undefined;
  const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  return { header: decode(parts[0]), claims: decode(parts[1]) };
}

function json(response: Http2ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers });
  response.end(JSON.stringify(body));
}

function startServer(pki: PushPki, allowHTTP1: boolean, handle: (response: Http2ServerResponse, request: ReceivedRequest) => void): Promise<Http2SecureServer> {
  const server = createSecureServer({ key: pki.keyPem, cert: pki.caPem, allowHTTP1 });
  // The compatibility API: one handler for HTTP/2 streams and (allowHTTP1) HTTP/1.1 requests.
  server.on("request", (incoming, response) => {
    let raw = "";
    incoming.setEncoding("utf8");
    incoming.on("data", (chunk: string) => (raw += chunk));
    incoming.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = raw.startsWith("{") ? (JSON.parse(raw) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        body = { unparsable: raw };
      }
      handle(response, {
        receivedAt: Date.now(),
        // Host names as a client writes them, with or without the default port.
        authority: String(incoming.headers[":authority"] ?? incoming.headers.host ?? "").replace(/:443$/, ""),
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
        body,
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

function fake(server: Http2SecureServer, received: ReceivedRequest[], fates: Map<string, TokenFate>): FakeServer {
  const sockets = new Set<Socket>();
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    port: (server.address() as AddressInfo).port,
    received,
    setFate: (token, fate) => fates.set(token, fate),
    async waitFor(count, predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(predicate);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} requests (have ${matching.length})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Clients keep their connections open between pushes, as they should; end them.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * The Google side: the OAuth token endpoint and FCM HTTP v1 on one TLS server (told apart by
 * host name), as firebase-admin reaches them with a service account.
 */
export async function startFakeGoogle(pki: PushPki): Promise<FakeServer & { issuedTokens: Set<string> }> {
  const received: ReceivedRequest[] = [];
  const fates = new Map<string, TokenFate>();
  const issuedTokens = new Set<string>();
  const server = await startServer(pki, true, (response, request) => {
    if (request.authority.startsWith(FAKE_HOSTS.oauth)) {
      const claims = request.method === "POST" && request.path === "/token" && request.body.grant_type === "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ? verifiedJwt(typeof request.body.assertion === "string" ? request.body.assertion : "", pki.serviceAccountPublicKey)?.claims
        : undefined;
      const scopes = typeof claims?.scope === "string" ? claims.scope.split(" ") : [];
      if (!claims || claims.iss !== pki.serviceAccount.client_email || claims.aud !== `https://${FAKE_HOSTS.oauth}/token` || !scopes.includes("https://www.googleapis.com/auth/firebase.messaging")) {
        json(response, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
        return;
      }
      const token = `ya29.test-${randomUUID()}`;
      issuedTokens.add(token);
      json(response, 200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
      return;
    }
    received.push(request);
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(request.path);
    if (request.method !== "POST" || !match || match[1] !== pki.serviceAccount.project_id) {
      json(response, 404, { error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" } });
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ""))?.[1];
    if (!bearer || !issuedTokens.has(bearer)) {
      json(response, 401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
      return;
    }
    const token = (request.body.message as { token?: string } | undefined)?.token ?? "";
    const fate = fates.get(token) ?? "ok";
    if (fate === "unregistered") {
      json(response, 404, {
        error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND", details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }] },
      });
    } else if (fate === "invalid") {
      json(response, 400, {
        error: {
          code: 400,
          message: "The registration token is not a valid FCM registration token",
          status: "INVALID_ARGUMENT",
          details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "INVALID_ARGUMENT" }],
        },
      });
    } else {
      json(response, 200, { name: `projects/${match[1]}/messages/${randomUUID()}` });
    }
  });
  return { ...fake(server, received, fates), issuedTokens };
}

/** APNs: HTTP/2 only, every request's provider token checked against the test key, id and team. */
export async function startFakeApns(pki: PushPki): Promise<FakeServer> {
  const received: ReceivedRequest[] = [];
  const fates = new Map<string, TokenFate>();
  const server = await startServer(pki, false, (response, request) => {
    received.push(request);
    const token = /^\/3\/device\/([0-9a-f]+)$/.exec(request.path)?.[1];
    if (request.method !== "POST" || !token) {
      json(response, 405, { reason: "MethodNotAllowed" });
      return;
    }
    const jwt = /^bearer (.+)$/.exec(String(request.headers.authorization ?? ""))?.[1];
    const verified = jwt ? verifiedJwt(jwt, pki.apnsPublicKey, "ieee-p1363") : undefined;
    const age = Date.now() / 1_000 - Number(verified?.claims.iat);
    if (!verified || verified.header.alg !== "ES256" || verified.header.kid !== TEST_APNS.keyId || verified.claims.iss !== TEST_APNS.teamId || !(age > -60 && age < 3_600)) {
      json(response, 403, { reason: "InvalidProviderToken" });
      return;
    }
    if (request.headers["apns-push-type"] !== "voip" || !String(request.headers["apns-topic"] ?? "").endsWith(".voip")) {
      json(response, 400, { reason: "InvalidPushType" });
      return;
    }
    const fate = fates.get(token) ?? "ok";
    if (fate === "unregistered") json(response, 410, { reason: "Unregistered", timestamp: Date.now() });
    else if (fate === "invalid") json(response, 400, { reason: "BadDeviceToken" });
    else {
      response.writeHead(200, { "apns-id": randomUUID().toUpperCase() });
      response.end();
    }
  });
  return fake(server, received, fates);
}
