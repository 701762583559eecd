/** The fields of an ICE candidate the protocol sends (`RTCIceCandidate` has them). */
export interface IceCandidateFields {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
  usernameFragment?: string | null;
}

/** The part of `RTCPeerConnection` a call uses; pass the app's own, with its tracks added. */
export interface PeerConnection {
  readonly connectionState: RTCPeerConnectionState;
  readonly iceConnectionState: RTCIceConnectionState;
  createOffer(options?: RTCOfferOptions): Promise<RTCSessionDescriptionInit>;
  createAnswer(): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(description: RTCSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate: RTCIceCandidateInit): Promise<void>;
  getConfiguration(): RTCConfiguration;
  setConfiguration(configuration: RTCConfiguration): void;
  close(): void;
  addEventListener(type: "icecandidate", listener: (event: { candidate: IceCandidateFields | null }) => void): void;
  addEventListener(type: "connectionstatechange" | "iceconnectionstatechange", listener: () => void): void;
}

/** The `a=ice-ufrag:` of a session description: which ICE generation its candidates belong to. */
export function iceUfragOf(sdp: string | undefined): string | undefined {
  return /(?:^|\n)a=ice-ufrag:([^\r\n]+)/.exec(sdp ?? "")?.[1];
}

/** Hands every `icecandidate` of a peer connection, including those fired before it was called, to one sink. */
export type GatheredCandidates = (sink: (candidate: IceCandidateFields | null) => void) => void;

/**
 * Starts listening for gathered candidates now and keeps those that arrive before a sink is
 * given: a browser gathers from `setLocalDescription` on, before the call object exists.
 */
export function collectGatheredCandidates(pc: PeerConnection): GatheredCandidates {
  const early: Array<IceCandidateFields | null> = [];
  let sink: ((candidate: IceCandidateFields | null) => void) | undefined;
  pc.addEventListener("icecandidate", (event) => (sink ? sink(event.candidate) : early.push(event.candidate)));
  return (deliver) => {
    sink = deliver;
    early.splice(0).forEach(deliver);
  };
}
