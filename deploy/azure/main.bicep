// The social media policy adviser on Azure: one resource group, deployed with
//   az deployment group what-if --resource-group <rg> --template-file main.bicep --parameters main.parameters.json
//   az deployment group create  --resource-group <rg> --template-file main.bicep --parameters main.parameters.json
// See deploy/README.md for the whole runbook; every parameter is explained there.
//
// The bot signs in as a user-assigned managed identity (no client secret to store or
// rotate): the Azure Bot trusts that identity, and the Container App runs as it.

targetScope = 'resourceGroup'

@description('Azure region for everything except the Azure Bot (which is always global).')
param location string = resourceGroup().location

@description('Prefix for resource names: lower-case letters, digits and hyphens.')
@minLength(3)
@maxLength(20)
param namePrefix string = 'policy-adviser'

@description('Container image to run, e.g. myregistry.azurecr.io/policy-adviser:1.0.0.')
param image string

@description('Name of an Azure Container Registry in this resource group holding the image; the identity is given AcrPull on it. Empty for a public image.')
param registryName string = ''

@description('Name shown for the bot in the Azure portal.')
param botDisplayName string = 'Social media policy adviser'

@description('Azure Bot pricing tier. Teams is a standard channel: free on F0 and S1.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Bot SDK behind /api/messages (BOT_SDK): the Bot Framework SDK, or its successor the Microsoft 365 Agents SDK.')
@allowed([
  'botframework'
  'agents'
])
param botSdk string = 'botframework'

@description('Days before stored question text and closed tickets are deleted (BOT_RETENTION_DAYS).')
@minValue(1)
param retentionDays int = 30

@description('Days Log Analytics keeps the bot\'s logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Size of the Azure Files share holding the SQLite file, in GiB.')
@minValue(1)
param dataShareQuotaGiB int = 5

@description('SMB mount options for /data. nobrl keeps SQLite\'s locks local to the one replica (SMB byte-range locks make SQLite report "database is locked"); uid/gid 10001 is the image\'s user.')
param dataMountOptions string = 'dir_mode=0770,file_mode=0660,uid=10001,gid=10001,mfsymlinks,nobrl'

@description('Secret (32+ characters) that signs escalation card buttons (CARD_SIGNING_KEY). Kept as a Container App secret.')
@secure()
@minLength(32)
param cardSigningKey string

@description('DCCT team id, 19:...@thread.tacv2: its members may answer DCCT requests (DCCT_TEAM_ID). Empty: mailbox only.')
param dcctTeamId string = ''

@description('DCCT channel id where requests are posted (DCCT_CHANNEL_ID); set with dcctTeamId.')
param dcctChannelId string = ''

@description('DCCT mailbox, the last-resort route (DCCT_MAILBOX).')
param dcctMailbox string = ''

@description('Mailbox the fallback e-mail is sent from (ESCALATION_SENDER_MAILBOX); required with dcctMailbox.')
param senderMailbox string = ''

@description('The app id in the org catalogue, to install it for managers (TEAMS_APP_CATALOG_ID). Empty until the app is uploaded.')
param teamsAppCatalogId string = ''

@description('Direct Line channel secret, for the SharePoint web part (DIRECTLINE_SECRET). Empty: no web part token endpoint. Pass on the command line.')
@secure()
param directLineSecret string = ''

@description('Audiences accepted on the web part\'s tokens (WEBCHAT_API_AUDIENCE): the client id of the "Social media policy adviser API" app registration.')
param webchatApiAudience string = ''

@description('Issuers accepted on those tokens (WEBCHAT_TOKEN_ISSUER). The default fits v2 tokens of this tenant.')
param webchatTokenIssuer string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

@description('Origins allowed to call the token endpoint from a browser (WEBCHAT_ALLOWED_ORIGINS), e.g. https://parliament.sharepoint.com.')
param webchatAllowedOrigins string = ''

@description('Tags applied to every resource.')
param tags object = {
  service: 'social-media-policy-adviser'
}

var suffix = uniqueString(resourceGroup().id)
var storageAccountName = take(toLower('${replace(namePrefix, '-', '')}${suffix}'), 24)
var port = 3978
// Pull from the registry as the managed identity: no registry password to keep.
var registries = empty(registryName) ? [] : [
  {
    server: toLower('${registryName}.azurecr.io')
    identity: identity.id
  }
]
// The web part's settings only when a Direct Line secret is given (a secret can't be empty).
var webchatSecrets = empty(directLineSecret) ? [] : [
  {
    name: 'directline-secret'
    value: directLineSecret
  }
]
var webchatEnv = empty(directLineSecret) ? [] : [
  {
    name: 'DIRECTLINE_SECRET'
    secretRef: 'directline-secret'
  }
  {
    name: 'WEBCHAT_API_AUDIENCE'
    value: webchatApiAudience
  }
  {
    name: 'WEBCHAT_TOKEN_ISSUER'
    value: webchatTokenIssuer
  }
  {
    name: 'WEBCHAT_ALLOWED_ORIGINS'
    value: webchatAllowedOrigins
  }
]
var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d' // built-in role AcrPull

// --- identity ------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-id'
  location: location
  tags: tags
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(registryName)) {
  name: registryName
}

// Granted before the Container App exists, so its first pull already works.
resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(registryName)) {
  name: guid(resourceGroup().id, registryName, identity.id, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// --- logs ----------------------------------------------------------------------------

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
  }
}

// --- storage for the SQLite file ----------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Container Apps mounts Azure Files with the account key.
    allowSharedKeyAccess: true
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    shareDeleteRetentionPolicy: {
      enabled: true
      days: 14
    }
  }
}

resource share 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'adviser-data'
  properties: {
    shareQuota: dataShareQuotaGiB
    accessTier: 'TransactionOptimized'
  }
}

// --- Container Apps -----------------------------------------------------------------

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
  }
}

resource environmentStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'adviserdata'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: share.name
      accessMode: 'ReadWrite'
    }
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-app'
  location: location
  tags: tags
  dependsOn: [
    acrPull
  ]
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'auto'
        allowInsecure: false
      }
      registries: registries
      secrets: concat([
        {
          name: 'card-signing-key'
          value: cardSigningKey
        }
      ], webchatSecrets)
    }
    template: {
      containers: [
        {
          name: 'adviser'
          image: image
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: concat([
            {
              name: 'MicrosoftAppId'
              value: identity.properties.clientId
            }
            {
              name: 'MicrosoftAppType'
              value: 'UserAssignedMSI'
            }
            {
              name: 'MicrosoftAppTenantId'
              value: identity.properties.tenantId
            }
            {
              name: 'BOT_HOST'
              value: '0.0.0.0'
            }
            {
              name: 'PORT'
              value: string(port)
            }
            {
              name: 'BOT_DATABASE_PATH'
              value: '/data/adviser.sqlite3'
            }
            {
              name: 'BOT_LOG_FORMAT'
              value: 'json'
            }
            {
              name: 'BOT_RETENTION_DAYS'
              value: string(retentionDays)
            }
            {
              name: 'BOT_SDK'
              value: botSdk
            }
            {
              name: 'CARD_SIGNING_KEY'
              secretRef: 'card-signing-key'
            }
            {
              name: 'DCCT_TEAM_ID'
              value: dcctTeamId
            }
            {
              name: 'DCCT_CHANNEL_ID'
              value: dcctChannelId
            }
            {
              name: 'DCCT_MAILBOX'
              value: dcctMailbox
            }
            {
              name: 'ESCALATION_SENDER_MAILBOX'
              value: senderMailbox
            }
            {
              name: 'TEAMS_APP_CATALOG_ID'
              value: teamsAppCatalogId
            }
          ], webchatEnv)
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              initialDelaySeconds: 10
              periodSeconds: 30
              timeoutSeconds: 5
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              initialDelaySeconds: 3
              periodSeconds: 10
              timeoutSeconds: 5
              failureThreshold: 3
            }
          ]
          volumeMounts: [
            {
              volumeName: 'data'
              mountPath: '/data'
            }
          ]
        }
      ]
      // Exactly one replica, never more and never scaled to zero: SQLite allows one
      // writer, and the tickets, feedback and outbox live in one file on the share.
      // More replicas would corrupt it; zero would drop Teams messages while waking.
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
      volumes: [
        {
          name: 'data'
          storageType: 'AzureFile'
          storageName: environmentStorage.name
          mountOptions: dataMountOptions
        }
      ]
    }
  }
}

// --- Azure Bot -----------------------------------------------------------------------

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-${suffix}'
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${app.properties.configuration.ingress.fqdn}/api/messages'
    msaAppType: 'UserAssignedMSI'
    msaAppId: identity.properties.clientId
    msaAppMSIResourceId: identity.id
    msaAppTenantId: identity.properties.tenantId
    developerAppInsightKey: appInsights.properties.InstrumentationKey
    developerAppInsightsApplicationId: appInsights.properties.AppId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

// Direct Line: for a web chat on the intranet and for smoke tests outside Teams.
resource directLineChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'DirectLineChannel'
  location: 'global'
  properties: {
    channelName: 'DirectLineChannel'
    properties: {
      sites: [
        {
          siteName: 'Default Site'
          isEnabled: true
          isV1Enabled: false
          isV3Enabled: true
        }
      ]
    }
  }
}

// --- outputs: what the runbook's next steps need ---------------------------------------

@description('Host name of the bot: give it to `python -m bot package --host`.')
output appHost string = app.properties.configuration.ingress.fqdn

@description('The bot\'s app id (the identity\'s client id): `python -m bot package --app-id`.')
output microsoftAppId string = identity.properties.clientId

@description('Tenant of the identity.')
output tenantId string = identity.properties.tenantId

@description('Principal (object) id of the identity, for Graph app role assignments.')
output identityPrincipalId string = identity.properties.principalId

@description('Messaging endpoint registered on the Azure Bot.')
output messagingEndpoint string = bot.properties.endpoint

@description('Name of the Azure Bot resource.')
output botName string = bot.name

@description('Name of the Container App (for az containerapp logs / exec / update).')
output containerAppName string = app.name

@description('Storage account and share holding adviser.sqlite3.')
output dataShare string = '${storage.name}/${share.name}'

@description('Log Analytics workspace (customer) id for log queries.')
output logAnalyticsWorkspaceId string = workspace.properties.customerId
