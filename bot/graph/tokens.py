"""App-only Graph tokens from msal, one client per process, called off the event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import msal

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class TokenError(Exception):
    """msal could not get a token; the message carries msal's error code, not secrets."""


class MsalGraphTokens:
    """Client credentials (secret or certificate) or a user-assigned managed identity.

    msal keeps its own token cache and returns cached tokens until near expiry, so one
    instance per process is enough; its calls block, hence `asyncio.to_thread`.
    """

    def __init__(
        self,
        *,
        client_id: str,
        tenant_id: str,
        authority_host: str,
        secret: str = "",
        certificate: dict[str, str] | None = None,
        managed_identity: bool = False,
        verify: str | bool = True,
        scope: str = GRAPH_SCOPE,
    ) -> None:
        self.client_id = client_id
        self.authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self.secret = secret
        self.certificate = certificate
        self.managed_identity = managed_identity
        self.verify = verify
        self.scope = scope
        self._app: Any = None
        self._lock = threading.Lock()

    def _client(self) -> Any:
        with self._lock:
            if self._app is None:
                if self.managed_identity:
                    self._app = msal.ManagedIdentityClient(
                        msal.UserAssignedManagedIdentity(client_id=self.client_id),
                        http_client=_session(self.verify),
                    )
                else:
                    self._app = msal.ConfidentialClientApplication(
                        self.client_id,
                        client_credential=self.certificate or self.secret,
                        authority=self.authority,
                        instance_discovery=False,
                        http_client=_session(self.verify),
                    )
            return self._app

    def _acquire(self) -> str:
        return self._acquire_with_lifetime()[0]

    def _acquire_with_lifetime(self) -> tuple[str, float]:
        app = self._client()
        if self.managed_identity:
            result = app.acquire_token_for_client(resource=self.scope.removesuffix("/.default"))
        else:
            result = app.acquire_token_for_client(scopes=[self.scope])
        if "access_token" not in result:
            raise TokenError(
                f"{result.get('error', 'no_token')}: "
                f"{str(result.get('error_description', ''))[:200]}"
            )
        return str(result["access_token"]), float(result.get("expires_in") or 0)

    async def token(self) -> str:
        return await asyncio.to_thread(self._acquire)

    async def token_with_lifetime(self) -> tuple[str, float]:
        """The token and the seconds it has left, for callers that cache it themselves
        (the database password, checked only when a connection opens)."""
        return await asyncio.to_thread(self._acquire_with_lifetime)


def _session(verify: str | bool) -> Any:
    """A requests session whose CA setting wins over REQUESTS_CA_BUNDLE.

    requests lets that variable override `Session.verify`, so a configured CA bundle
    (a TLS-inspecting proxy, or the local stand-in's throwaway CA) would be ignored.
    """
    import requests

    class PinnedVerifySession(requests.Session):
        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            merged = super().merge_environment_settings(*args, **kwargs)
            if self.verify is not True:
                merged["verify"] = self.verify
            return merged

    session = PinnedVerifySession()
    session.verify = verify
    return session
