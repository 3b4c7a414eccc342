"""The first minutes: `/` is a start page in the embedded default (a redirect in production), and the API docs
are served from local files under the app's CSP."""

from __future__ import annotations

import re
from dataclasses import replace

from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from afterglow.web import CSP
from app import create_app

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


async def test_start_page_in_the_embedded_default_links_the_first_steps(settings: Settings, tmp_path) -> None:
    dev = replace(settings, env="dev", smtp_host="", api_key="dev-key-123", data_dir=tmp_path)
    async with AsyncTestClient(app=create_app(dev)) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    for link in ('href="/login"', 'href="/dev/outbox"', 'href="/schema"', 'href="/static/css/app.css"'):
        assert link in response.text
    assert "make run" in response.text and "make test" in response.text
    assert "dev-key-123" in response.text and str(tmp_path / "dev-api-key") in response.text
    assert not INLINE.search(response.text)


async def test_start_page_reads_the_invented_key_and_leaves_out_the_outbox_with_smtp(
    settings: Settings, tmp_path
) -> None:
    (tmp_path / "dev-api-key").write_text("invented-key\n")
    dev = replace(settings, env="dev", smtp_host="smtp.example", api_key="", data_dir=tmp_path)
    async with AsyncTestClient(app=create_app(dev)) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert "invented-key" in response.text
    assert "/dev/outbox" not in response.text


async def test_start_page_in_production_redirects_and_shows_no_key(settings: Settings, tmp_path) -> None:
    production = replace(settings, env="production", api_key="prod-secret-key", secret_key="s" * 32, data_dir=tmp_path)
    async with AsyncTestClient(app=create_app(production)) as client:
        response = await client.get("/", follow_redirects=False)
        assert response.status_code in {302, 303, 307}
        assert response.headers["location"] == "/app"
        assert "prod-secret-key" not in response.text
        followed = await client.get("/")
    assert "prod-secret-key" not in followed.text
    assert followed.url.path == "/login"


async def test_api_docs_load_from_local_files_under_the_csp(client: AsyncTestClient) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP  # script-src 'self', no inline, no CDN
    assert not INLINE.search(response.text)
    assert "http" not in response.text  # nothing from another origin
    scripts = re.findall(r'<script src="([^"]+)"', response.text)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', response.text)
    assert scripts and all(src.startswith("/static/") for src in scripts + styles)
    for url in scripts + styles:
        served = await client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 100
    schema_url = re.search(r'data-schema-url="([^"]+)"', response.text)
    assert schema_url is not None
    schema = await client.get(schema_url.group(1))
    assert schema.status_code == 200 and "/api/v1/orders" in schema.json()["paths"]
