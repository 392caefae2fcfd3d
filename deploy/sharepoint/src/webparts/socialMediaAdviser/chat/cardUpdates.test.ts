import { ACTIVITY_KEY, adviserMiddleware, fromBot, type IAction, type IActivity, JOIN_EVENT } from './cardUpdates';

const CARD: string = 'application/vnd.microsoft.card.adaptive';

function card(id: string, extra: { [key: string]: unknown } = {}): IActivity {
  return {
    id,
    type: 'message',
    from: { id: 'bot', role: 'bot' },
    attachments: [
      {
        contentType: CARD,
        content: {
          type: 'AdaptiveCard',
          body: [{ type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'Ask', data: { action: 'ask' } }] }],
          actions: [{ type: 'Action.ShowCard', card: { actions: [{ type: 'Action.Submit', data: { n: 1 } }] } }]
        }
      }
    ],
    ...extra
  };
}

function submits(activity: IActivity): Array<{ [key: string]: unknown }> {
  const found: Array<{ [key: string]: unknown }> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node && typeof node === 'object') {
      const record: { [key: string]: unknown } = node as { [key: string]: unknown };
      if (record.type === 'Action.Submit') {
        found.push(record.data as { [key: string]: unknown });
      }
      Object.keys(record).forEach((key: string) => walk(record[key]));
    }
  };
  walk(activity.attachments);
  return found;
}

describe('cardUpdates', () => {
  it('stamps every button of a card with its activity id, nested cards too', () => {
    const shown: IActivity = fromBot(card('dl|1'), []);
    expect(submits(shown).map((data) => data[ACTIVITY_KEY])).toEqual(['dl|1', 'dl|1']);
    expect(submits(shown)[0].action).toBe('ask');
  });

  it('puts a replacing card in the old one\'s place', () => {
    const old: IActivity = { ...card('dl|1'), channelData: { 'webchat:sequence-id': 7 } };
    const replacing: IActivity = card('dl|5', { channelData: { replacesActivity: 'dl|1' } });
    const shown: IActivity = fromBot(replacing, [old]);
    expect(shown.id).toBe('dl|1');
    expect(shown.channelData!['webchat:sequence-id']).toBe(7);
    expect(submits(shown)[0][ACTIVITY_KEY]).toBe('dl|1');
  });

  it('leaves a card that replaces nothing it knows, and plain text, as they are', () => {
    const replacing: IActivity = card('dl|5', { channelData: { replacesActivity: 'gone' } });
    expect(fromBot(replacing, []).id).toBe('dl|5');
    const text: IActivity = { id: 'dl|6', type: 'message', text: 'hi' };
    expect(fromBot(text, [])).toBe(text);
  });

  it('says webchat/join once connected, and rewrites incoming bot cards', () => {
    const dispatched: IAction[] = [];
    const passed: IAction[] = [];
    const handle: (action: IAction) => unknown = adviserMiddleware({
      dispatch: (action: IAction) => dispatched.push(action),
      getState: () => ({ activities: [] })
    })((action: IAction) => passed.push(action));
    handle({ type: 'DIRECT_LINE/CONNECT_FULFILLED' });
    expect(dispatched).toEqual([
      { type: 'WEB_CHAT/SEND_EVENT', payload: { name: JOIN_EVENT, value: { locale: 'en-GB' } } }
    ]);
    handle({ type: 'DIRECT_LINE/INCOMING_ACTIVITY', payload: { activity: card('dl|2') } });
    expect(submits(passed[1].payload!.activity!)[0][ACTIVITY_KEY]).toBe('dl|2');
  });
});
