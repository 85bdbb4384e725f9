"""The flow engine on every node type, on a virtual clock and with no I/O."""

from __future__ import annotations

from datetime import datetime

import pytest

from callserver.ivr.actions import (
    Digits,
    GetDigits,
    Hangup,
    HungUp,
    Lookup,
    LookupResult,
    Play,
    PlayDone,
    Record,
    Recorded,
    SetVar,
    Timeout,
    ToQueue,
    ToVoicemail,
    Transfer,
    WaitDigit,
)
from callserver.ivr.checks import digits_valid, luhn_ok
from callserver.ivr.engine import CallContext, FlowError, FlowRun
from tests.ivr.flows import MONDAY_10AM, PARIS, flow

CALL = CallContext(caller="+33612345678", dnis="500", channel="PJSIP/trunk-00000012", uniqueid="1.18")

MENU = """
menu:
  type: menu
  prompt: {text: "Press 1 for billing, 2 for support."}
  options: {1: billing, 2: technical}
  timeout: 4
  retries: 2
  invalid: {text: "Not a valid choice."}
  no_input: {file: no-input}
  fallback: general
billing: {type: queue, queue: billing}
technical: {type: queue, queue: technical}
general: {type: queue, queue: general}
"""


def run(nodes: str, start: str, now: datetime = MONDAY_10AM, **extra: object) -> FlowRun:
    return FlowRun(flow(nodes, start=start, **extra), CALL, now, name="main")


def test_menu_key_pressed_during_prompt_goes_to_its_option() -> None:
    r = run(MENU, "menu")
    [play] = r.start()
    assert isinstance(play, Play) and play.barge_in_digits == "12"
    assert play.prompt.text == "Press 1 for billing, 2 for support."
    assert play.prompt.prompt_id == "main.menu.prompt"
    assert r.feed(PlayDone("2")) == [ToQueue("technical", {})]
    assert r.outcome == "queue" and r.path == ["menu", "technical"]


def test_menu_waits_for_a_key_after_the_prompt() -> None:
    r = run(MENU, "menu")
    r.start()
    assert r.feed(PlayDone(None)) == [WaitDigit(4.0)]
    assert r.feed(Digits("1")) == [ToQueue("billing", {})]


def test_menu_invalid_key_plays_invalid_prompt_then_menu_again() -> None:
    r = run(MENU, "menu")
    r.start()
    r.feed(PlayDone(None))
    [invalid] = r.feed(Digits("7"))
    assert isinstance(invalid, Play) and invalid.prompt.text == "Not a valid choice."
    [again] = r.feed(PlayDone(None))
    assert isinstance(again, Play) and again.prompt.prompt_id == "main.menu.prompt"


def test_menu_key_during_invalid_prompt_is_taken_as_a_choice() -> None:
    r = run(MENU, "menu")
    r.start()
    r.feed(PlayDone(None))
    r.feed(Digits("9"))
    assert r.feed(PlayDone("1")) == [ToQueue("billing", {})]


def test_menu_timeouts_use_no_input_prompt_then_fallback_after_retries() -> None:
    r = run(MENU, "menu")
    r.start()
    for _ in range(2):
        assert r.feed(PlayDone(None)) == [WaitDigit(4.0)]
        [no_input] = r.feed(Timeout())
        assert isinstance(no_input, Play) and no_input.prompt.file == "no-input"
        r.feed(PlayDone(None))  # the menu prompt again
    assert r.feed(PlayDone(None)) == [WaitDigit(4.0)]
    assert r.feed(Timeout()) == [ToQueue("general", {})]
    assert r.path == ["menu", "general"]


COLLECT = """
card:
  type: collect
  variable: card
  prompt: {text: "Type your card number."}
  min_length: 12
  max_length: 19
  check: luhn
  retries: 1
  invalid: {text: "That number is not valid."}
  on_invalid: general
  next: billing
billing: {type: queue, queue: billing}
general: {type: queue, queue: general}
"""


def test_collect_valid_digits_are_kept_and_carried_into_the_queue() -> None:
    r = run(COLLECT, "card")
    [ask] = r.start()
    assert isinstance(ask, GetDigits) and ask.max_digits == 19 and ask.terminator == "#"
    out = r.feed(Digits("4111111111111111"))
    assert out == [SetVar("card", "4111111111111111"), ToQueue("billing", {"card": "4111111111111111"})]


def test_collect_failing_validation_retries_then_goes_on_invalid() -> None:
    r = run(COLLECT, "card")
    r.start()
    [invalid] = r.feed(Digits("4111111111111112"))
    assert isinstance(invalid, Play) and invalid.prompt.text == "That number is not valid."
    [ask] = r.feed(PlayDone(None))
    assert isinstance(ask, GetDigits)
    assert r.feed(Timeout()) == [ToQueue("general", {})]


def test_private_collect_is_usable_but_not_passed_on() -> None:
    nodes = COLLECT.replace("check: luhn", "check: luhn\n  private: true")
    r = run(nodes, "card")
    r.start()
    assert r.feed(Digits("4111111111111111")) == [ToQueue("billing", {})]
    assert r.resolve("data.card") == "4111111111111111"


def test_collect_checks_dates_and_patterns() -> None:
    node = flow(
        "d: {type: collect, variable: born, prompt: x, check: date, on_invalid: q, next: q}\n"
        "q: {type: queue, queue: general}",
        start="d",
    ).nodes["d"]
    assert digits_valid(node, "29022024")  # type: ignore[arg-type]
    assert not digits_valid(node, "29022023")  # type: ignore[arg-type]
    assert not digits_valid(node, "2902202")  # type: ignore[arg-type]
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")


LOOKUP = """
who:
  type: lookup
  found: greet
  not_found: general
  several: several
greet:
  type: say
  text: "Hello {customer.name}, your balance is {customer.balance|currency}."
  next: general
several: {type: queue, queue: billing}
general: {type: queue, queue: general}
"""


def test_lookup_found_greets_the_customer_and_passes_their_id() -> None:
    r = run(LOOKUP, "who")
    assert r.start() == [Lookup("phone", "+33612345678")]
    [say] = r.feed(LookupResult(({"id": 42, "name": "Ada Lovelace", "balance": "42.10"},)))
    assert isinstance(say, Play)
    assert say.prompt.text == "Hello Ada Lovelace, your balance is 42 euros 10."
    assert r.feed(PlayDone(None)) == [ToQueue("general", {"customer_id": "42"})]


def test_lookup_not_found_and_several_take_their_branches() -> None:
    r = run(LOOKUP, "who")
    r.start()
    assert r.feed(LookupResult(())) == [ToQueue("general", {})]
    r = run(LOOKUP, "who")
    r.start()
    assert r.feed(LookupResult(({"id": 1}, {"id": 2}))) == [ToQueue("billing", {})]


def test_lookup_without_caller_number_is_not_found_without_asking() -> None:
    r = FlowRun(flow(LOOKUP, start="who"), CallContext(caller=""), MONDAY_10AM)
    assert r.start() == [ToQueue("general", {})]


BRANCH = """
who: {type: lookup, found: route, not_found: general}
route:
  type: branch
  cases:
    - {when: customer.balance < 0, next: billing}
    - {when: customer.vip == true, next: technical}
    - {when: 'customer.language == "fr"', next: french}
  default: general
french: {type: set, values: {language: fr}, next: general}
billing: {type: queue, queue: billing}
technical: {type: queue, queue: technical}
general: {type: queue, queue: general}
"""


@pytest.mark.parametrize(
    ("customer", "queue", "data"),
    [
        ({"balance": "-3.50", "vip": True}, "billing", {}),  # first matching case wins
        ({"balance": "10", "vip": True}, "technical", {}),
        ({"vip": False, "language": "fr"}, "general", {"language": "fr"}),
        ({"vip": False, "language": "en"}, "general", {}),
        ({"balance": "unknown", "vip": "false"}, "general", {}),
    ],
)
def test_branch_on_vip_language_and_balance(
    customer: dict[str, object], queue: str, data: dict[str, str]
) -> None:
    r = run(BRANCH, "who")
    r.start()
    out = r.feed(LookupResult((customer,)))
    assert out[-1] == ToQueue(queue, data)


def test_set_values_change_language_and_are_carried_into_the_queue() -> None:
    r = run(
        "s: {type: set, values: {language: fr, product: adsl, priority: 2, vip: true}, next: p}\n"
        "p: {type: play, prompt: {text: Bonjour}, next: q}\n"
        "q: {type: queue, queue: technical}",
        "s",
    )
    out = r.start()
    assert out[:4] == [
        SetVar("language", "fr"),
        SetVar("product", "adsl"),
        SetVar("priority", "2"),
        SetVar("vip", "true"),
    ]
    assert isinstance(out[4], Play) and out[4].prompt.language == "fr"
    expected = {"language": "fr", "product": "adsl", "priority": "2", "vip": "true"}
    assert r.feed(PlayDone(None)) == [ToQueue("technical", expected)]


HOURS = """
h:
  type: hours
  hours:
    timezone: Europe/Paris
    open: ["mon-fri 08:30-18:00", "sat 09:00-12:00"]
    holidays: ["12-25", 2026-05-14]
  open: open
  closed: closed
open: {type: queue, queue: general}
closed: {type: hangup, reason: closed}
"""


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (datetime(2026, 3, 30, 8, 30, tzinfo=PARIS), True),  # Monday at opening time
        (datetime(2026, 3, 30, 18, 0, tzinfo=PARIS), False),  # closing time is closed
        (datetime(2026, 3, 28, 11, 59, tzinfo=PARIS), True),  # Saturday morning
        (datetime(2026, 3, 29, 10, 0, tzinfo=PARIS), False),  # Sunday (the day clocks go forward)
        (datetime(2026, 12, 25, 10, 0, tzinfo=PARIS), False),  # yearly holiday on a Friday
        (datetime(2026, 5, 14, 10, 0, tzinfo=PARIS), False),  # dated holiday (Ascension)
        # 06:45 UTC on the Monday after the spring change is 08:45 in Paris (UTC+2): open.
        (datetime.fromisoformat("2026-03-30T06:45:00+00:00"), True),
        # the same UTC time a week earlier, still winter time (UTC+1), is 07:45: closed.
        (datetime.fromisoformat("2026-03-23T06:45:00+00:00"), False),
    ],
)
def test_hours_in_paris_including_dst_and_holidays(now: datetime, is_open: bool) -> None:
    r = run(HOURS, "h", now=now)
    expected = ToQueue("general", {}) if is_open else Hangup("closed")
    assert r.start() == [expected]


def test_hours_use_the_time_given_to_feed() -> None:
    nodes = "p: {type: play, prompt: {file: hello}, next: h}\n" + HOURS
    r = run(nodes, "p", now=datetime(2026, 3, 30, 7, 0, tzinfo=PARIS))
    r.start()
    assert r.feed(PlayDone(None), datetime(2026, 3, 30, 9, 0, tzinfo=PARIS)) == [ToQueue("general", {})]


def test_voicemail_plays_greeting_records_then_hands_the_recording_on() -> None:
    r = run(
        "vm: {type: voicemail, queue: billing, prompt: {text: Leave a message}, max_length: 60, silence: 3}",
        "vm",
    )
    [greeting] = r.start()
    assert isinstance(greeting, Play)
    assert r.feed(PlayDone(None)) == [Record("queue:billing", 60.0, 3.0, True)]
    assert r.feed(Recorded("/tmp/vm.wav")) == [ToVoicemail("queue:billing", {}, "/tmp/vm.wav")]
    assert r.outcome == "voicemail"


def test_transfer_and_hangup_nodes_end_the_flow() -> None:
    assert run("t: {type: transfer, number: '+33140000000'}", "t").start() == [Transfer("+33140000000", {})]
    r = run("bye: {type: hangup, prompt: {file: vm-goodbye}}", "bye")
    r.start()
    assert r.feed(PlayDone(None)) == [Hangup("normal")]
    assert r.outcome == "ended"


def test_caller_hanging_up_mid_menu_records_where_they_left() -> None:
    r = run("w: {type: play, prompt: {file: welcome}, next: menu}\n" + MENU, "w")
    r.start()
    r.feed(PlayDone(None))
    r.feed(PlayDone(None))
    assert r.feed(HungUp()) == []
    assert r.outcome == "hangup" and r.left_at == "menu" and r.path == ["w", "menu"]


def test_input_the_engine_is_not_waiting_for_is_an_error_naming_both() -> None:
    r = run(MENU, "menu")
    r.start()
    with pytest.raises(FlowError, match=r"Play.*Digits"):
        r.feed(Digits("1"))
    r.feed(PlayDone("1"))
    with pytest.raises(FlowError, match="finished"):
        r.feed(PlayDone(None))


def test_prompts_follow_the_language_the_caller_chose() -> None:
    r = run(
        """
        s: {type: set, values: {language: fr}, next: say}
        say:
          type: say
          text: {en: "Balance {customer.balance|currency}", fr: "Solde {customer.balance|currency}"}
          next: bye
        bye: {type: hangup, prompt: {text: {en: Goodbye}}}
        """,
        "s",
    )
    r.customer = {"balance": "-5"}
    [_, say] = r.start()
    assert isinstance(say, Play) and say.prompt.text == "Solde moins 5 euros"
    [bye] = r.feed(PlayDone(None))
    assert isinstance(bye, Play) and bye.prompt.text == "Goodbye"  # no French text: the first one written
