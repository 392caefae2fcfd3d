// The local /chat page: a Direct Line token from this server (local mode only), then
// the real Web Chat client, polling the local Direct Line stand-in on the same origin.
// The SharePoint web part does the same two things in chat/cardUpdates.ts: say
// `webchat/join` when connected (the bot welcomes once per conversation), and show a
// card that replaces another in the old one's place.
(function () {
  "use strict";

  // Keys shared with the bot (bot/channels/botframework/outbound.py).
  var ACTIVITY_KEY = "webchat:activityId";
  var REPLACES = "replacesActivity";
  var SEQUENCE = "webchat:sequence-id";
  var CARD = "application/vnd.microsoft.card.adaptive";

  var styleOptions = {
    accent: "#5c2d91",
    primaryFont: "'Segoe UI', system-ui, sans-serif",
    bubbleBackground: "#f4f0f8",
    bubbleTextColor: "#1f1f1f",
    bubbleFromUserBackground: "#5c2d91",
    bubbleFromUserTextColor: "#ffffff",
    bubbleBorderRadius: 6,
    bubbleFromUserBorderRadius: 6,
    sendBoxTextColor: "#1f1f1f",
    suggestedActionBorderColor: "#5c2d91",
    suggestedActionTextColor: "#5c2d91",
    hideUploadButton: true,
    botAvatarInitials: "SP",
    userAvatarInitials: "You",
  };
  if (window.matchMedia("(max-width: 600px)").matches) {
    // A phone: no avatars, so a card gets the whole width.
    styleOptions.botAvatarInitials = undefined;
    styleOptions.userAvatarInitials = undefined;
    styleOptions.bubbleMinWidth = 0;
    styleOptions.bubbleMaxWidth = 2000;
  }

  function problem(message) {
    var box = document.getElementById("problem");
    box.textContent = message;
    box.hidden = false;
  }

  // Every button of a card carries the id of the card's activity: Direct Line has no
  // replyToId for a card action, and the bot needs to say which card a reply replaces.
  function stamp(node, activityId) {
    if (Array.isArray(node)) {
      return node.map(function (item) { return stamp(item, activityId); });
    }
    if (!node || typeof node !== "object") {
      return node;
    }
    var copy = {};
    Object.keys(node).forEach(function (key) { copy[key] = stamp(node[key], activityId); });
    if (copy.type === "Action.Submit" && (copy.data === undefined || typeof copy.data === "object")) {
      copy.data = Object.assign({}, copy.data || {});
      copy.data[ACTIVITY_KEY] = activityId;
    }
    return copy;
  }

  // A bot card that replaces an earlier one takes its id and its place in the transcript,
  // so the old card, and its buttons, are gone.
  function inPlace(activity, activities) {
    var target = activity.channelData && activity.channelData[REPLACES];
    var old = target && activities.filter(function (a) { return a.id === target; })[0];
    if (!old) {
      return activity;
    }
    var channelData = Object.assign({}, activity.channelData);
    channelData[SEQUENCE] = old.channelData && old.channelData[SEQUENCE];
    return Object.assign({}, activity, { id: old.id, channelData: channelData });
  }

  function fromBot(activity, activities) {
    if (!activity.attachments || !activity.attachments.length) {
      return activity;
    }
    var placed = inPlace(activity, activities);
    return Object.assign({}, placed, {
      attachments: placed.attachments.map(function (attachment) {
        return attachment.contentType === CARD
          ? Object.assign({}, attachment, { content: stamp(attachment.content, placed.id) })
          : attachment;
      }),
    });
  }

  function middleware(store) {
    return function (next) {
      return function (action) {
        if (action.type === "DIRECT_LINE/CONNECT_FULFILLED") {
          var result = next(action);
          store.dispatch({
            type: "WEB_CHAT/SEND_EVENT",
            payload: { name: "webchat/join", value: { locale: "en-GB" } },
          });
          return result;
        }
        var activity = action.payload && action.payload.activity;
        if (action.type === "DIRECT_LINE/INCOMING_ACTIVITY" && activity &&
            activity.from && activity.from.role !== "user") {
          var payload = Object.assign({}, action.payload, {
            activity: fromBot(activity, store.getState().activities || []),
          });
          return next(Object.assign({}, action, { payload: payload }));
        }
        return next(action);
      };
    };
  }

  if (!window.WebChat) {
    problem("The chat client is missing. Run: bash scripts/fetch-webchat, then reload.");
    return;
  }

  fetch("/chat/token", { method: "POST" })
    .then(function (response) {
      if (!response.ok) { throw new Error("token " + response.status); }
      return response.json();
    })
    .then(function (issued) {
      var directLine = window.WebChat.createDirectLine({
        token: issued.token,
        domain: window.location.origin + "/v3/directline",
        webSocket: false,
        pollingInterval: 300,
      });
      window.WebChat.renderWebChat(
        {
          directLine: directLine,
          store: window.WebChat.createStore({}, middleware),
          userID: issued.userId,
          username: issued.name,
          locale: "en-GB",
          styleOptions: styleOptions,
        },
        document.getElementById("chat")
      );
      document.querySelector("#chat input, #chat textarea") &&
        document.querySelector("#chat input, #chat textarea").focus();
    })
    .catch(function () {
      problem("The adviser is not available at the moment. Is `python -m bot serve` running?");
    });
})();
