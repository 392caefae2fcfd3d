define([], function() {
  return {
    "DefaultTitle": "Is this OK to post?",
    "Intro": "Ask about your personal social media use under the SPCB Social Media policy. It is not HR or legal advice. Official Parliament accounts: the DCCT.",
    "ChatLabel": "Chat with the social media policy adviser",
    "Connecting": "Connecting to the adviser…",
    "NotConfigured": "The adviser is not set up on this page yet. A page editor needs to enter the adviser's address and API in this web part's settings.",
    "SignInFailed": "We could not sign you in to the adviser. Reload the page and try again. If it keeps happening, contact the IT service desk.",
    "Unavailable": "The adviser is not available at the moment. Please try again later.",
    "TryAgain": "Try again",
    "PropertyPaneDescription": "Connect this web part to the social media policy adviser's bot.",
    "AdviserGroupName": "Adviser",
    "TitleFieldLabel": "Heading",
    "BotEndpointFieldLabel": "Bot address (botEndpoint)",
    "BotEndpointFieldDescription": "The https address of the adviser's bot backend, for example https://adviser.example.org",
    "BotEndpointInvalid": "Enter an https address, for example https://adviser.example.org",
    "ApiResourceFieldLabel": "Bot API (apiResource)",
    "ApiResourceFieldDescription": "The Application ID URI of the bot's API in Entra ID, for example api://adviser.example.org/<app id>",
    "ApiResourceInvalid": "Enter the API's Application ID URI, starting with api:// or https://"
  }
});
