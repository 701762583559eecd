// "Sending candidates": this side's entries wait here until its candidates document exists (or
// its restart write committed), go into that write (up to 6), then are appended up to 6 per
// write, one write at a time, never more than 20 per generation.
import { arrayUnion, updateDoc, type DocumentReference } from "firebase/firestore";
import { MAX_ENTRIES_PER_GENERATION, MAX_ENTRIES_PER_WRITE } from "./constants";
import type { Entry } from "./entries";

/** A gathered candidate as libwebrtc's JS bindings report it. */
export interface Gathered {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** The `ufrag` of a candidate: its `usernameFragment`, else the line's `ufrag` extension. */
function ufragOf(candidate: Gathered): string | undefined {
  return candidate.usernameFragment ?? / ufrag ([^ ]+)/.exec(candidate.candidate)?.[1];
}

export class Outbox {
  private queue: Entry[] = [];
  /** Entries of the current generation written or queued. */
  private counted = 0;
  private marked = false;
  private ready = false;
  private writing = false;
  private stopped = false;
  private ufrag: string | undefined;
  private last: { sdpMid: string | null; sdpMLineIndex: number | null } = { sdpMid: "0", sdpMLineIndex: 0 };
  /** Every entry this side wrote, in order, with its generation (what the tests look at). */
  readonly written: Array<{ generation: number; entry: Entry }> = [];
  /** The generation whose entries are being collected. */
  generation = 0;

  constructor(
    private readonly own: DocumentReference,
    private readonly failed: (error: Error) => void,
  ) {}

  /** The current local description's `a=ice-ufrag`: candidates of another are an older generation's and dropped. */
  describe(ufrag: string | undefined): void {
    this.ufrag = ufrag;
  }

  /** An `icecandidate` event: a candidate, or `null`/`""` when gathering is complete (end-of-candidates, with the last mid and index). */
  gathered(candidate: Gathered | null): void {
    if (candidate === null || candidate.candidate === "") {
      if (this.marked) return;
      this.marked = true;
      return this.push({ candidate: "", ...this.last });
    }
    const ufrag = ufragOf(candidate);
    if (this.ufrag !== undefined && ufrag !== undefined && ufrag !== this.ufrag) return;
    // One place stays free for the marker until it is queued.
    if (this.counted >= MAX_ENTRIES_PER_GENERATION - (this.marked ? 0 : 1)) return;
    const entry: Entry = { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
    if (typeof candidate.usernameFragment === "string") entry.usernameFragment = candidate.usernameFragment;
    this.last = { sdpMid: entry.sdpMid, sdpMLineIndex: entry.sdpMLineIndex };
    this.push(entry);
  }

  private push(entry: Entry): void {
    this.counted += 1;
    this.queue.push(entry);
    void this.flush();
  }

  /** A new generation (an ICE restart): what is queued belongs to the old one; appends wait for the restart write. */
  restart(generation: number, ufrag: string | undefined): void {
    this.generation = generation;
    this.queue = [];
    this.counted = 0;
    this.marked = false;
    this.ready = false;
    this.ufrag = ufrag;
  }

  /** The entries for a create or restart write (up to 6); they count as written. */
  take(): Entry[] {
    const entries = this.queue.splice(0, MAX_ENTRIES_PER_WRITE);
    for (const entry of entries) this.written.push({ generation: this.generation, entry });
    return entries;
  }

  /** The create (or restart write) committed: appends may follow. */
  documentReady(): void {
    this.ready = true;
    void this.flush();
  }

  /** Nothing more is written (the document is being deleted). */
  stop(): void {
    this.stopped = true;
  }

  private async flush(): Promise<void> {
    if (!this.ready || this.writing || this.stopped || this.queue.length === 0) return;
    this.writing = true;
    const generation = this.generation;
    try {
      await updateDoc(this.own, { candidates: arrayUnion(...this.take()) });
    } catch (error) {
      if (!this.stopped && generation === this.generation) this.failed(error as Error);
    } finally {
      this.writing = false;
    }
    await this.flush();
  }
}
