/**
 * Keeps a usable Direct Line token at hand for the life of the web part.
 *
 * What was chosen, and why:
 * - While Web Chat is connected, DirectLineJS refreshes the token it holds by itself (every
 *   15 minutes, against the Direct Line service). Its DirectLine object has no public way to be
 *   handed a token from outside (reconnect() also wants a streamUrl, which the backend does
 *   not give), so this keeper does not try to push tokens into a live connection.
 * - Independently, this keeper refreshes its own copy through the backend
 *   (POST /api/directline/token/refresh) at 80% of expires_in, and keeps the newest one.
 * - When the connection is lost for good (DirectLine reports ExpiredToken or FailedToConnect,
 *   e.g. after a laptop slept past the token's lifetime), the web part asks renew() for a
 *   token and starts a new DirectLine with it on the same conversation id. renew() refreshes
 *   the kept token and, if that fails, gets a brand-new token (a new conversation).
 */
import { AdviserTokenClient, IDirectLineToken } from './tokenClient';

export interface ITimers {
  setTimeout(callback: () => void, milliseconds: number): number;
  clearTimeout(handle: number): void;
  /** Milliseconds since the epoch. */
  now(): number;
}

export const browserTimers: ITimers = {
  setTimeout: (callback, milliseconds) => window.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => window.clearTimeout(handle),
  now: () => Date.now()
};

/** Refresh when this share of the token's lifetime has passed. */
export const REFRESH_AT: number = 0.8;
/** After a failed background refresh, try again this much later (if the token still lives). */
export const RETRY_AFTER_MS: number = 30 * 1000;
/** Never schedule refreshes closer together than this. */
export const MIN_DELAY_MS: number = 5 * 1000;

export class TokenKeeper {
  private readonly _client: AdviserTokenClient;
  private readonly _timers: ITimers;
  private _current: IDirectLineToken | undefined;
  private _expiresAt: number = 0;
  private _timer: number | undefined;
  private _disposed: boolean = false;

  public constructor(client: AdviserTokenClient, timers: ITimers = browserTimers) {
    this._client = client;
    this._timers = timers;
  }

  /** The newest token, if any. */
  public get current(): IDirectLineToken | undefined {
    return this._current;
  }

  /** Gets a first token (new conversation) and starts the refresh schedule. */
  public async start(): Promise<IDirectLineToken> {
    return this._keep(await this._client.get());
  }

  /**
   * A token to reconnect with: the kept one refreshed, or else a brand-new one.
   * Rejects (AdviserError) only when no token can be had at all.
   */
  public async renew(): Promise<IDirectLineToken> {
    const current = this._current;
    if (current && this._timers.now() < this._expiresAt) {
      try {
        return this._keep(await this._client.refresh(current.token));
      } catch {
        // Fall through to a new conversation.
      }
    }
    return this._keep(await this._client.get());
  }

  public dispose(): void {
    this._disposed = true;
    this._cancel();
  }

  private _keep(token: IDirectLineToken): IDirectLineToken {
    if (this._disposed) {
      return token;
    }
    this._current = token;
    this._expiresAt = this._timers.now() + token.expiresIn * 1000;
    this._schedule(Math.max(MIN_DELAY_MS, token.expiresIn * 1000 * REFRESH_AT));
    return token;
  }

  private _schedule(delay: number): void {
    this._cancel();
    this._timer = this._timers.setTimeout(() => {
      this._timer = undefined;
      this._refreshQuietly().catch(() => undefined);
    }, delay);
  }

  private _cancel(): void {
    if (this._timer !== undefined) {
      this._timers.clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  /** The background refresh: failures are not the user's concern until a reconnect needs a token. */
  private async _refreshQuietly(): Promise<void> {
    const current = this._current;
    if (this._disposed || !current) {
      return;
    }
    try {
      this._keep(await this._client.refresh(current.token));
    } catch {
      const left = this._expiresAt - this._timers.now();
      if (!this._disposed && left > RETRY_AFTER_MS) {
        this._schedule(RETRY_AFTER_MS);
      }
    }
  }
}
