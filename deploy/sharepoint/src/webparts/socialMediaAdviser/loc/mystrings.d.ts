declare interface ISocialMediaAdviserWebPartStrings {
  DefaultTitle: string;
  Intro: string;
  ChatLabel: string;
  Connecting: string;
  NotConfigured: string;
  SignInFailed: string;
  Unavailable: string;
  TryAgain: string;
  PropertyPaneDescription: string;
  AdviserGroupName: string;
  TitleFieldLabel: string;
  BotEndpointFieldLabel: string;
  BotEndpointFieldDescription: string;
  BotEndpointInvalid: string;
  ApiResourceFieldLabel: string;
  ApiResourceFieldDescription: string;
  ApiResourceInvalid: string;
}

declare module 'SocialMediaAdviserWebPartStrings' {
  const strings: ISocialMediaAdviserWebPartStrings;
  export = strings;
}
