// A minimal APNs provider over HTTP/2 with token-based authentication (Apple's "Establishing a
// token-based connection to APNs"): one ES256 JSON Web Token, signed with the team's .p8 key,
// reused for every request until it is 40 minutes old (APNs refuses a token older than an hour
// and one replaced more often than every 20 minutes), and one HTTP/2 connection per APNs host,
// kept open between invocations of a warm instance as Apple asks providers to.
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { connect, constants, type ClientHttp2Session } from "node:http2";
import type { ApnsRequest } from "./messages";

/** How long one provider token is used, in seconds (Apple: between 20 and 60 minutes). */
export const APNS_TOKEN_LIFETIME_SECONDS = 40 * 60;
/** How long one request may take before it counts as failed, in milliseconds. */
export const APNS_REQUEST_TIMEOUT_MILLIS = 10_000;

/** The team's APNs signing key: the .p8 file's PEM text, its key id and the team id. */
export interface ApnsCredentials {
  privateKeyPem: string;
  keyId: string;
  teamId: string;
}

/** APNs' answer to one request: the HTTP status and, when it failed, the `reason` of its JSON body. */
export interface ApnsResponse {
  status: number;
  reason?: string;
}

/** The provider token (a JWT) for `credentials` at `nowSeconds`: header `{alg: ES256, kid}`, claims `{iss: team id, iat}`. */
export function apnsProviderToken(key: KeyObject, credentials: Pick<ApnsCredentials, "keyId" | "teamId">, nowSeconds: number): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signingInput = `${encode({ alg: "ES256", kid: credentials.keyId })}.${encode({ iss: credentials.teamId, iat: nowSeconds })}`;
  // JWS wants the raw r||s pair (IEEE P1363), not the DER sequence node:crypto makes by default.
  const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** Sends APNs requests with one key; `close()` ends its connections. */
export class ApnsClient {
  private readonly key: KeyObject;
  private token?: { value: string; issuedAtSeconds: number };
  private readonly sessions = new Map<string, ClientHttp2Session>();

  /** Throws (without echoing the key) when the PEM text is not a private key. */
  constructor(
    private readonly credentials: ApnsCredentials,
    private readonly clock: () => number = Date.now,
  ) {
    try {
      this.key = createPrivateKey(credentials.privateKeyPem);
    } catch {
      throw new Error("APNS_AUTH_KEY is not a PEM private key (paste the whole .p8 file, BEGIN and END lines included)");
    }
    if (this.key.asymmetricKeyType !== "ec") throw new Error("APNS_AUTH_KEY is not an EC (P-256) key: use the .p8 file APNs gave you");
  }

  /** Sends one request; a broken or refused connection is an answer with status 0 and its error code as reason. */
  async send(request: ApnsRequest): Promise<ApnsResponse> {
    try {
      return await this.post(request);
    } catch (error) {
      return { status: 0, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).name };
    }
  }

  /** Closes every connection (an instance that is shutting down, or a test). */
  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  private post(request: ApnsRequest): Promise<ApnsResponse> {
    const session = this.session(request.origin);
    return new Promise((resolve, reject) => {
      const stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: request.path,
        authorization: `bearer ${this.providerToken()}`,
        ...request.headers,
      });
      stream.setTimeout(APNS_REQUEST_TIMEOUT_MILLIS, () => stream.close(constants.NGHTTP2_CANCEL));
      let status = 0;
      let body = "";
      stream.setEncoding("utf8");
      stream.on("response", (headers) => {
        status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      });
      stream.on("data", (chunk: string) => {
        body += chunk;
      });
      stream.on("error", reject);
      stream.on("close", () => {
        if (status === 0) {
          reject(Object.assign(new Error("the APNs stream closed without an answer"), { code: "ERR_HTTP2_STREAM_CANCEL" }));
          return;
        }
        resolve({ status, reason: status === 200 ? undefined : reasonOf(body) });
      });
      stream.end(request.body);
    });
  }

  private session(origin: string): ClientHttp2Session {
    const open = this.sessions.get(origin);
    if (open && !open.closed && !open.destroyed) return open;
    const session = connect(origin);
    // A connection APNs closes (GOAWAY, idle) is replaced on the next request.
    const forget = () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    session.on("error", forget);
    session.on("goaway", forget);
    session.on("close", forget);
    // An idle connection must not keep a test or a local run alive.
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }

  private providerToken(): string {
    const nowSeconds = Math.floor(this.clock() / 1_000);
    if (!this.token || nowSeconds - this.token.issuedAtSeconds >= APNS_TOKEN_LIFETIME_SECONDS) {
      this.token = { value: apnsProviderToken(this.key, this.credentials, nowSeconds), issuedAtSeconds: nowSeconds };
    }
    return this.token.value;
  }
}

function reasonOf(body: string): string | undefined {
  try {
    const reason = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof reason === "string" ? reason : undefined;
  } catch {
    return undefined;
  }
}
