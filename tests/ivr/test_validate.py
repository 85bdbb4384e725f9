"""Validation of flow files: every fault is one line naming its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import callserver.ivr
from callserver.ivr.validate import validate_flows
from tests.ivr.flows import FIELDS, QUEUES


def check(nodes: str, start: str = "welcome", sounds_dir: Path | None = None) -> list[str]:
    raw: dict[str, Any] = {"flows": {"main": {"start": start, "nodes": yaml.safe_load(nodes)}}}
    config, problems = validate_flows(
        raw, "ivr", queues=QUEUES, customer_fields=FIELDS, sounds_dir=sounds_dir
    )
    assert (config is None) == any(": warning: " not in p for p in problems)
    return problems


def test_example_flow_validates_against_the_three_queues() -> None:
    text = (Path(callserver.ivr.__file__).parent / "example.yaml").read_text()
    config, problems = validate_flows(
        yaml.safe_load(text), "ivr", queues={"billing", "technical", "general"}, customer_fields=FIELDS
    )
    assert problems == []
    assert config is not None and config.flow_for_dnis("500") is not None


def test_unknown_menu_target_names_the_option() -> None:
    problems = check(
        """
        welcome: {type: menu, prompt: hello, options: {1: general, 3: billing_q}, fallback: general}
        general: {type: queue, queue: general}
        """
    )
    assert problems == ["ivr.flows.main.nodes.welcome.options.3: unknown node 'billing_q'"]


def test_unknown_start_and_unreachable_nodes() -> None:
    problems = check("general: {type: queue, queue: general}", start="nowhere")
    assert problems == ["ivr.flows.main.start: unknown node 'nowhere'"]
    problems = check("welcome: {type: queue, queue: general}\norphan: {type: hangup}")
    assert problems == ["ivr.flows.main.nodes.orphan: unreachable from start 'welcome'"]


def test_loop_without_caller_input_is_reported_once() -> None:
    problems = check(
        """
        welcome: {type: play, prompt: hi, next: again}
        again: {type: branch, cases: [{when: customer.vip, next: welcome}], default: welcome}
        """
    )
    assert problems == [
        "ivr.flows.main.nodes.welcome: loop without caller input: welcome -> again -> welcome"
    ]


def test_loop_through_a_menu_is_fine() -> None:
    assert (
        check(
            """
        welcome: {type: play, prompt: hi, next: menu}
        menu: {type: menu, prompt: choose, options: {9: welcome, 1: general}, fallback: welcome}
        general: {type: queue, queue: general}
        """
        )
        == []
    )


def test_missing_prompts_and_missing_sound_files(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "hello.wav").write_bytes(b"")
    problems = check(
        """
        welcome: {type: play, prompt: {file: hello}, next: menu}
        menu: {type: menu, options: {1: bye}, fallback: bye}
        bye: {type: hangup, prompt: {file: goodbye}}
        """,
        sounds_dir=tmp_path,
    )
    assert problems == [
        "ivr.flows.main.nodes.menu.prompt: missing prompt: give 'text' or 'file'",
        f"ivr.flows.main.nodes.bye.prompt.file: warning: no sound 'goodbye' in {tmp_path}",
    ]
    assert check("welcome: {type: play, prompt: {text: ''}, next: w2}\nw2: {type: hangup}") == []
    problems = check("welcome: {type: play, prompt: {}, next: w2}\nw2: {type: hangup}")
    assert problems == ["ivr.flows.main.nodes.welcome.prompt: missing prompt: give 'text' or 'file'"]


def test_only_warnings_still_give_a_configuration(tmp_path: Path) -> None:
    raw = {"flows": {"main": {"start": "bye", "nodes": {"bye": {"type": "hangup", "prompt": {"file": "x"}}}}}}
    config, problems = validate_flows(raw, "ivr", queues=set(), customer_fields=set(), sounds_dir=tmp_path)
    assert config is not None and len(problems) == 1


def test_bad_hours_syntax_and_time_zone() -> None:
    problems = check(
        """
        welcome:
          type: hours
          hours: {timezone: Europe/Pariss, open: ["mon-fri 08:30-18:00", "sun-sat 9-12"], holidays: ["12-32"]}
          open: q
          closed: q
        q: {type: queue, queue: general}
        """
    )
    assert problems == [
        "ivr.flows.main.nodes.welcome.hours.timezone: "
        "'Europe/Pariss' is not an IANA time zone like Europe/Paris",
        "ivr.flows.main.nodes.welcome.hours.open[1]: 'sun-sat 9-12' is not like 'mon-fri 08:30-18:00'",
        "ivr.flows.main.nodes.welcome.hours.holidays[0]: '12-32' is not a day of the year (MM-DD)",
    ]


def test_unknown_queue_schedule_and_references() -> None:
    problems = check(
        """
        welcome: {type: hours, schedule: office, open: vip, closed: vm}
        vip: {type: branch, cases: [{when: customer.shoe_size > 40, next: q}], default: say}
        say: {type: say, text: "Your code is {data.code|digits} on {call.dnid}", next: q}
        vm: {type: voicemail, queue: sales}
        q: {type: queue, queue: billing_q}
        """
    )
    assert problems[0] == "ivr.flows.main.nodes.welcome.schedule: unknown schedule 'office'"
    assert problems[1].startswith(
        "ivr.flows.main.nodes.vip.cases[0].when: unknown customer field 'shoe_size'"
    )
    assert problems[2] == "ivr.flows.main.nodes.say.text: 'data.code' is never set or collected in this flow"
    assert problems[3].startswith("ivr.flows.main.nodes.say.text: unknown call field 'dnid'")
    assert problems[4:] == [
        "ivr.flows.main.nodes.vm.queue: unknown queue 'sales'",
        "ivr.flows.main.nodes.q.queue: unknown queue 'billing_q'",
    ]


def test_node_level_syntax_errors_name_their_field() -> None:
    problems = check(
        """
        welcome: {type: menu, prompt: {text: a, file: b}, options: {12: q}, fallback: q}
        c: {type: branch, cases: [{when: "customer.vip === 1", next: q}], default: q}
        s: {type: say, text: "{customer.name|shout}", next: q}
        x: {type: nosuch}
        q: {type: queue, queue: general}
        """
    )
    assert problems[:5] == [
        "ivr.flows.main.nodes.welcome.prompt: give only one of 'text' or 'file'",
        "ivr.flows.main.nodes.welcome.options: option '12' is not one key of 0-9, * or #",
        "ivr.flows.main.nodes.c.cases[0].when: cannot read condition at '= 1'",
        "ivr.flows.main.nodes.s.text: 'shout' is not a say-as (text, number, currency, digits, date)",
        problems[4],
    ]
    assert problems[4].startswith("ivr.flows.main.nodes.x: Input tag 'nosuch'")


def test_a_number_claimed_by_two_flows() -> None:
    flow = {"dnis": ["500"], "start": "q", "nodes": {"q": {"type": "queue", "queue": "general"}}}
    _, problems = validate_flows(
        {"flows": {"a": flow, "b": flow}, "default_flow": "c"}, "ivr", queues=QUEUES, customer_fields=FIELDS
    )
    assert problems == [
        "ivr.default_flow: unknown flow 'c'",
        "ivr.flows.b.dnis[0]: '500' already leads to flow 'a'",
    ]


def test_wrong_type_gives_one_line_per_field() -> None:
    problems = check("welcome: {type: play, prompt: {text: [1]}, next: bye}\nbye: {type: hangup}")
    assert problems == [
        "ivr.flows.main.nodes.welcome.prompt.text: Input should be a valid string or a valid dictionary"
    ]
    _, problems = validate_flows([], "ivr", queues=set(), customer_fields=set())
    assert problems == ["ivr: Input should be a valid dictionary or instance of IvrConfig"]
