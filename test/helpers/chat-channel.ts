// The texts one side of a test call sends and receives over its data channel: plumbing for the
// libwebrtc test clients, which show a call works by talking over it.
import { Signal } from "./snapshots";

/** One side's data channel, once the call has one: send a text, wait for one. */
export class ChatChannel {
  /** Resolves once the data channel is open. */
  readonly open = new Signal("the data channel to open");
  private channel: RTCDataChannel | undefined;
  private readonly texts: string[] = [];
  private readonly arrivals = new Set<() => void>();

  /** `side` names this side in failures ("the caller"). */
  constructor(private readonly side: string) {}

  /** Wires a data channel (created by the caller, announced to the callee). */
  attach(channel: RTCDataChannel): void {
    this.channel = channel;
    channel.onopen = () => this.open.resolve();
    channel.onmessage = (event: MessageEvent) => {
      this.texts.push(String(event.data));
      this.arrivals.forEach((check) => check());
    };
    if (channel.readyState === "open") this.open.resolve();
  }

  /** Sends a text over the data channel. */
  send(text: string): void {
    if (this.channel?.readyState !== "open") throw new Error(`${this.side}'s data channel is ${this.channel?.readyState ?? "missing"}`);
    this.channel.send(text);
  }

  /** Resolves when `text` has arrived over the data channel. */
  waitFor(text: string, timeoutMs = 20_000): Promise<void> {
    const signal = new Signal(`"${text}" to reach ${this.side}`);
    const check = () => (this.texts.includes(text) ? signal.resolve() : undefined);
    this.arrivals.add(check);
    check();
    return signal.wait(timeoutMs).finally(() => this.arrivals.delete(check));
  }
}
