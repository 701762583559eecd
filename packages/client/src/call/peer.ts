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
  createOffer(): Promise<RTCSessionDescriptionInit>;
  createAnswer(): Promise<RTCSessionDescriptionInit>;
  setLocalDescription(description: RTCSessionDescriptionInit): Promise<void>;
  setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void>;
  addIceCandidate(candidate: RTCIceCandidateInit): Promise<void>;
  close(): void;
  addEventListener(type: "icecandidate", listener: (event: { candidate: IceCandidateFields | null }) => void): void;
  addEventListener(type: "connectionstatechange", listener: () => void): void;
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
