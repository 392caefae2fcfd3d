/**
 * Web Chat's look: Scottish Parliament purple as the accent, Segoe UI, and bubble colours that
 * keep text at WCAG AA contrast or better (ratios against the bubble noted beside each).
 */
import { createStyleSet, type StyleOptions } from 'botframework-webchat';

export const PARLIAMENT_PURPLE: string = '#5C2D91';
const PURPLE_DARK: string = '#3F1F64';
const TEXT: string = '#201F1E';
const TEXT_SECONDARY: string = '#605E5C';
const NEUTRAL_BACKGROUND: string = '#F3F2F1';
const NEUTRAL_BORDER: string = '#C8C6C4';
const WHITE: string = '#FFFFFF';

export const FONT_FAMILY: string =
  "'Segoe UI', 'Segoe UI Web (West European)', -apple-system, BlinkMacSystemFont, Roboto, 'Helvetica Neue', sans-serif";

export const webChatStyleOptions: StyleOptions = {
  accent: PARLIAMENT_PURPLE,
  backgroundColor: WHITE,
  primaryFont: FONT_FAMILY,
  subtle: TEXT_SECONDARY, // 6.0:1 on white
  timestampColor: TEXT_SECONDARY,
  rootHeight: '100%',
  rootWidth: '100%',

  // The adviser's answers: dark text on light grey, 14.8:1.
  bubbleBackground: NEUTRAL_BACKGROUND,
  bubbleTextColor: TEXT,
  bubbleBorderColor: NEUTRAL_BORDER,
  bubbleBorderWidth: 1,
  bubbleBorderStyle: 'solid',
  bubbleBorderRadius: 4,
  bubbleMaxWidth: 600,

  // What the user wrote: white on Parliament purple, 9.4:1.
  bubbleFromUserBackground: PARLIAMENT_PURPLE,
  bubbleFromUserTextColor: WHITE,
  bubbleFromUserBorderColor: PARLIAMENT_PURPLE,
  bubbleFromUserBorderWidth: 1,
  bubbleFromUserBorderStyle: 'solid',
  bubbleFromUserBorderRadius: 4,

  // "Did you mean", "Ask my line manager", …: purple outline buttons, 9.4:1.
  suggestedActionBackgroundColor: WHITE,
  suggestedActionBorderColor: PARLIAMENT_PURPLE,
  suggestedActionTextColor: PARLIAMENT_PURPLE,
  suggestedActionBorderRadius: 4,
  suggestedActionBackgroundColorOnHover: NEUTRAL_BACKGROUND,
  suggestedActionTextColorOnHover: PURPLE_DARK,

  // Adaptive Cards (the answers are cards): purple buttons, white text.
  cardEmphasisBackgroundColor: NEUTRAL_BACKGROUND,
  cardPushButtonBackgroundColor: PARLIAMENT_PURPLE,
  cardPushButtonTextColor: WHITE,
  richCardWrapTitle: true,

  // The send box: no attachments (the adviser reads text only).
  hideUploadButton: true,
  sendBoxBackground: WHITE,
  sendBoxTextColor: TEXT,
  sendBoxPlaceholderColor: TEXT_SECONDARY,
  sendBoxBorderTop: `solid 1px ${NEUTRAL_BORDER}`,
  sendBoxButtonColor: PARLIAMENT_PURPLE,
  sendBoxButtonColorOnHover: PURPLE_DARK,
  sendBoxButtonColorOnFocus: PURPLE_DARK
};

/**
 * Web Chat's style set for these options, with one change: Web Chat draws Adaptive Card
 * buttons of style "positive" (e.g. "Ask my line manager") in a fixed blue; here they are
 * Parliament purple like every other button.
 */
export function createParliamentStyleSet(): ReturnType<typeof createStyleSet> {
  const styleSet = createStyleSet(webChatStyleOptions);
  const renderer: { [selector: string]: { [rule: string]: unknown } } = styleSet.adaptiveCardRenderer || {};
  const scope = '&.webchat__adaptive-card-renderer';
  styleSet.adaptiveCardRenderer = {
    ...renderer,
    [scope]: {
      ...(renderer[scope] || {}),
      '& .ac-pushButton.style-positive': {
        backgroundColor: PARLIAMENT_PURPLE,
        borderColor: PARLIAMENT_PURPLE,
        color: WHITE
      },
      '& .ac-pushButton.style-positive:hover, & .ac-pushButton.style-positive:active': {
        backgroundColor: PURPLE_DARK,
        borderColor: PURPLE_DARK
      }
    }
  };
  return styleSet;
}
