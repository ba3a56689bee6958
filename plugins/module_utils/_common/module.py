# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Module wrapper for the Xen modules (private to vdc.xenpool).

It is the only place, besides a module's main(), that talks to AnsibleModule: it merges the shared
specs, opens the XenAPI session, turns typed errors into one message shape and always logs out.
Modules stay an argument spec plus a few lines of main().
"""

from __future__ import annotations

import contextlib
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import (
    WAIT_SPEC,
    XEN_CONNECTION_SPEC,
    merge_specs,
    xen_client_kwargs,
)
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import HAS_XENAPI, XENAPI_IMPORT_ERROR, XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenError


def failure_message(verb: str, noun: str, name: t.Any, err: BaseException) -> str:
    """`Failed to <verb> <noun> '<name>': <CODE> <params>` followed by what to do about it."""
    msg = "Failed to %s %s '%s': %s" % (verb, noun, name, err)
    hint = getattr(err, "hint", "")
    return "%s. %s" % (msg, hint) if hint else msg


class XenModule:
    """AnsibleModule plus a XenAPI session; attribute access falls through to the AnsibleModule."""

    def __init__(
        self,
        argument_spec: dict[str, dict[str, t.Any]],
        supports_check_mode: bool = True,
        wait: bool = False,
        client_factory: t.Callable[..., XenClient] | None = None,
        **kwargs: t.Any,
    ) -> None:
        specs = [XEN_CONNECTION_SPEC] + ([WAIT_SPEC] if wait else []) + [argument_spec]
        self.module = AnsibleModule(argument_spec=merge_specs(*specs), supports_check_mode=supports_check_mode, **kwargs)
        self._client_factory = client_factory
        self.client: XenClient | None = None

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self.module, name)

    @property
    def diff_mode(self) -> bool:
        return bool(getattr(self.module, "_diff", False))

    @contextlib.contextmanager
    def session(self, verb: str, noun: str, name: t.Any = None) -> t.Iterator[XenClient]:
        """Yield a logged-in client; typed errors (XenError, WaitTimeout) become fail_json; the session is always closed."""
        if not HAS_XENAPI:
            self.module.fail_json(msg=missing_required_lib("XenAPI"), exception=XENAPI_IMPORT_ERROR)
        params = self.module.params
        label = name if name is not None else params.get("hostname")
        try:
            self.client = (self._client_factory or XenClient)(**xen_client_kwargs(params))
        except ValueError as exc:
            self.module.fail_json(msg="Failed to %s %s '%s': %s. Check the hostname option." % (verb, noun, label, exc))
        try:
            self.client.login()
            yield self.client
        except (XenError, WaitTimeout) as err:
            self.client.close()
            self.module.fail_json(msg=failure_message(verb, noun, label, err), error_code=getattr(err, "code", None), **_params(err))
        finally:
            self.client.close()

    def exit_result(
        self, changed: bool = False, before: t.Any = None, after: t.Any = None, **result: t.Any
    ) -> None:
        """exit_json with a diff only when --diff is on and the module manages something."""
        if self.diff_mode and (before is not None or after is not None):
            result["diff"] = {"before": before if before is not None else {}, "after": after if after is not None else {}}
        self.module.exit_json(changed=changed, **result)


def _params(err: BaseException) -> dict[str, t.Any]:
    params = getattr(err, "params", None)
    return {"error_params": list(params)} if params is not None else {}
