import { ICE_RESTART } from "@webrtc-lite/contract";

/** When a call restarts ICE and when it gives up; every field is optional (`ICE_RESTART` has the defaults). */
export interface IceRestartOptions {
  /** How long `iceConnectionState` may stay `disconnected` before a restart (default 2 s). */
  disconnectedGraceMs?: number;
  /** How long a restart may go without connecting before the caller tries another (default 10 s). */
  attemptMs?: number;
  /** How long a broken call may take to come back before it ends with `failed` (default 30 s). */
  giveUpMs?: number;
}

/** What the recovery asks its call to do. */
export interface RecoveryActions {
  /** The path broke (or another attempt is due): the caller restarts ICE, the callee asks it to. */
  attempt(): void;
  /** The path did not come back within the window: end the call with `failed`. */
  giveUp(): void;
}

/**
 * Decides, from ICE states and network changes, when a call attempts an ICE restart and when it
 * gives up, the way serious 1:1 stacks do: at once on `failed` or a network change the platform
 * reports, after `disconnectedGraceMs` of `disconnected` (ICE often recovers on its own from a
 * brief loss), another attempt every `attemptMs`, and the end after `giveUpMs` without a path.
 */
export class IceRecovery {
  private readonly graceMs: number;
  private readonly attemptMs: number;
  private readonly giveUpMs: number;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private attemptTimer: ReturnType<typeof setTimeout> | undefined;
  private giveUpTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly actions: RecoveryActions,
    options: IceRestartOptions = {},
  ) {
    this.graceMs = options.disconnectedGraceMs ?? ICE_RESTART.disconnectedGraceMs;
    this.attemptMs = options.attemptMs ?? ICE_RESTART.attemptMs;
    this.giveUpMs = options.giveUpMs ?? ICE_RESTART.giveUpMs;
  }

  /** Whether a recovery is under way (the path broke and has not come back). */
  get recovering(): boolean {
    return this.giveUpTimer !== undefined;
  }

  /** Feeds `iceConnectionState` (or a browser's `connectionState`). */
  iceStateChanged(state: RTCIceConnectionState | RTCPeerConnectionState): void {
    if (this.stopped) return;
    if (state === "connected" || state === "completed") {
      this.recovered();
    } else if (state === "failed") {
      this.broken(false);
    } else if (state === "disconnected" && !this.recovering && this.graceTimer === undefined) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        this.broken(false);
      }, this.graceMs);
    }
  }

  /** The platform reported a network change (a new interface or address): the path is broken now. */
  networkChanged(): void {
    if (!this.stopped) this.broken(true);
  }

  /** Stops every timer; nothing happens any more. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  /** The path broke: attempt now, unless an attempt is under way and nothing new (`fresh`) happened since. */
  private broken(fresh: boolean): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (this.recovering && !fresh) return;
    if (!this.recovering) this.giveUpTimer = setTimeout(() => this.expire(), this.giveUpMs);
    this.scheduleAttempt();
    this.actions.attempt();
  }

  private scheduleAttempt(): void {
    clearTimeout(this.attemptTimer);
    this.attemptTimer = setTimeout(() => {
      if (this.stopped || !this.recovering) return;
      this.scheduleAttempt();
      this.actions.attempt();
    }, this.attemptMs);
  }

  private expire(): void {
    this.giveUpTimer = undefined;
    if (this.stopped) return;
    // The call ends it (and stops this), unless it finds the path back after all.
    this.clear();
    this.actions.giveUp();
  }

  private recovered(): void {
    this.clear();
  }

  private clear(): void {
    clearTimeout(this.graceTimer);
    clearTimeout(this.attemptTimer);
    clearTimeout(this.giveUpTimer);
    this.graceTimer = undefined;
    this.attemptTimer = undefined;
    this.giveUpTimer = undefined;
  }
}
