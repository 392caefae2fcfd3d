// The social media policy adviser on Azure: one resource group, deployed with
//   az deployment group what-if --resource-group <rg> --template-file main.bicep --parameters main.parameters.json
//   az deployment group create  --resource-group <rg> --template-file main.bicep --parameters main.parameters.json
// See deploy/README.md for the whole runbook; every parameter is explained there.
//
// The bot signs in as a user-assigned managed identity (no client secret to store or
// rotate): the Azure Bot trusts that identity, the Container App runs as it, and it is
// the Entra ID user of the PostgreSQL database (its token is the password).

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

@description('Fewest replicas of the bot: two, so a node restart or an update never leaves Teams without one.')
@minValue(2)
param minReplicas int = 2

@description('Most replicas the HTTP scale rule may start.')
@minValue(2)
@maxValue(30)
param maxReplicas int = 4

@description('Concurrent HTTP requests per replica above which another replica is started.')
@minValue(1)
param httpConcurrentRequests int = 30

@description('PostgreSQL Flexible Server compute (Burstable B1ms is plenty for the bot).')
param postgresSku string = 'Standard_B1ms'

@description('Tier of that compute: Burstable, GeneralPurpose or MemoryOptimized.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresTier string = 'Burstable'

@description('PostgreSQL storage in GiB (it grows by itself when full).')
@minValue(32)
param postgresStorageGiB int = 32

@description('Days of PostgreSQL backups kept for point-in-time restore (7-35).')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

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
param webchatTokenIssuer string = '${az.environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

@description('Origins allowed to call the token endpoint from a browser (WEBCHAT_ALLOWED_ORIGINS), e.g. https://parliament.sharepoint.com.')
param webchatAllowedOrigins string = ''

@description('Tags applied to every resource.')
param tags object = {
  service: 'social-media-policy-adviser'
}

var suffix = uniqueString(resourceGroup().id)
var port = 3978
var postgresServerName = take(toLower('${namePrefix}-db-${suffix}'), 63)
var databaseName = 'adviser'
// The identity signs in as itself (BOT_DATABASE_AUTH=entra); TLS is required and the
// server's certificate checked against the image's CA bundle.
var databaseUrl = 'postgresql://${identity.name}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt'
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
// The intranet page(s) Direct Line trusts to host the web chat (enhanced authentication).
var webchatTrustedOrigins = empty(webchatAllowedOrigins) ? [] : split(replace(webchatAllowedOrigins, ' ', ''), ',')
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

// --- the database: PostgreSQL Flexible Server, Entra ID sign-in only ----------------

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: postgresServerName
  location: location
  tags: tags
  sku: {
    name: postgresSku
    tier: postgresTier
  }
  properties: {
    version: '16'
    storage: {
      storageSizeGB: postgresStorageGiB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: postgresBackupRetentionDays
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    // No passwords at all: only Entra ID tokens are accepted.
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// The server accepts nothing but TLS 1.2 or later (set explicitly, so it stays so).
resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
}

resource tlsVersion 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'ssl_min_protocol_version'
  properties: {
    value: 'TLSv1.2'
    source: 'user-override'
  }
  dependsOn: [
    requireTls // the server takes one change at a time
  ]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    tlsVersion
  ]
}

// Connections from Azure (the Container Apps environment has no fixed address); each
// must still present a valid Entra ID token for a database user.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: postgres
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    database
  ]
}

// The app's managed identity is the database user: the server's Entra administrator,
// so it can create its tables (the bot migrates its schema at start).
resource databaseUser 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: postgres
  name: identity.properties.principalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: identity.name
    tenantId: identity.properties.tenantId
  }
  dependsOn: [
    allowAzure
  ]
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

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-app'
  location: location
  tags: tags
  dependsOn: [
    acrPull
    databaseUser // it signs in as that user from its first start
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
              name: 'BOT_DATABASE_URL'
              value: databaseUrl
            }
            {
              name: 'BOT_DATABASE_AUTH'
              value: 'entra'
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
        }
      ]
      // At least two replicas, never zero: one can restart (or be replaced by an
      // update) while the other answers Teams. Every replica runs the outbox worker;
      // the tickets, feedback and outbox are in PostgreSQL, where rows are leased so
      // two replicas never send the same one.
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-requests'
            http: {
              metadata: {
                concurrentRequests: string(httpConcurrentRequests)
              }
            }
          }
        ]
      }
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
          // Enhanced authentication: Direct Line takes the user id from the token the bot
          // issued (dl_…), overwriting any from.id a client sends, and only the trusted origins
          // (the SharePoint site) may use the tokens. The bot checks that id's signature too.
          isSecureSiteEnabled: true
          trustedOrigins: webchatTrustedOrigins
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

@description('Host name of the PostgreSQL server (for backups, restores and `store migrate`).')
output databaseHost string = postgres.properties.fullyQualifiedDomainName

@description('The database, and the user the bot signs in as (the identity\'s name).')
output databaseUser string = '${identity.name}@${databaseName}'

@description('Log Analytics workspace (customer) id for log queries.')
output logAnalyticsWorkspaceId string = workspace.properties.customerId
