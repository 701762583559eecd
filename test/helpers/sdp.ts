// Realistic signaling payloads (shaped like Chrome's), for the unit and Firestore tiers.
// Addresses come from the documentation ranges (RFC 5737); nothing is ever sent to them.
import type { CandidateEntry, Role } from "@webrtc-lite/contract";

/** A Chrome-like audio+video session description of the given type (CRLF line ends). */
export function sampleSdp(type: "offer" | "answer"): string {
  const ufrag = type === "offer" ? "Gq2b" : "kT9x";
  const setup = type === "offer" ? "actpass" : "active";
  const media = (kind: "audio" | "video", mid: number, payloads: string, rtpmap: string) => [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${payloads}`,
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    `a=ice-ufrag:${ufrag}`,
    "a=ice-pwd:eGGuT0v2k0bnzZtW2cGSq5sh",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
    `a=setup:${setup}`,
    `a=mid:${mid}`,
    "a=sendrecv",
    "a=rtcp-mux",
    rtpmap,
  ];
  return [
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS",
    ...media("audio", 0, "111 63 9 0 8", "a=rtpmap:111 opus/48000/2"),
    ...media("video", 1, "96 97", "a=rtpmap:96 VP8/90000"),
  ]
    .join("\r\n")
    .concat("\r\n");
}

/** Five candidates (host mDNS, host TCP, srflx, relay UDP, relay TCP) and the end-of-candidates marker. */
export function sampleCandidates(role: Role): CandidateEntry[] {
  const ufrag = role === "caller" ? "Gq2b" : "kT9x";
  const port = role === "caller" ? 54400 : 61200;
  const lines = [
    `candidate:842163049 1 udp 2122260223 8c1f4d3e-4a3b-4f6b-9a5e-1c2d3e4f5a6b.local ${port} typ host generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:1467250027 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:3495393165 1 udp 1686052607 203.0.113.7 ${port} typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:2157334355 1 udp 41885439 198.51.100.20 ${port + 1} typ relay raddr 203.0.113.7 rport ${port} generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:2157334356 1 tcp 25108223 198.51.100.20 ${port + 2} typ relay raddr 203.0.113.7 rport ${port} generation 0 ufrag ${ufrag} network-id 1`,
  ];
  return [...lines.map((candidate) => ({ candidate, sdpMid: "0", sdpMLineIndex: 0 })), { candidate: "", sdpMid: "0", sdpMLineIndex: 0 }];
}
