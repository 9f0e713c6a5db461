"""The desktop OAuth flow driven end to end: a real loopback server, a real browser's requests
(httpx following the consent page's redirect) and a stand-in authorization server that checks
PKCE, the client and the redirect URI as the platforms do."""
from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from studio.engine.config import Settings
from studio.engine.publish import oauth
from studio.engine.publish.oauth import OAuthError, Tokens
from studio.engine.publish.providers import Provider, provider_for
from tests.fakes.oauth_server import FakeOAuthServer


def _provider(platform: str, server: FakeOAuthServer) -> Provider:
    settings = Settings()
    settings.set(f"publish.{platform}.auth_url", server.url)
    settings.set(f"publish.{platform}.base_url", server.url)
    return provider_for(settings, platform)


@pytest.fixture(params=["tiktok", "youtube"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer(request.param) as fake:
        yield fake


def _sign_in(server: FakeOAuthServer, **options: object) -> Tokens:
    return oauth.authorize(_provider(server.platform, server), server.client_id, server.client_secret,
                           open_browser=server.browser, timeout_s=10, **options)  # type: ignore[arg-type]


def test_sign_in_trades_the_code_with_the_pkce_verifier_the_server_checks(server: FakeOAuthServer) -> None:
    tokens = _sign_in(server)

    assert tokens.access_token in server.access and tokens.refresh_token in server.refresh_tokens
    assert tokens.expires_at is not None
    assert abs((tokens.expires_at - datetime.now(UTC)).total_seconds() - 3600) < 60
    [asked] = server.requests_to(provider_for(Settings(), server.platform).authorize_path)
    [traded] = [f for f in server.requests_to(_provider(server.platform, server).token_path)
                if f["grant_type"] == "authorization_code"]
    assert 43 <= len(traded["code_verifier"]) <= 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]+", traded["code_verifier"])
    assert traded["redirect_uri"] == asked["redirect_uri"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", asked["redirect_uri"])
    assert asked["code_challenge_method"] == "S256" and asked["state"]
    if server.platform == "tiktok":  # TikTok's desktop guide: the hex SHA-256 of the verifier
        assert re.fullmatch(r"[0-9a-f]{64}", asked["code_challenge"])
        assert asked["scope"] == "user.info.basic,video.publish,video.upload"
        assert tokens.account_id == "acct-1"
    else:  # Google: base64url without padding; offline access so a refresh token comes back
        assert re.fullmatch(r"[A-Za-z0-9\-_]{43}", asked["code_challenge"])
        assert asked["access_type"] == "offline" and asked["prompt"] == "consent"
        assert "https://www.googleapis.com/auth/youtube.upload" in asked["scope"].split(" ")


def test_a_verifier_that_does_not_match_the_challenge_is_refused(server: FakeOAuthServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = oauth.pkce_pair
    monkeypatch.setattr(oauth, "pkce_pair", lambda kind: ("x" * 50, real(kind)[1]))

    with pytest.raises(OAuthError) as caught:
        _sign_in(server)

    assert "Code verifier or code challenge is invalid" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not server.access


def test_an_answer_with_another_state_is_refused_before_any_token_request(server: FakeOAuthServer) -> None:
    server.wrong_state = True

    with pytest.raises(OAuthError, match="did not carry the state the studio sent"):
        _sign_in(server)

    assert server.requests_to(_provider(server.platform, server).token_path) == []


def test_denied_consent_is_one_plain_line(server: FakeOAuthServer) -> None:
    server.deny = True

    with pytest.raises(OAuthError) as caught:
        _sign_in(server)

    label = "TikTok" if server.platform == "tiktok" else "YouTube"
    assert str(caught.value) == f"{label} sign-in was cancelled: The user denied your request."


def test_the_page_the_browser_lands_on_says_the_tab_can_be_closed() -> None:
    pages: list[str] = []

    def browser(url: str) -> None:
        with httpx.Client(follow_redirects=True) as client:
            pages.append(client.get(url).text)

    with FakeOAuthServer("youtube") as fake:
        oauth.authorize(_provider("youtube", fake), fake.client_id, fake.client_secret,
                        open_browser=browser, timeout_s=10)

    assert "You can close this tab" in pages[0]


def test_a_browser_that_never_comes_back_times_out_plainly() -> None:
    with FakeOAuthServer("youtube") as fake, pytest.raises(OAuthError) as caught:
        oauth.authorize(_provider("youtube", fake), fake.client_id, fake.client_secret,
                        open_browser=lambda url: None, timeout_s=0.3)

    assert str(caught.value).startswith("The sign-in timed out after 0.3 s")
    assert caught.value.transient


def test_a_wrong_client_secret_is_the_token_endpoints_own_words() -> None:
    with FakeOAuthServer("tiktok") as fake, pytest.raises(OAuthError) as caught:
        oauth.authorize(_provider("tiktok", fake), fake.client_id, "not-the-secret",
                        open_browser=fake.browser, timeout_s=10)

    assert str(caught.value) == "TikTok refused the request: Client authentication failed."


def test_refresh_rotates_tiktoks_refresh_token_and_keeps_googles() -> None:
    with FakeOAuthServer("tiktok") as tiktok, FakeOAuthServer("youtube") as youtube:
        for fake in (tiktok, youtube):
            provider = _provider(fake.platform, fake)
            first = _sign_in(fake)
            fresh = oauth.refresh(provider, fake.client_id, fake.client_secret, first)

            assert fresh.access_token != first.access_token and fresh.access_token in fake.access
            if fake.platform == "tiktok":
                assert fresh.refresh_token != first.refresh_token
                assert first.refresh_token not in fake.refresh_tokens
            else:  # Google leaves refresh_token out of a refresh answer: the old one stays
                assert fresh.refresh_token == first.refresh_token
            assert fresh.account_id == first.account_id


def test_a_refresh_refused_with_invalid_grant_asks_for_a_reconnect(server: FakeOAuthServer) -> None:
    tokens = _sign_in(server)
    server.refresh_tokens.clear()  # revoked by the user on the platform's side

    with pytest.raises(OAuthError) as caught:
        oauth.refresh(_provider(server.platform, server), server.client_id, server.client_secret, tokens)

    assert caught.value.reconnect
    label = "TikTok" if server.platform == "tiktok" else "YouTube"
    assert str(caught.value) == (f"{label}: the connection expired or was revoked; reconnect {label} "
                                 "in Preferences → Automation.")


def test_revoke_withdraws_the_grant_where_the_platform_can(server: FakeOAuthServer) -> None:
    tokens = _sign_in(server)

    assert oauth.revoke(_provider(server.platform, server), server.client_id, server.client_secret, tokens)

    assert tokens.refresh_token not in server.refresh_tokens
    if server.platform == "youtube":  # Google: the token alone
        assert server.revoked == [tokens.refresh_token]
    else:  # TikTok: client_key, client_secret and the access token
        [form] = server.requests_to("/v2/oauth/revoke/")
        assert form == {"client_key": server.client_id, "client_secret": server.client_secret,
                        "token": tokens.access_token}


def test_instagram_documents_no_revoke_endpoint() -> None:
    provider = provider_for(Settings(), "instagram")

    assert oauth.revoke(provider, "id", "secret", Tokens("IGAA")) is False


def test_tokens_survive_their_json_form_and_know_when_they_expire() -> None:
    now = datetime.now(UTC)
    tokens = Tokens("a", "r", now + timedelta(minutes=4), ("x", "y"), "42", "mia")

    again = Tokens.from_json(tokens.to_json())

    assert again == tokens and "\n" not in tokens.to_json()
    assert again.expires_within(timedelta(minutes=5))
    assert not replace(again, expires_at=now + timedelta(hours=1)).expires_within(timedelta(minutes=5))
    assert not replace(again, expires_at=None).expires_within(timedelta(minutes=5))


def test_stray_requests_to_the_loopback_do_not_end_the_wait() -> None:
    strays: list[int] = []

    def browser(url: str) -> None:
        redirect = parse_qs(urlparse(url).query)["redirect_uri"][0]
        with httpx.Client() as client:
            strays.append(client.get(redirect).status_code)  # no code, no error: turned away
            strays.append(client.get(redirect.replace("/callback", "/favicon.ico")).status_code)
        fake.browser(url)

    with FakeOAuthServer("youtube") as fake:
        tokens = oauth.authorize(_provider("youtube", fake), fake.client_id, fake.client_secret,
                                 open_browser=browser, timeout_s=10)

    assert strays == [404, 404] and tokens.access_token in fake.access


def test_a_tokens_repr_never_shows_the_tokens() -> None:
    text = repr(Tokens("access-secret-1", "refresh-secret-2", account_id="42"))

    assert "access-secret-1" not in text and "refresh-secret-2" not in text and "42" in text


def test_a_fixed_port_is_the_redirect_uris_port_and_a_busy_one_is_said_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        taken.listen()
        with FakeOAuthServer("youtube") as fake, pytest.raises(OAuthError) as caught:
            oauth.authorize(_provider("youtube", fake), fake.client_id, fake.client_secret,
                            open_browser=fake.browser, timeout_s=10, port=busy)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with FakeOAuthServer("youtube") as fake:
        oauth.authorize(_provider("youtube", fake), fake.client_id, fake.client_secret,
                        open_browser=fake.browser, timeout_s=10, port=free)

    assert str(caught.value).startswith(f"The sign-in could not listen on 127.0.0.1:{busy} (")
    [asked] = fake.requests_to("/o/oauth2/v2/auth")
    assert asked["redirect_uri"] == f"http://127.0.0.1:{free}/callback"
