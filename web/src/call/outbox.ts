import { LIMITS, type CandidateEntry } from "../../../functions/src/sessions/model";

/**
 * Collects this side's ICE candidates into batches for its candidates document. The contract
 * caps a side at `LIMITS.maxCandidatesPerSide` entries and one write at
 * `LIMITS.maxCandidatesPerWrite`; past the side's cap, further candidates are dropped (the
 * first ones gathered are the best) while one slot stays free for the end-of-candidates
 * marker, so the other side always learns that gathering is over.
 */
export class CandidateOutbox {
  private readonly pending: CandidateEntry[] = [];
  private sent = 0;
  private ended = false;
  private dropped = 0;

  constructor(
    private readonly cap: number = LIMITS.maxCandidatesPerSide,
    private readonly perWrite: number = LIMITS.maxCandidatesPerWrite,
  ) {}

  /** Queues one gathered candidate; returns false when it was dropped because of the cap. */
  add(entry: CandidateEntry): boolean {
    if (this.ended) return false;
    if (this.sent + this.pending.length >= this.cap - 1) {
      this.dropped += 1;
      return false;
    }
    this.pending.push(entry);
    return true;
  }

  /** Queues the end-of-candidates marker (the `null` candidate of `icecandidate`). */
  end(sdpMid: string | null, sdpMLineIndex: number | null): void {
    if (this.ended) return;
    this.ended = true;
    this.pending.push({ candidate: "", sdpMid, sdpMLineIndex });
  }

  /** The next entries to write (at most one write's worth), or `undefined` when there are none; they count as sent. */
  take(): CandidateEntry[] | undefined {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending.splice(0, this.perWrite);
    this.sent += batch.length;
    return batch;
  }

  /** Whether the end-of-candidates marker has been queued. */
  get complete(): boolean {
    return this.ended;
  }

  /** How many candidates the cap dropped. */
  get droppedCount(): number {
    return this.dropped;
  }
}

/**
 * Tracks how many entries of the other side's candidates document were already handed to
 * `addIceCandidate`. The sender only appends (`arrayUnion`), so new entries are the tail.
 */
export class CandidateInbox {
  private seen = 0;

  /** The entries not seen before, from the document's full `candidates` array. */
  fresh<T>(all: readonly T[]): T[] {
    const fresh = all.slice(this.seen);
    this.seen = Math.max(this.seen, all.length);
    return fresh;
  }
}
