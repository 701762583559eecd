import { LIMITS, readReceivedEntry, type CandidateEntry, type EntrySkipReason } from "@webrtc-lite/contract";

/**
 * Collects this side's ICE candidates into batches for its candidates document. The contract
 * caps a side at `LIMITS.maxCandidatesPerSide` entries and one write at
 * `LIMITS.maxCandidatesPerWrite`; past the side's cap, further candidates are dropped (the
 * first ones gathered are the best) while one slot stays free for the end-of-candidates
 * marker, so the other side always learns that gathering is over. A candidate reported after
 * the marker still goes out, behind it: libwebrtc on a busy event loop reports the end of
 * gathering before its last candidates (end, four relay candidates, end again), and dropping
 * them left a relay-only call with nothing to connect to.
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

  /** Queues one gathered candidate, after the end marker if that came first; returns false when the cap dropped it. */
  add(entry: CandidateEntry): boolean {
    // Before the marker is queued, its slot stays free.
    const reserved = this.ended ? 0 : 1;
    if (this.sent + this.pending.length >= this.cap - reserved) {
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

/** An entry of the other side's candidates array, with its position there (the name it is reported under). */
export interface ReceivedEntry {
  index: number;
  entry: CandidateEntry;
}

/** An entry of the other side's candidates array that is not handed to `addIceCandidate`: its reason code, and why in a sentence. */
export interface SkippedEntry {
  index: number;
  reason: EntrySkipReason;
  problem: string;
}

/**
 * Tracks which entries of the other side's candidates document were already handled. The sender
 * only appends (`arrayUnion`), and every snapshot holds the whole array again, so new entries
 * are the tail; each is checked on its own, so one bad entry costs ICE one candidate, not the
 * call, and is skipped exactly once.
 */
export class CandidateInbox {
  private seen = 0;

  /** The entries not seen before, from the document's full `candidates` array: those to add, and those skipped. */
  fresh(all: readonly unknown[]): { usable: ReceivedEntry[]; skipped: SkippedEntry[] } {
    const usable: ReceivedEntry[] = [];
    const skipped: SkippedEntry[] = [];
    for (let index = this.seen; index < all.length; index += 1) {
      // The contract's check, so that the reason codes are those every port reports.
      const { entry, problem } = readReceivedEntry(all[index]);
      if (problem) skipped.push({ index, reason: problem.reason, problem: problem.sentence });
      else usable.push({ index, entry });
    }
    this.seen = Math.max(this.seen, all.length);
    return { usable, skipped };
  }
}
