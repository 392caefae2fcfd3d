import { Version } from '@microsoft/sp-core-library';
import { type IPropertyPaneConfiguration, PropertyPaneTextField } from '@microsoft/sp-property-pane';
import { BaseClientSideWebPart } from '@microsoft/sp-webpart-base';
import type { IReadonlyTheme } from '@microsoft/sp-component-base';
// Web Chat is bundled into this web part (npm botframework-webchat); nothing is loaded from a CDN.
import { createDirectLine, createStore, renderWebChat } from 'botframework-webchat';
import { unmountComponentAtNode } from 'react-dom';

import styles from './SocialMediaAdviserWebPart.module.scss';
import * as strings from 'SocialMediaAdviserWebPartStrings';
import {
  AdviserError,
  AdviserTokenClient,
  type IDirectLineToken,
  normaliseBotEndpoint
} from './chat/tokenClient';
import { adviserMiddleware } from './chat/cardUpdates';
import { TokenKeeper } from './chat/tokenKeeper';
import { createParliamentStyleSet, webChatStyleOptions } from './chat/webChatStyle';

export interface ISocialMediaAdviserWebPartProps {
  /** The heading above the chat. */
  title: string;
  /** The bot backend's base address, e.g. https://adviser.example.org */
  botEndpoint: string;
  /** The Entra ID application ID URI of the bot's API, e.g. api://adviser.example.org/<appId> */
  apiResource: string;
}

// DirectLineJS's ConnectionStatus values (botframework-directlinejs, not imported directly).
const ONLINE: number = 2;
const EXPIRED_TOKEN: number = 3;
const FAILED_TO_CONNECT: number = 4;
/** Reconnect attempts in a row, without getting back online, before telling the user. */
const MAX_RECONNECTS: number = 3;
const RECONNECT_DELAY_MS: number = 2000;

/** What the web part uses of DirectLineJS's DirectLine. */
interface IDirectLineLike {
  connectionStatus$: {
    subscribe(observer: { next: (status: number) => void }): { unsubscribe(): void };
  };
  end(): void;
}

export default class SocialMediaAdviserWebPart extends BaseClientSideWebPart<ISocialMediaAdviserWebPartProps> {
  private _titleElement: HTMLElement | undefined;
  private _messageElement: HTMLElement | undefined;
  private _chatElement: HTMLElement | undefined;

  /** The endpoint and resource the running chat was started for. */
  private _startedFor: string | undefined;
  /** Bumped on every (re)start and on dispose: late answers for an older chat are dropped. */
  private _generation: number = 0;
  private _keeper: TokenKeeper | undefined;
  private _directLine: IDirectLineLike | undefined;
  private _statusSubscription: { unsubscribe(): void } | undefined;
  private _webChatMounted: boolean = false;
  private _reconnects: number = 0;
  /** A reconnect is scheduled: further bad news from the old connection changes nothing. */
  private _reconnecting: boolean = false;

  public render(): void {
    if (!this._chatElement) {
      this._buildSkeleton();
    }
    this._titleElement!.textContent = (this.properties.title || '').trim() || strings.DefaultTitle;

    const wanted = `${this.properties.botEndpoint || ''}\n${this.properties.apiResource || ''}`;
    if (wanted !== this._startedFor) {
      this._startedFor = wanted;
      this._startChat();
    }
  }

  protected onDispose(): void {
    this._generation++;
    this._stopChat();
    super.onDispose();
  }

  /** Settings are applied with the property pane's Apply button, not on every keystroke. */
  protected get disableReactivePropertyChanges(): boolean {
    return true;
  }

  protected onThemeChanged(currentTheme: IReadonlyTheme | undefined): void {
    if (!currentTheme || !currentTheme.semanticColors) {
      return;
    }
    const { semanticColors } = currentTheme;
    this.domElement.style.setProperty('--bodyText', semanticColors.bodyText || null);
    this.domElement.style.setProperty('--bodySubtext', semanticColors.bodySubtext || null);
  }

  protected get dataVersion(): Version {
    return Version.parse('1.0');
  }

  protected getPropertyPaneConfiguration(): IPropertyPaneConfiguration {
    return {
      pages: [
        {
          header: { description: strings.PropertyPaneDescription },
          groups: [
            {
              groupName: strings.AdviserGroupName,
              groupFields: [
                PropertyPaneTextField('title', {
                  label: strings.TitleFieldLabel
                }),
                PropertyPaneTextField('botEndpoint', {
                  label: strings.BotEndpointFieldLabel,
                  description: strings.BotEndpointFieldDescription,
                  placeholder: 'https://adviser.example.org',
                  onGetErrorMessage: (value: string) =>
                    value && !normaliseBotEndpoint(value) ? strings.BotEndpointInvalid : '',
                  deferredValidationTime: 500
                }),
                PropertyPaneTextField('apiResource', {
                  label: strings.ApiResourceFieldLabel,
                  description: strings.ApiResourceFieldDescription,
                  placeholder: 'api://adviser.example.org/00000000-0000-0000-0000-000000000000',
                  onGetErrorMessage: (value: string) =>
                    value && !/^(api:\/\/|https:\/\/)\S+$/i.test(value.trim())
                      ? strings.ApiResourceInvalid
                      : '',
                  deferredValidationTime: 500
                })
              ]
            }
          ]
        }
      ]
    };
  }

  private _buildSkeleton(): void {
    const doc = this.domElement.ownerDocument || document;
    const section = doc.createElement('section');
    section.className = styles.socialMediaAdviser;

    const title = doc.createElement('h2');
    title.className = styles.title;
    const intro = doc.createElement('p');
    intro.className = styles.intro;
    intro.textContent = strings.Intro;

    const message = doc.createElement('div');
    message.className = styles.message;
    message.hidden = true;

    const chat = doc.createElement('div');
    chat.className = styles.chat;
    chat.setAttribute('aria-label', strings.ChatLabel);

    section.appendChild(title);
    section.appendChild(intro);
    section.appendChild(message);
    section.appendChild(chat);
    this.domElement.innerHTML = '';
    this.domElement.appendChild(section);

    this._titleElement = title;
    this._messageElement = message;
    this._chatElement = chat;
  }

  private _startChat(): void {
    this._generation++;
    const generation = this._generation;
    this._stopChat();

    const endpoint = normaliseBotEndpoint(this.properties.botEndpoint);
    const resource = (this.properties.apiResource || '').trim();
    if (!endpoint || !resource) {
      this._showMessage(strings.NotConfigured, 'info', false);
      return;
    }

    this._showMessage(strings.Connecting, 'info', false);
    const client = new AdviserTokenClient(
      endpoint,
      () => this._getAccessToken(resource),
      (url, init) => window.fetch(url, init)
    );
    const keeper = new TokenKeeper(client);
    this._keeper = keeper;
    this._reconnects = 0;
    this._reconnecting = false;
    keeper
      .start()
      .then((token) => this._connect(token, generation))
      .catch((error) => this._fail(error, generation));
  }

  /** An Entra ID access token for the bot's API, through SharePoint's own sign-in. */
  private async _getAccessToken(resource: string): Promise<string> {
    const provider = await this.context.aadTokenProviderFactory.getTokenProvider();
    return provider.getToken(resource);
  }

  private _connect(token: IDirectLineToken, generation: number): void {
    if (generation !== this._generation || !this._chatElement) {
      return;
    }
    this._closeDirectLine();
    this._reconnecting = false;
    // The token is bound to its conversation and user by the backend, so Web Chat takes both
    // from it (no userID prop: a "dl_" user id must come from the token).
    const directLine = createDirectLine({ token: token.token }) as unknown as IDirectLineLike;
    this._directLine = directLine;
    this._statusSubscription = directLine.connectionStatus$.subscribe({
      next: (status: number) => this._onConnectionStatus(status, generation)
    });

    this._hideMessage();
    this._chatElement.hidden = false;
    renderWebChat(
      {
        directLine,
        // Says webchat/join (the bot's welcome) and shows a replacing card in the old one's place.
        store: createStore({}, adviserMiddleware),
        styleOptions: webChatStyleOptions,
        styleSet: createParliamentStyleSet(),
        locale: 'en-GB',
        username: this.context.pageContext.user.displayName
      },
      this._chatElement
    );
    this._webChatMounted = true;
  }

  private _onConnectionStatus(status: number, generation: number): void {
    if (generation !== this._generation) {
      return;
    }
    if (status === ONLINE) {
      this._reconnects = 0;
      return;
    }
    if ((status !== EXPIRED_TOKEN && status !== FAILED_TO_CONNECT) || this._reconnecting) {
      return;
    }
    const keeper = this._keeper;
    if (!keeper || this._reconnects >= MAX_RECONNECTS) {
      this._fail(new AdviserError('unavailable', `Direct Line connection status ${status}`), generation);
      return;
    }
    this._reconnects++;
    this._reconnecting = true;
    // A little later each time (2 s, 4 s, 6 s): a restarting backend gets a moment.
    window.setTimeout(() => {
      if (generation !== this._generation) {
        return;
      }
      keeper
        .renew()
        .then((token) => this._connect(token, generation))
        .catch((error) => this._fail(error, generation));
    }, RECONNECT_DELAY_MS * this._reconnects);
  }

  /** Tells the user, in plain words, and offers to try again. Details go to the console only. */
  private _fail(error: unknown, generation: number): void {
    if (generation !== this._generation) {
      return;
    }
    const kind = error instanceof AdviserError ? error.kind : 'unavailable';
    const detail = error instanceof AdviserError ? error.detail : String(error);
    console.warn(`Social media policy adviser: ${detail}`);
    this._stopChat();
    this._showMessage(kind === 'signIn' ? strings.SignInFailed : strings.Unavailable, 'error', true);
  }

  private _closeDirectLine(): void {
    if (this._statusSubscription) {
      this._statusSubscription.unsubscribe();
      this._statusSubscription = undefined;
    }
    if (this._directLine) {
      try {
        this._directLine.end();
      } catch {
        // Already closed.
      }
      this._directLine = undefined;
    }
  }

  private _stopChat(): void {
    this._closeDirectLine();
    if (this._keeper) {
      this._keeper.dispose();
      this._keeper = undefined;
    }
    if (this._chatElement) {
      if (this._webChatMounted) {
        // renderWebChat() did the ReactDOM.render() that this undoes.
        // eslint-disable-next-line @rushstack/pair-react-dom-render-unmount
        unmountComponentAtNode(this._chatElement);
        this._webChatMounted = false;
      }
      this._chatElement.hidden = true;
    }
  }

  private _showMessage(text: string, kind: 'info' | 'error', offerRetry: boolean): void {
    const element = this._messageElement;
    if (!element) {
      return;
    }
    const doc = element.ownerDocument || document;
    element.innerHTML = '';
    element.className = `${styles.message} ${kind === 'error' ? styles.error : ''}`;
    element.setAttribute('role', kind === 'error' ? 'alert' : 'status');

    const paragraph = doc.createElement('p');
    paragraph.textContent = text;
    element.appendChild(paragraph);

    if (offerRetry) {
      const retry = doc.createElement('button');
      retry.type = 'button';
      retry.className = styles.retry;
      retry.textContent = strings.TryAgain;
      retry.addEventListener('click', () => this._startChat());
      element.appendChild(retry);
    }
    element.hidden = false;
  }

  private _hideMessage(): void {
    if (this._messageElement) {
      this._messageElement.hidden = true;
      this._messageElement.innerHTML = '';
    }
  }
}
