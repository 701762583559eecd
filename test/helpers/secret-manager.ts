import type { SecretManagerPort, SecretVersionRecord } from "@webrtc-lite/turn/secrets";

/** A fake of the two SecretManagerServiceClient calls the kit makes; records every request. */
export class FakeSecretManager implements SecretManagerPort {
  readonly requests: Array<{ call: string; request: unknown }> = [];
  constructor(
    private readonly versions: Array<SecretVersionRecord & { data: string }>,
    private readonly failure?: Error,
  ) {}
  async listSecretVersions(request: { parent: string; filter: string }): Promise<[SecretVersionRecord[]]> {
    this.requests.push({ call: "list", request });
    if (this.failure) throw this.failure;
    return [this.versions.map(({ name, createTime }) => ({ name, createTime }))];
  }
  async accessSecretVersion(request: { name: string }): Promise<[{ payload: { data: Uint8Array } }]> {
    this.requests.push({ call: "access", request });
    const version = this.versions.find((candidate) => candidate.name === request.name);
    return [{ payload: { data: new TextEncoder().encode(version?.data ?? "") } }];
  }
}
