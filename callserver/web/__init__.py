"""The agent and supervisor web front: static UI, REST API and the live websocket on one aiohttp port."""

from callserver.web.app import WebDeps, build_web_app, start_web, stop_web
from callserver.web.auth import Role, WebUser, hash_password

__all__ = ["Role", "WebDeps", "WebUser", "build_web_app", "hash_password", "start_web", "stop_web"]
