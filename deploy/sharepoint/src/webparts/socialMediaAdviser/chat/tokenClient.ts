/**
 * Direct Line tokens from the adviser's backend.
 *
 * The web part never sees a Direct Line secret. It signs the user in to the bot's API with
 * Entra ID (SharePoint's token provider, see the web part) and POSTs, with that access token:
 *
 *   POST {botEndpoint}/api/directline/token          body {}
 *   POST {botEndpoint}/api/directline/token/refresh  body {"token": "<current Direct Line token>"}
 *
 * Both answer {"token", "conversationId", "expires_in" (seconds), "userId" ("dl_<aadObjectId>")}.
 * The user id is bound into the token by the backend, so Web Chat takes it from the token.
 *
 * No SharePoint or Web Chat imports here, so the Jest tests can run this as it is.
 */

/** A Direct Line token as the backend hands it out. */
export interface IDirectLineToken {
  token: string;
  conversationId: string;
  /** Lifetime in seconds, as sent (expires_in). */
  expiresIn: number;
  userId: string;
}

/**
 * What went wrong, in the two kinds the user is told about:
 * - signIn: no access token for the bot's API, or the API refused it (401/403);
 * - unavailable: the backend could not be reached, failed, or answered nonsense.
 */
export type AdviserErrorKind = 'signIn' | 'unavailable';

export class AdviserError extends Error {
  public readonly kind: AdviserErrorKind;
  /** For the browser console only; never shown to the user. */
  public readonly detail: string;

  public constructor(kind: AdviserErrorKind, detail: string) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
    this.detail = detail;
    // ES5 target: keep instanceof working for a subclass of Error.
    Object.setPrototypeOf(this, AdviserError.prototype);
  }
}

/** Gets an Entra ID access token for the bot's API (rejects when the user cannot be signed in). */
export type AccessTokenGetter = () => Promise<string>;

/** The part of window.fetch used here (so tests can pass their own). */
export interface IFetchResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}
export type FetchLike = (
  url: string,
  init: { method: string; headers: { [name: string]: string }; body: string; credentials: 'omit' }
) => Promise<IFetchResponse>;

export const TOKEN_PATH: string = '/api/directline/token';
export const REFRESH_PATH: string = '/api/directline/token/refresh';

/**
 * The bot's base address without trailing slashes, or '' when it is not an https URL
 * (plain http is accepted only for localhost, for a developer's own backend).
 */
export function normaliseBotEndpoint(value: string | undefined): string {
  const trimmed = (value || '').trim().replace(/\/+$/, '');
  if (/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(trimmed)) {
    return trimmed;
  }
  if (/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/[^\s?#]*)?$/i.test(trimmed)) {
    return trimmed;
  }
  return '';
}

function parseToken(body: unknown): IDirectLineToken | undefined {
  if (!body || typeof body !== 'object') {
    return undefined;
  }
  const record = body as { [key: string]: unknown };
  const token = record.token;
  const conversationId = record.conversationId;
  const expiresIn = record.expires_in;
  const userId = record.userId;
  if (typeof token !== 'string' || !token) {
    return undefined;
  }
  if (typeof conversationId !== 'string' || typeof userId !== 'string') {
    return undefined;
  }
  if (typeof expiresIn !== 'number' || !(expiresIn > 0)) {
    return undefined;
  }
  return { token, conversationId, expiresIn, userId };
}

export class AdviserTokenClient {
  private readonly _endpoint: string;
  private readonly _getAccessToken: AccessTokenGetter;
  private readonly _fetch: FetchLike;

  /** botEndpoint must already be normalised (see normaliseBotEndpoint). */
  public constructor(botEndpoint: string, getAccessToken: AccessTokenGetter, fetchFn: FetchLike) {
    this._endpoint = botEndpoint;
    this._getAccessToken = getAccessToken;
    this._fetch = fetchFn;
  }

  /** A new token and conversation. */
  public get(): Promise<IDirectLineToken> {
    return this._post(TOKEN_PATH, {});
  }

  /** A fresh token for the same conversation, in exchange for a still valid one. */
  public refresh(current: string): Promise<IDirectLineToken> {
    return this._post(REFRESH_PATH, { token: current });
  }

  private async _post(path: string, body: object): Promise<IDirectLineToken> {
    let accessToken: string;
    try {
      accessToken = await this._getAccessToken();
    } catch (error) {
      throw new AdviserError('signIn', `no access token for the bot's API: ${String(error)}`);
    }
    if (!accessToken) {
      throw new AdviserError('signIn', "empty access token for the bot's API");
    }

    let response: IFetchResponse;
    try {
      response = await this._fetch(this._endpoint + path, {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${accessToken}`,
          'Content-Type': 'application/json'
        },
        body: JSON.stringify(body),
        credentials: 'omit'
      });
    } catch (error) {
      throw new AdviserError('unavailable', `POST ${path} failed: ${String(error)}`);
    }

    if (response.status === 401 || response.status === 403) {
      throw new AdviserError('signIn', `POST ${path}: HTTP ${response.status}`);
    }
    if (!response.ok) {
      throw new AdviserError('unavailable', `POST ${path}: HTTP ${response.status}`);
    }

    let parsed: IDirectLineToken | undefined;
    try {
      parsed = parseToken(await response.json());
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      throw new AdviserError('unavailable', `POST ${path}: not a Direct Line token response`);
    }
    return parsed;
  }
}
