# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import (
    XapiError,
    XenConnectionError,
    XenTaskTimeout,
)


def test_xapi_error_shape():
    err = XapiError("HANDLE_INVALID", ["VM", "OpaqueRef:1"], method="VM.get_record")
    assert str(err) == "HANDLE_INVALID [VM, OpaqueRef:1]"
    assert err.code == "HANDLE_INVALID" and err.method == "VM.get_record"
    assert "run it again" in err.hint
    assert str(XapiError("TOO_BUSY")) == "TOO_BUSY []"


def test_from_details():
    err = XapiError.from_details(["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"])
    assert err.code == "SESSION_AUTHENTICATION_FAILED" and err.params == ["root", "Authentication failure"]
    assert "password" in err.hint
    odd = XapiError.from_details("garbage")
    assert odd.code == "UNKNOWN_ERROR" and odd.params == ["garbage"]


def test_connection_and_timeout_errors():
    err = XenConnectionError("timed out after 5s", "https://h/", "raise timeout")
    assert err.code == "CONNECTION_FAILED" and str(err) == "CONNECTION_FAILED [https://h/, timed out after 5s]"
    assert err.hint == "raise timeout"
    tmo = XenTaskTimeout("OpaqueRef:t", 30.0, "VM.start")
    assert str(tmo) == "TASK_TIMEOUT [VM.start, OpaqueRef:t, 30s]"
    assert "wait_timeout" in tmo.hint
