import {
  AdviserError,
  AdviserTokenClient,
  type FetchLike,
  type IFetchResponse,
  normaliseBotEndpoint
} from './tokenClient';

interface ICall {
  url: string;
  method: string;
  headers: { [name: string]: string };
  body: unknown;
}

function respond(status: number, body: unknown): IFetchResponse {
  return { ok: status >= 200 && status < 300, status, json: () => Promise.resolve(body) };
}

function fakeFetch(responses: Array<IFetchResponse | Error>, calls: ICall[]): FetchLike {
  return (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: JSON.parse(init.body) });
    const next = responses.shift();
    if (!next) {
      return Promise.reject(new Error('no more responses'));
    }
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
}

const GOOD = { token: 'dl-token', conversationId: 'conv-1', expires_in: 3600, userId: 'dl_abc' };

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof AdviserError ? error.kind : `other: ${String(error)}`;
  }
  return 'resolved';
}

describe('normaliseBotEndpoint', () => {
  it('keeps https addresses and drops trailing slashes', () => {
    expect(normaliseBotEndpoint(' https://adviser.example.org/ ')).toBe('https://adviser.example.org');
    expect(normaliseBotEndpoint('https://host.example.org/bot//')).toBe('https://host.example.org/bot');
  });

  it('allows plain http only for localhost', () => {
    expect(normaliseBotEndpoint('http://localhost:3978')).toBe('http://localhost:3978');
    expect(normaliseBotEndpoint('http://adviser.example.org')).toBe('');
  });

  it('rejects empty and malformed values', () => {
    expect(normaliseBotEndpoint(undefined)).toBe('');
    expect(normaliseBotEndpoint('')).toBe('');
    expect(normaliseBotEndpoint('adviser.example.org')).toBe('');
    expect(normaliseBotEndpoint('https://adviser.example.org/?x=1')).toBe('');
  });
});

describe('AdviserTokenClient', () => {
  it('POSTs an empty JSON body with the access token and parses the answer', async () => {
    const calls: ICall[] = [];
    const client = new AdviserTokenClient(
      'https://adviser.example.org',
      () => Promise.resolve('aad-access-token'),
      fakeFetch([respond(200, GOOD)], calls)
    );
    const token = await client.get();
    expect(token).toEqual({ token: 'dl-token', conversationId: 'conv-1', expiresIn: 3600, userId: 'dl_abc' });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('https://adviser.example.org/api/directline/token');
    expect(calls[0].method).toBe('POST');
    expect(calls[0].headers.Authorization).toBe('Bearer aad-access-token');
    expect(calls[0].headers['Content-Type']).toBe('application/json');
    expect(calls[0].body).toEqual({});
  });

  it('refreshes by sending the current token to the refresh endpoint', async () => {
    const calls: ICall[] = [];
    const client = new AdviserTokenClient(
      'https://adviser.example.org',
      () => Promise.resolve('aad'),
      fakeFetch([respond(200, { ...GOOD, token: 'dl-token-2' })], calls)
    );
    const token = await client.refresh('dl-token');
    expect(token.token).toBe('dl-token-2');
    expect(calls[0].url).toBe('https://adviser.example.org/api/directline/token/refresh');
    expect(calls[0].body).toEqual({ token: 'dl-token' });
  });

  it('reports a failed sign-in when no access token can be had', async () => {
    const calls: ICall[] = [];
    const client = new AdviserTokenClient(
      'https://adviser.example.org',
      () => Promise.reject(new Error('AADSTS65001: consent required')),
      fakeFetch([respond(200, GOOD)], calls)
    );
    expect(await kindOf(client.get())).toBe('signIn');
    expect(calls).toHaveLength(0);
  });

  it('reports a failed sign-in when the API refuses the access token', async () => {
    for (const status of [401, 403]) {
      const client = new AdviserTokenClient(
        'https://adviser.example.org',
        () => Promise.resolve('aad'),
        fakeFetch([respond(status, { error: 'unauthorized' })], [])
      );
      expect(await kindOf(client.get())).toBe('signIn');
    }
  });

  it('reports the bot unavailable on network errors, server errors and bad answers', async () => {
    const answers: Array<IFetchResponse | Error> = [
      new TypeError('Failed to fetch'),
      respond(500, {}),
      respond(503, {}),
      respond(200, { token: '' }),
      respond(200, { ...GOOD, expires_in: 0 }),
      respond(200, 'not json object'),
      { ok: true, status: 200, json: () => Promise.reject(new SyntaxError('bad json')) }
    ];
    for (const answer of answers) {
      const client = new AdviserTokenClient(
        'https://adviser.example.org',
        () => Promise.resolve('aad'),
        fakeFetch([answer], [])
      );
      expect(await kindOf(client.get())).toBe('unavailable');
    }
  });
});
