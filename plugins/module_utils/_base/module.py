# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One module base and one runner for every module of the collection (private to vdc.xenpool).

This layer sits above the `_xen` and `_ontap` services and below `plugins/modules`. It is the only
place, besides a module's main(), that talks to AnsibleModule: it merges the shared argument specs,
opens the client (a XenAPI session or an ONTAP connection), turns every CollectionError into the one
message shape, and runs the read -> plan -> apply-unless-check-mode -> result sequence.
"""

from __future__ import annotations

import contextlib
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import (
    ONTAP_CONNECTION_SPEC,
    WAIT_SPEC,
    XEN_CONNECTION_SPEC,
    merge_specs,
    xen_client_kwargs,
)
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError, failure_message
from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import scrub, url_secret, url_without_secret
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import client as ontap_client
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import HAS_NETAPP_LIB, NETAPP_LIB_IMPORT_ERROR
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import HAS_XENAPI, XENAPI_IMPORT_ERROR, XenClient

# Test seams: unit tests install scripted ONTAP fakes here instead of touching the network.
REST_SENDER: t.Any = None
ZAPI_INVOKER: t.Any = None


def pick(record: dict | None, keys: t.Iterable[str]) -> dict:
    """The managed subset of a record, for --diff."""
    if not record:
        return {}
    return {k: record.get(k) for k in keys}


class CollectionModule:
    """AnsibleModule plus a client, one failure shape and one runner. Subclasses open the client."""

    connection_spec: dict[str, dict[str, t.Any]] = {}

    def __init__(self, argument_spec: dict[str, dict[str, t.Any]], supports_check_mode: bool = True, wait: bool = False,
                 **kwargs: t.Any) -> None:
        specs = [self.connection_spec] + ([WAIT_SPEC] if wait else []) + [argument_spec]
        self.module = AnsibleModule(argument_spec=merge_specs(*specs), supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        self.client: t.Any = None
        self.validate_connection()

    @property
    def endpoint_label(self) -> str:
        """The endpoint as messages may show it: the hostname without a password in its userinfo."""
        return url_without_secret(str(self.params.get("hostname") or ""))

    def connection_problems(self) -> list[tuple[str, str, str]]:
        """(code, cause, fix) for connection options that cannot work; checked before any connection is made."""
        p = self.params
        problems = []
        if not str(p.get("hostname") or "").strip():
            problems.append(("INVALID_HOSTNAME", "hostname is empty", "Set hostname to the host name, address or URL of the endpoint"))
        for key in ("timeout", "wait_timeout"):
            value = p.get(key)
            if value is not None and value <= 0:
                problems.append(("INVALID_TIMEOUT", "%s is %s" % (key, value), "Set %s to a number of seconds greater than 0" % key))
        ca_path = p.get("ca_path")
        if ca_path and p.get("validate_certs", True) and not os.path.isfile(ca_path):
            problems.append(("CA_PATH_NOT_FOUND", "ca_path %s is not a readable file" % ca_path,
                             "Set ca_path to the PEM file with the CA certificate(s) that signed the endpoint's certificate"))
        return problems

    def cleartext_warning(self) -> str | None:
        """Why credentials would travel in clear text, if they would; subclasses know their own option."""
        return None

    def validate_connection(self) -> None:
        """Refuse unusable connection options with the one message shape; warn when credentials go in clear text.

        A hostname with a password in its userinfo is shown without it, and the password is masked
        everywhere else (see _secrets), because it would otherwise be echoed in every failure.
        """
        if url_secret(str(self.params.get("hostname") or "")) is not None:
            self.module.warn("hostname carries a password in its URL; it is not used and is masked in output. Use the password option.")
        warning = self.cleartext_warning()
        if warning:
            self.module.warn(warning)
        problems = self.connection_problems()
        if problems:
            code = problems[0][0]
            detail = "; ".join(cause for _code, cause, _fix in problems)
            fix = ". ".join(fix for _code, _cause, fix in problems)
            self.fail("connect to", self.endpoint_noun, self.endpoint_label, "%s %s" % (code, detail), hint=fix + ".", error_code=code)

    endpoint_noun = "endpoint"

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self.module, name)

    @property
    def check_mode(self) -> bool:
        return bool(self.module.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(getattr(self.module, "_diff", False))

    def _secrets(self) -> list[str]:
        return [self.params.get("password") or "", url_secret(str(self.params.get("hostname") or "")) or ""]

    def fail(self, verb: str, noun: str, name: t.Any, err: BaseException | str, hint: str | None = None,
             **extra: t.Any) -> t.NoReturn:
        """One message shape for every foreseeable failure; never a secret in it."""
        msg = failure_message(verb, noun, name, err) if isinstance(err, BaseException) else "Failed to %s %s '%s': %s" % (
            verb, noun, name, err)
        if hint:
            msg += ". " + hint
        code = getattr(err, "code", None)
        if code:
            extra.setdefault("error_code", code)
        params = getattr(err, "params", None)
        if params is not None:
            extra.setdefault("error_params", [scrub(p, self._secrets()) for p in params])
        extra.update(self._extra_result())
        self.module.fail_json(msg=scrub(msg, self._secrets()), **extra)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    def _extra_result(self) -> dict[str, t.Any]:
        return {}

    def _open(self, verb: str, noun: str, label: t.Any) -> t.Any:
        raise NotImplementedError

    def _close(self) -> None:
        """Release the client; ONTAP connections are stateless, XenAPI sessions are logged out."""

    @contextlib.contextmanager
    def session(self, verb: str, noun: str, name: t.Any = None) -> t.Iterator[t.Any]:
        """Yield an open client; any CollectionError becomes fail_json; the client is always closed."""
        label = name if name is not None else self.endpoint_label
        try:
            yield self._open(verb, noun, label)
        except CollectionError as err:
            self._close()
            self.fail(verb, noun, label, err)
        finally:
            self._close()

    def exit_result(self, changed: bool = False, before: t.Any = None, after: t.Any = None, **result: t.Any) -> None:
        """exit_json with a diff only when --diff is on and the module manages something."""
        if self.diff_mode and (before is not None or after is not None):
            result["diff"] = {"before": before if before is not None else {}, "after": after if after is not None else {}}
        result.update(self._extra_result())
        self.module.exit_json(changed=changed, **result)

    def converge(
        self,
        verb: str,
        noun: str,
        name: t.Any,
        read: t.Callable[[t.Any], t.Any],
        plan: t.Callable[[t.Any], Plan],
        apply: t.Callable[[t.Any, t.Any, Plan], t.Any],
        result_key: str,
        extra: t.Callable[[Plan], dict[str, t.Any]] | None = None,
        diff_view: t.Callable[[t.Any], t.Any] | None = None,
    ) -> None:
        """The runner: read -> plan (a value) -> apply unless check mode -> result with diff and plan.

        `plan(current)` raises PlanError to refuse before any write; its `after` is the check-mode
        prediction. `apply(client, current, plan)` returns the state after the change. `extra(plan)`,
        called last, adds module-specific result keys (what was evacuated, the task refs of wait: false).
        `diff_view(record)` narrows before/after to the managed fields for --diff while the result keeps
        the whole record.
        """
        with self.session(verb, noun, name) as client:
            current = read(client)
            the_plan = plan(current)
            after = the_plan.after
            if the_plan.changed and not self.check_mode:
                after = apply(client, current, the_plan)
        more = extra(the_plan) if extra is not None else {}
        narrow = diff_view or (lambda record: record)
        before_view = narrow(the_plan.before) if the_plan.before is not None else None
        after_view = narrow(after) if after is not None else None
        self.exit_result(changed=the_plan.changed, before=before_view, after=after_view,
                         plan=the_plan.summary(), **dict(more, **{result_key: after if after is not None else {}}))

    def run(
        self,
        noun: str,
        name: t.Any,
        desired_state: t.Callable[[dict], t.Any],
        read: t.Callable[[t.Any, dict, t.Any], t.Any],
        plan: t.Callable[[t.Any, dict, t.Any, bool], Plan],
        apply: t.Callable[[t.Any, t.Any, dict, t.Any], t.Any],
        result_key: str,
        service: t.Callable[[t.Any], t.Any],
        record: str,
        verb: str | None = None,
        diff_fields: t.Iterable[str] | None = None,
        **more: t.Any,
    ) -> None:
        """The main() of a state module whose parts are plain functions of the params: desired_state(params)
        checks the options before any connection, then converge() runs read(client, params, desired),
        plan(state, params, desired, check_mode) and, for state=present, apply(client, state, params, desired).
        For state=absent the runner itself deletes `state[record]` with `service(client).delete()`: every
        service deletes the record it returned, so no module writes that branch again.

        The verb defaults to `delete` for state=absent and `manage` otherwise; `diff_fields` narrows --diff
        to the managed fields; `more` goes to converge() (extra). Check mode is passed to plan because a parent that an earlier task of the same
        run only predicted may be missing then, which is no reason to refuse.
        """
        params = self.params
        if diff_fields is not None:
            keys = tuple(diff_fields)
            more["diff_view"] = lambda record: pick(record, keys)
        verb = verb or ("delete" if params.get("state") == "absent" else "manage")
        try:
            desired = desired_state(params)
        except CollectionError as err:
            self.fail(verb, noun, name, err)

        def apply_or_delete(client: t.Any, state: t.Any, _plan: Plan) -> t.Any:
            if params.get("state") == "absent":
                service(client).delete(state[record])
                return None
            return apply(client, state, params, desired)

        self.converge(verb, noun, name, read=lambda client: read(client, params, desired),
                      plan=lambda state: plan(state, params, desired, self.check_mode), apply=apply_or_delete,
                      result_key=result_key, **more)


class XenModule(CollectionModule):
    """A module that talks to a XenServer/XCP-ng pool through one XenAPI session."""

    connection_spec = XEN_CONNECTION_SPEC
    endpoint_noun = "XenAPI"

    def cleartext_warning(self) -> str | None:
        if str(self.params.get("hostname") or "").strip().lower().startswith("http://"):
            return ("hostname uses http://: the password travels in clear text. Use https:// (the default for a bare host name) "
                    "with ca_path.")
        return None

    def __init__(self, argument_spec: dict[str, dict[str, t.Any]], supports_check_mode: bool = True, wait: bool = False,
                 client_factory: t.Callable[..., XenClient] | None = None, **kwargs: t.Any) -> None:
        super().__init__(argument_spec, supports_check_mode=supports_check_mode, wait=wait, **kwargs)
        self._client_factory = client_factory

    def new_client(self, **overrides: t.Any) -> XenClient:
        """A XenClient with this module's connection options (e.g. another host's address); not logged in."""
        return (self._client_factory or XenClient)(**dict(xen_client_kwargs(self.params), **overrides))

    def _open(self, verb: str, noun: str, label: t.Any) -> XenClient:
        if not HAS_XENAPI:
            self.module.fail_json(msg=missing_required_lib("XenAPI"), exception=XENAPI_IMPORT_ERROR)
        try:
            self.client = self.new_client()
        except ValueError as exc:
            self.fail(verb, noun, label, "INVALID_HOSTNAME %s" % exc, hint="Check the hostname option", error_code="INVALID_HOSTNAME")
        self.client.login()
        return self.client

    def _close(self) -> None:
        if self.client is not None:
            self.client.close()


class OntapModule(CollectionModule):
    """A module that talks to an ONTAP cluster over REST or ZAPI (chosen by the client layer)."""

    connection_spec = ONTAP_CONNECTION_SPEC
    endpoint_noun = "ONTAP"

    def cleartext_warning(self) -> str | None:
        if self.params.get("https") is False:
            return "https is false: the password travels in clear text to the cluster. Set https: true (the default)."
        return None

    def _extra_result(self) -> dict[str, t.Any]:
        return {"transport": self.client.transport} if self.client is not None else {}

    def connect(self) -> ontap_client.OntapClient:
        """Open the connection or fail with the one message shape."""
        p = self.params
        if p["use_rest"] == "never" and not HAS_NETAPP_LIB and ZAPI_INVOKER is None:
            self.module.fail_json(msg=missing_required_lib("netapp-lib", reason="for use_rest: never (ZAPI)"),
                                  exception=str(NETAPP_LIB_IMPORT_ERROR))
        try:
            self.client = ontap_client.connect(
                hostname=p["hostname"], username=p["username"], password=p["password"], port=p["port"], https=p["https"],
                validate_certs=p["validate_certs"], ca_path=p["ca_path"], timeout=p["timeout"], use_rest=p["use_rest"],
                rest_sender=REST_SENDER, zapi_invoker=ZAPI_INVOKER)
        except CollectionError as exc:
            self.fail("connect to", "ONTAP", self.endpoint_label, exc)
        return self.client

    def _open(self, verb: str, noun: str, label: t.Any) -> ontap_client.OntapClient:
        return self.client if self.client is not None else self.connect()

    def exit(self, changed: bool, key: str, before: dict | None, after: dict | None, managed: t.Iterable[str],
             **extra: t.Any) -> None:
        """exit_json for ONTAP records: the public view under `key`, the managed subset as the diff."""
        keys = list(managed)
        self.exit_result(changed, before=pick(public(before), keys) if self.diff_mode else None,
                         after=pick(public(after), keys) if self.diff_mode else None,
                         **{key: public(after) or {}}, **extra)
