import { AdviserError, AdviserTokenClient, type IDirectLineToken } from './tokenClient';
import { type ITimers, RETRY_AFTER_MS, TokenKeeper } from './tokenKeeper';

/** A clock and timers that move only when told to. */
class ManualTimers implements ITimers {
  public time: number = 1000000;
  private _next: number = 1;
  private _pending: Map<number, { at: number; callback: () => void }> = new Map();

  public setTimeout(callback: () => void, milliseconds: number): number {
    const handle = this._next++;
    this._pending.set(handle, { at: this.time + milliseconds, callback });
    return handle;
  }

  public clearTimeout(handle: number): void {
    this._pending.delete(handle);
  }

  public now(): number {
    return this.time;
  }

  /** Delays of the pending timers, from now. */
  public delays(): number[] {
    const result: number[] = [];
    this._pending.forEach((timer) => result.push(timer.at - this.time));
    return result;
  }

  /** Moves the clock to the next timer and runs it. */
  public async runNext(): Promise<void> {
    let firstHandle: number | undefined;
    let firstAt: number = Infinity;
    this._pending.forEach((timer, handle) => {
      if (timer.at < firstAt) {
        firstAt = timer.at;
        firstHandle = handle;
      }
    });
    if (firstHandle === undefined) {
      throw new Error('no timer pending');
    }
    const timer = this._pending.get(firstHandle)!;
    this._pending.delete(firstHandle);
    this.time = timer.at;
    timer.callback();
    // Let the refresh's promise chain settle.
    for (let i = 0; i < 10; i++) {
      await Promise.resolve();
    }
  }
}

function token(name: string, expiresIn: number = 3600): IDirectLineToken {
  return { token: name, conversationId: 'conv-1', expiresIn, userId: 'dl_abc' };
}

/** A token client whose answers are scripted; records what was asked. */
class ScriptedClient extends AdviserTokenClient {
  public asked: string[] = [];
  public getAnswers: Array<IDirectLineToken | AdviserError> = [];
  public refreshAnswers: Array<IDirectLineToken | AdviserError> = [];

  public constructor() {
    super('https://adviser.example.org', () => Promise.resolve('aad'), () => Promise.reject(new Error('unused')));
  }

  public get(): Promise<IDirectLineToken> {
    this.asked.push('get');
    return ScriptedClient._answer(this.getAnswers.shift());
  }

  public refresh(current: string): Promise<IDirectLineToken> {
    this.asked.push(`refresh ${current}`);
    return ScriptedClient._answer(this.refreshAnswers.shift());
  }

  private static _answer(answer: IDirectLineToken | AdviserError | undefined): Promise<IDirectLineToken> {
    if (!answer) {
      return Promise.reject(new AdviserError('unavailable', 'no scripted answer'));
    }
    return answer instanceof AdviserError ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

describe('TokenKeeper', () => {
  it('refreshes at 80% of expires_in and keeps the newest token', async () => {
    const timers = new ManualTimers();
    const client = new ScriptedClient();
    client.getAnswers.push(token('t1', 3600));
    client.refreshAnswers.push(token('t2', 1000));
    const keeper = new TokenKeeper(client, timers);

    expect((await keeper.start()).token).toBe('t1');
    expect(timers.delays()).toEqual([2880 * 1000]);

    await timers.runNext();
    expect(client.asked).toEqual(['get', 'refresh t1']);
    expect(keeper.current!.token).toBe('t2');
    expect(timers.delays()).toEqual([800 * 1000]);
    keeper.dispose();
    expect(timers.delays()).toEqual([]);
  });

  it('retries a failed background refresh while the token still lives', async () => {
    const timers = new ManualTimers();
    const client = new ScriptedClient();
    client.getAnswers.push(token('t1', 3600));
    client.refreshAnswers.push(new AdviserError('unavailable', 'HTTP 503'), token('t2'));
    const keeper = new TokenKeeper(client, timers);
    await keeper.start();

    await timers.runNext();
    expect(keeper.current!.token).toBe('t1');
    expect(timers.delays()).toEqual([RETRY_AFTER_MS]);

    await timers.runNext();
    expect(keeper.current!.token).toBe('t2');
    keeper.dispose();
  });

  it('renews by refreshing, and falls back to a new conversation when that fails', async () => {
    const timers = new ManualTimers();
    const client = new ScriptedClient();
    client.getAnswers.push(token('t1'), token('t3'));
    client.refreshAnswers.push(token('t2'), new AdviserError('unavailable', 'HTTP 403'));
    const keeper = new TokenKeeper(client, timers);
    await keeper.start();

    expect((await keeper.renew()).token).toBe('t2');
    expect((await keeper.renew()).token).toBe('t3');
    expect(client.asked).toEqual(['get', 'refresh t1', 'refresh t2', 'get']);
    keeper.dispose();
  });

  it('does not try to refresh an expired token', async () => {
    const timers = new ManualTimers();
    const client = new ScriptedClient();
    client.getAnswers.push(token('t1', 60), token('t2'));
    const keeper = new TokenKeeper(client, timers);
    await keeper.start();
    timers.time += 2 * 3600 * 1000; // as if the laptop slept past the token's lifetime

    expect((await keeper.renew()).token).toBe('t2');
    expect(client.asked).toEqual(['get', 'get']);
    keeper.dispose();
  });

  it('passes on the error when no token can be had at all', async () => {
    const timers = new ManualTimers();
    const client = new ScriptedClient();
    client.getAnswers.push(new AdviserError('signIn', 'no consent'));
    const keeper = new TokenKeeper(client, timers);
    let kind = '';
    try {
      await keeper.start();
    } catch (error) {
      kind = (error as AdviserError).kind;
    }
    expect(kind).toBe('signIn');
    expect(timers.delays()).toEqual([]);
  });
});
