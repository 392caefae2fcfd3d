/**
 * What the page adds to Web Chat, as the bot's local /chat page does (bot/webchat/static/chat.js):
 * - on connecting, the `webchat/join` event, so the bot welcomes the person (once per conversation);
 * - every button of a bot card carries its card's activity id (`webchat:activityId`), because
 *   Direct Line has no replyToId for a card action;
 * - a bot card naming another in `channelData.replacesActivity` takes that card's id and place
 *   in the transcript, so an answered or used card's buttons are gone (Direct Line cannot
 *   update a sent activity).
 * Keys shared with the bot: bot/channels/activity_protocol/outbound.py and turns.py
 * (tests/deploy/test_sharepoint.py checks they agree).
 */

export const JOIN_EVENT: string = 'webchat/join';
export const ACTIVITY_KEY: string = 'webchat:activityId';
export const REPLACES: string = 'replacesActivity';
const SEQUENCE: string = 'webchat:sequence-id';
const CARD: string = 'application/vnd.microsoft.card.adaptive';

/** The parts of a Bot Framework activity this module reads. */
export interface IActivity {
  id?: string;
  type?: string;
  from?: { id?: string; role?: string };
  channelData?: { [key: string]: unknown };
  attachments?: Array<{ contentType?: string; content?: unknown }>;
  [key: string]: unknown;
}

export interface IAction {
  type: string;
  payload?: { activity?: IActivity; [key: string]: unknown };
  [key: string]: unknown;
}

export interface IStoreApi {
  dispatch(action: IAction): unknown;
  getState(): { activities?: IActivity[] };
}

export type Middleware = (store: IStoreApi) => (next: (action: IAction) => unknown) => (action: IAction) => unknown;

/** A copy of a card in which every Action.Submit's data names the card's activity. */
export function stamp(node: unknown, activityId: string): unknown {
  if (Array.isArray(node)) {
    return node.map((item: unknown) => stamp(item, activityId));
  }
  if (!node || typeof node !== 'object') {
    return node;
  }
  const copy: { [key: string]: unknown } = {};
  Object.keys(node as object).forEach((key: string) => {
    copy[key] = stamp((node as { [key: string]: unknown })[key], activityId);
  });
  if (copy.type === 'Action.Submit' && (copy.data === undefined || typeof copy.data === 'object')) {
    copy.data = { ...((copy.data as object) || {}), [ACTIVITY_KEY]: activityId };
  }
  return copy;
}

/** The activity as shown: in a replaced card's place, with its buttons stamped. */
export function fromBot(activity: IActivity, shown: IActivity[]): IActivity {
  if (!activity.attachments || !activity.attachments.length) {
    return activity;
  }
  const target: unknown = activity.channelData && activity.channelData[REPLACES];
  const old: IActivity | undefined = target ? shown.filter((a: IActivity) => a.id === target)[0] : undefined;
  let placed: IActivity = activity;
  if (old) {
    const sequence: unknown = old.channelData && old.channelData[SEQUENCE];
    placed = { ...activity, id: old.id, channelData: { ...activity.channelData, [SEQUENCE]: sequence } };
  }
  const id: string = placed.id || '';
  return {
    ...placed,
    attachments: placed.attachments!.map((attachment) =>
      attachment.contentType === CARD ? { ...attachment, content: stamp(attachment.content, id) } : attachment
    )
  };
}

/** The Web Chat store middleware (pass to createStore). */
export const adviserMiddleware: Middleware =
  (store: IStoreApi) =>
  (next: (action: IAction) => unknown) =>
  (action: IAction): unknown => {
    if (action.type === 'DIRECT_LINE/CONNECT_FULFILLED') {
      const result: unknown = next(action);
      store.dispatch({ type: 'WEB_CHAT/SEND_EVENT', payload: { name: JOIN_EVENT, value: { locale: 'en-GB' } } });
      return result;
    }
    const activity: IActivity | undefined = action.payload && action.payload.activity;
    if (action.type === 'DIRECT_LINE/INCOMING_ACTIVITY' && activity && activity.from && activity.from.role !== 'user') {
      const shown: IActivity[] = store.getState().activities || [];
      return next({ ...action, payload: { ...action.payload, activity: fromBot(activity, shown) } });
    }
    return next(action);
  };
