# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""event.from with an empty token, as clients use it to load a pool in one request (xen-api ocaml/xapi/xapi_event.ml:
`from`, `from_inner`, `collect_events`, `Subscription.of_string`, `Token.of_string`)."""
from __future__ import annotations

import pytest

from conftest import connect

# Classes whose records do not move while nobody calls the small data centre.
STILL = ("pool", "host", "SR", "PBD", "network", "PIF", "VDI", "VBD", "VIF")


def details(func, *args):
    import XenAPI  # pylint: disable=import-outside-toplevel
    try:
        func(*args)
    except XenAPI.Failure as exc:
        return exc.details
    raise AssertionError("no failure")


def by_class(answer):
    out: dict = {}
    for event in answer["events"]:
        out.setdefault(event["class"], {})[event["ref"]] = event
    return out


def test_empty_token_reports_every_record_as_get_all_records_does(xs):
    """collect_events with last_generation 0: every row was created after it, so each is an `add` whose snapshot is
    Eventgen.find_get_record, the same serialiser as get_record / get_all_records."""
    answer = getattr(xs.event, "from")(list(STILL) + ["VM"], "", 0.0)
    events = by_class(answer)
    for cls in STILL + ("VM",):
        records = getattr(xs, cls).get_all_records()
        assert records, cls
        got = events.get(cls.lower(), {})
        assert set(got) == set(records), cls
        assert {e["operation"] for e in got.values()} == {"add"}
        if cls in STILL:
            assert {ref: e["snapshot"] for ref, e in got.items()} == records, cls
        else:
            assert all(set(e["snapshot"]) == set(records[ref]) for ref, e in got.items())
    assert set(events) == {c.lower() for c in STILL + ("VM",)}, "only the subscribed classes"
    assert all(e["timestamp"] == "0.0" and "snapshot" in e for e in answer["events"])


def test_class_names_in_any_case_and_single_objects(xs):
    """Subscription.of_string lower-cases the class; `<class>/<ref>` selects one object."""
    event_from = getattr(xs.event, "from")
    upper = event_from(["VM_guest_metrics", "Vm"], "", 0.0)
    lower = event_from(["vm_guest_metrics", "vm"], "", 0.0)
    assert sorted((e["class"], e["ref"]) for e in upper["events"]) == sorted((e["class"], e["ref"]) for e in lower["events"])
    host = xs.host.get_all()[0]
    one = event_from(["host/%s" % host], "", 0.0)
    assert [(e["class"], e["ref"]) for e in one["events"]] == [("host", host)]


@pytest.mark.parametrize("entry", ["no_such_class", "", "vm/", "vm/OpaqueRef:nothing/else", "V M"])
def test_every_subscription_parses(xs, entry):
    """Subscription.of_string splits at the first slash and never fails: an unknown class, an empty entry or an empty
    ref subscribe to nothing. With timeout 0 the call answers at once with no event."""
    answer = getattr(xs.event, "from")([entry], "", 0.0)
    assert answer["events"] == []


def test_valid_ref_counts_cover_every_table(xs):
    """from_inner folds over the whole table set for valid_ref_counts, not only the subscribed classes."""
    answer = getattr(xs.event, "from")(["pool"], "", 0.0)
    counts = answer["valid_ref_counts"]
    assert counts["vm"] == len(xs.VM.get_all()) and counts["sr"] == len(xs.SR.get_all())
    assert counts["pool"] == 1 and "message" not in counts
    assert all(isinstance(n, int) for n in counts.values())


def test_classes_without_events_report_nothing(xs):
    """Only datamodel classes with gen_events appear (from_inner filters the tables on it)."""
    answer = getattr(xs.event, "from")(["session", "secret"], "", 0.0)
    assert answer["events"] == []


@pytest.mark.parametrize("token", ["12", "1,2,3", " 1,2", "x,1"])
def test_token_is_empty_or_two_numbers(xs, token):
    """Token.of_string: "" or exactly two integers joined by a comma; anything else is refused."""
    assert details(getattr(xs.event, "from"), ["vm"], token, 0.0) == ["EVENT_FROM_TOKEN_PARSE_FAILURE", token]


def test_one_request_in_the_call_log(small_sim):
    """A reader that takes the pool this way costs one logged, non-write call whatever the number of classes."""
    session = connect(small_sim)
    try:
        small_sim.control.reset_calls()
        getattr(session.xenapi.event, "from")(list(STILL), "", 0.0)
        calls = small_sim.control.calls()["calls"]
        assert [(c["method"], c["write"]) for c in calls] == [("event.from", False)]
    finally:
        session.xenapi.session.logout()
