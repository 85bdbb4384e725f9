"""Dialogue scripts as public web pages: a customer runs a script with no agent, anonymous or after
identifying with an account number and a second factor, and may ask for a person at any step.

Each page is a run of its own, kept in memory behind a random token (the page's cookie) with a
second random token the page must send back on every move (CSRF). Everything a customer sends is
checked here or by the engine; every start, move and failed identification counts against limits
per client address, per account and per page. A page left alone expires and its run is recorded
as abandoned. Each page is a contact in the customer's history: its run's facts name the contact
id `web-…`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from callserver.config import SelfServiceConfig
from callserver.facts.model import Fact
from callserver.scripts import present, tracking
from callserver.scripts.adapter import Notice, Place, ScriptAdapter
from callserver.scripts.answers import AnswerError
from callserver.scripts.catalog import ScriptCatalog
from callserver.scripts.commands import Command
from callserver.scripts.customers import ScriptCustomers
from callserver.scripts.engine import NavigationError, RunContext, ScriptRun
from callserver.scripts.model import CUSTOMER, CallbackSpec, Script
from callserver.scripts.record import RunStateError, RunStatus
from callserver.store.customers import normalise_number

log = logging.getLogger(__name__)

SWEEP_EVERY = 30.0  # seconds between looks for pages left alone


class Limiter(Protocol):
    """Counts events per key in a sliding window (`web.sessions.RateLimiter` is one)."""

    def retry_after(self, key: str) -> float: ...

    def failed(self, key: str) -> None: ...


# a limiter of `limit` events per key within `window` seconds
LimiterFactory = Callable[[int, float], Limiter]


class SelfServiceError(Exception):
    """A request refused; the message is safe to show a customer (it names nothing inside)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(slots=True)
class WebPage:
    token: str
    csrf: str
    script_id: str
    run: ScriptRun
    place: Place
    identified: bool
    last_seen: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    handed_to: str = ""  # "callback" or "task" once handed off


class SelfService:
    def __init__(
        self,
        catalog: ScriptCatalog,
        customers: ScriptCustomers,
        adapter: ScriptAdapter,
        config: SelfServiceConfig,
        *,
        publish: Callable[[Fact], None],
        clock: Callable[[], float],
        timezone: str,
        limiters: LimiterFactory,
        factor_label: str | None = None,
    ) -> None:
        self.catalog = catalog
        self.customers = customers
        self.adapter = adapter
        self.config = config
        self.publish = publish
        self.clock = clock
        self.timezone = timezone
        self.factor_label = factor_label or (config.factor or "").replace("_", " ").capitalize()
        self._pages: dict[str, WebPage] = {}
        self._starts = limiters(config.starts_per_minute, 60.0)
        self._moves = limiters(config.moves_per_minute, 60.0)
        self._failures = limiters(config.identify_failures, config.identify_window)
        self._sweeper: asyncio.Task[None] | None = None

    # -- what a page may know before it starts ----------------------------------------------------

    def script(self, script_id: str) -> Script | None:
        """A script served on the web, or None (unknown or not for the web: the same answer)."""
        script = self.catalog.get(script_id)
        return script if script is not None and script.web else None

    def identify_mode(self, script_id: str) -> str:
        mode = self.config.identify.get(script_id, self.config.default_identify)
        return "anonymous" if self.config.factor is None else mode

    def info(self, script_id: str) -> dict[str, Any]:
        script = self._served(script_id)
        return {
            "title": script.title,
            "description": script.description,
            "language": script.language,
            "identify": self.identify_mode(script_id),
            "factor_label": self.factor_label if self.config.factor else None,
            "handoff_label": script.handoff.label if script.handoff is not None else None,
        }

    # -- pages --------------------------------------------------------------------------------

    async def start(
        self, script_id: str, client: str, *, account: str | None, factor: str | None
    ) -> tuple[WebPage, dict[str, Any]]:
        """A new page: identified when `account` and `factor` match a customer, else anonymous (if
        the script allows it). Raises SelfServiceError."""
        script = self._served(script_id)
        self._limit(self._starts, f"start:{client}", "Too many pages opened: try again in a minute.")
        self._starts.failed(f"start:{client}")
        self._sweep_now()
        if len(self._pages) >= self.config.max_sessions:
            raise SelfServiceError(503, "The service is busy: try again in a few minutes.", retry_after=60)
        mode = self.identify_mode(script_id)
        customer: dict[str, object] | None = None
        wants_identity = bool((account or "").strip() or (factor or "").strip())
        if wants_identity and mode != "anonymous":
            customer = await self._identify(client, account or "", factor or "")
        elif mode == "required":
            raise SelfServiceError(400, f"Give your account number and {self.factor_label.lower()}.")
        contact = f"web-{secrets.token_hex(8)}"
        run_id = f"run-{secrets.token_hex(8)}"
        context = RunContext(
            run_id, agent=None, customer=customer, call={"channel": "web"}, timezone=self.timezone
        )
        try:
            run = ScriptRun(script, context, self._now())
        except RunStateError:
            raise SelfServiceError(404, "This page does not exist.") from None
        customer_id = customer.get("id") if customer is not None else None
        place = Place(
            call_id=contact,
            agent_id=None,
            customer_id=customer_id if isinstance(customer_id, int) else None,
            number=str((customer or {}).get("phone") or ""),
            customer_name=str((customer or {}).get("name") or ""),
        )
        page = WebPage(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(24),
            script_id=script_id,
            run=run,
            place=place,
            identified=customer is not None,
            last_seen=self.clock(),
        )
        self._pages[page.token] = page
        for item in tracking.started(run, contact, self.clock(), place.customer_id):
            self.publish(item)
        log.info("web page for script %s opened (%s)", script_id, "identified" if customer else "anonymous")
        return page, self.view(page)

    def page(self, token: str, script_id: str, csrf: str | None = None) -> WebPage:
        """The caller's page; with `csrf`, only if it matches. Expired or unknown: 410/403."""
        page = self._pages.get(token)
        if page is None or page.script_id != script_id or self._expired(page):
            raise SelfServiceError(410, "This page has expired: start again.")
        if csrf is not None and not hmac.compare_digest(csrf.encode(), page.csrf.encode()):
            raise SelfServiceError(403, "This page cannot be used from here: reload it.")
        return page

    def view(self, page: WebPage) -> dict[str, Any]:
        run = page.run
        if run.status is RunStatus.ACTIVE:
            data = present.public_view(run, self._now())
        else:
            data = {"status": run.status.value, "message": self._end_message(page)}
        data["identified"] = page.identified
        data["needs_number"] = not page.place.number
        return data

    async def move(
        self, page: WebPage, op: str, *, position: int, value: object = None, number: object = None
    ) -> dict[str, Any]:
        """`next` (answer then forward), `back`, or `talk` (hand over to a person)."""
        self._limit(self._moves, f"page:{page.token}", "Too many requests: wait a moment.")
        self._moves.failed(f"page:{page.token}")
        async with page.lock:
            run = page.run
            page.last_seen = self.clock()
            if run.status is not RunStatus.ACTIVE:
                raise SelfServiceError(409, "This page is finished: start again for anything else.")
            if position != run.position:
                raise SelfServiceError(409, "This page was out of date: here is where you are.")
            if number not in (None, ""):
                page.place = replace(page.place, number=self._number(number))
            before = tracking.Snapshot.of(run)
            now = self._now()
            commands: list[Command] = []
            try:
                if op == "next":
                    question = run.script.steps[run.step].question
                    if question is not None:
                        run.answer(run.step, value, by=CUSTOMER, now=now)
                    commands = run.forward(by=CUSTOMER, now=now)
                elif op == "back":
                    run.back(by=CUSTOMER, now=now)
                elif op == "talk":
                    if self._calls_back(run) and not page.place.number:
                        raise SelfServiceError(400, "Give a phone number we can call you back on.")
                    self._keep_answer(run, value, now)
                    commands = run.talk_to_someone(by=CUSTOMER, now=now)
                else:
                    raise SelfServiceError(400, "Unknown request.")
            except AnswerError as err:
                raise SelfServiceError(400, str(err)) from None
            except (NavigationError, RunStateError) as err:
                log.info("web page %s: move %s refused: %s", page.place.call_id, op, err)
                raise SelfServiceError(409, "That is not possible from this page.") from None
            finally:
                for item in tracking.after_move(before, run, page.place.call_id, self.clock()):
                    self.publish(item)
            notices = await self.adapter.carry_out(run, commands, page.place)
            page.handed_to = _handed_to(notices) or page.handed_to
            return self.view(page)

    # -- expiry -------------------------------------------------------------------------------

    def start_sweeping(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_loop(), name="selfservice-expiry")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for page in list(self._pages.values()):
            await self._abandon(page, "the server stopped")
        self._pages.clear()

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)  # a period, not a poll for a condition
            await self.sweep()

    async def sweep(self) -> int:
        """Pages left alone longer than the idle limit: their runs abandoned, the pages forgotten."""
        gone = [p for p in self._pages.values() if self._expired(p)]
        for page in gone:
            self._pages.pop(page.token, None)
            await self._abandon(page, "the page was left")
        return len(gone)

    def _sweep_now(self) -> None:
        """Forget finished pages past their time at once (no I/O: their runs have ended)."""
        for page in [p for p in self._pages.values() if self._expired(p)]:
            if page.run.status is not RunStatus.ACTIVE:
                self._pages.pop(page.token, None)

    async def _abandon(self, page: WebPage, reason: str) -> None:
        async with page.lock:
            if page.run.status is RunStatus.ACTIVE:
                commands = page.run.abandon(now=self._now(), reason=reason)
                await self.adapter.carry_out(page.run, commands, page.place)

    # -- inside -------------------------------------------------------------------------------

    def _served(self, script_id: str) -> Script:
        script = self.script(script_id)
        if script is None:
            raise SelfServiceError(404, "This page does not exist.")
        return script

    async def _identify(self, client: str, account: str, factor: str) -> dict[str, object]:
        account = account.strip()[:64]
        keys = (f"identify:{client}", f"account:{account.casefold()}")
        for key in keys:
            self._limit(self._failures, key, "Too many attempts: try again later.")
        if self.config.factor is None or not account or not factor.strip():
            raise SelfServiceError(400, f"Give your account number and {self.factor_label.lower()}.")
        customer = await self.customers.identify(account, self.config.factor, factor)
        if customer is None:
            for key in keys:
                self._failures.failed(key)
            log.warning("web identification failed from %s", client)
            # the same answer whether the account exists or not
            raise SelfServiceError(401, "We could not find an account with these details.")
        return customer

    @staticmethod
    def _keep_answer(run: ScriptRun, value: object, now: datetime) -> None:
        """What the customer typed before asking for a person travels with the rest, when it fits."""
        if value in (None, "") or run.script.steps[run.step].question is None:
            return
        with contextlib.suppress(AnswerError):
            run.answer(run.step, value, by=CUSTOMER, now=now)

    @staticmethod
    def _limit(limiter: Limiter, key: str, message: str) -> None:
        wait = limiter.retry_after(key)
        if wait > 0:
            raise SelfServiceError(429, message, retry_after=wait)

    @staticmethod
    def _number(raw: object) -> str:
        number = normalise_number(raw) if isinstance(raw, str) and len(raw) <= 40 else None
        if number is None:
            raise SelfServiceError(400, "Give a phone number in digits, for example +33 1 23 45 67 89.")
        return number

    @staticmethod
    def _calls_back(run: ScriptRun) -> bool:
        handoff = run.script.handoff
        return handoff is not None and isinstance(handoff.action, CallbackSpec)

    def _end_message(self, page: WebPage) -> str:
        if page.run.status is RunStatus.HANDED_OFF:
            if page.handed_to == "task":
                return "Thank you. Someone from our team will take care of it and get back to you."
            return "Thank you. Someone will call you back as soon as possible."
        if page.run.status is RunStatus.FINISHED:
            return "Thank you. You can close this page."
        return "This page has expired: start again."

    def _expired(self, page: WebPage) -> bool:
        return self.clock() - page.last_seen > self.config.session_idle

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def _handed_to(notices: list[Notice]) -> str:
    kinds = {n.kind for n in notices}
    if "callback" in kinds:
        return "callback"
    return "task" if "task" in kinds else ""
