import type { SelectedPair } from "./diagnosis";

/** The candidate pair ICE selected on `peer`, by candidate type, or `undefined` before one is selected. */
export async function selectedCandidatePair(peer: RTCPeerConnection): Promise<SelectedPair | undefined> {
  const stats = await peer.getStats();
  let pairId: string | undefined;
  stats.forEach((report: { type: string; selectedCandidatePairId?: string }) => {
    if (report.type === "transport" && report.selectedCandidatePairId) pairId = report.selectedCandidatePairId;
  });
  const pair = pairId ? (stats.get(pairId) as RTCIceCandidatePairStats | undefined) : undefined;
  if (!pair) return undefined;
  const local = stats.get(pair.localCandidateId) as StatsCandidate | undefined;
  const remote = stats.get(pair.remoteCandidateId) as StatsCandidate | undefined;
  if (!local || !remote) return undefined;
  return {
    localType: local.candidateType,
    remoteType: remote.candidateType,
    protocol: local.relayProtocol ?? local.protocol,
    localAddress: `${local.address}:${local.port}`,
  };
}

/** The fields of an `RTCIceCandidateStats` report this page reads. */
interface StatsCandidate {
  candidateType: string;
  protocol: string;
  relayProtocol?: string;
  address: string;
  port: number;
}
