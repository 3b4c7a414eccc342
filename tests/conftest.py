"""Shared test set-up: each test run gets its own data folder; tests pick their database by folder.

The environment is set before any Afterglow module is imported, because Piccolo binds tables to the engine
named in piccolo_conf at import time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_RUN_DIR = Path(tempfile.mkdtemp(prefix="afterglow-tests-"))
os.environ.setdefault("AFTERGLOW_DATA_DIR", str(_RUN_DIR))
os.environ.setdefault("AFTERGLOW_API_KEY", "test-api-key")
os.environ.setdefault("AFTERGLOW_SECRET_KEY", "test-secret")
os.environ.setdefault("AFTERGLOW_SHOPIFY_SECRET", "shopify-test-secret")
os.environ.setdefault("AFTERGLOW_WOOCOMMERCE_SECRET", "woo-test-secret")
os.environ.setdefault("AFTERGLOW_SHOP_TIMEZONE", "Europe/Berlin")
os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
# Webhook tests deliver to receivers on this machine, which production refuses unless allow-listed.
os.environ.setdefault("AFTERGLOW_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")

ARTIFACTS = Path(os.environ.get("AFTERGLOW_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))
