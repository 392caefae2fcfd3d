"""Web chat (SharePoint web part, intranet): Direct Line tokens for signed-in staff."""
