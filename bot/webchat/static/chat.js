// The local /chat page: a Direct Line token from this server (local mode only), then
// the real Web Chat client, polling the local Direct Line stand-in on the same origin.
(function () {
  "use strict";

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

  function problem(message) {
    var box = document.getElementById("problem");
    box.textContent = message;
    box.hidden = false;
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
