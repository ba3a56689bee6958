# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets never leave a module run (private to vdc.xenpool).

One place masks passwords in URLs, free text and mappings, so that failure messages, results, diffs
and simulator-facing logs cannot echo a secret however it reached them.
"""

from __future__ import annotations

import re
import typing as t

MASK = "********"

_USERINFO = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/]*)(?::[^@/]*)?@")
SECRET_KEYS = frozenset(("password", "pass", "chappassword", "incoming_chappassword", "chap_password", "secret"))


def url_without_secret(url: str) -> str:
    """'https://root:pw@host' -> 'https://root@host'; the password never goes further."""
    return _USERINFO.sub(lambda m: "%s%s@" % (m.group("scheme"), m.group("user")), url or "")


def url_secret(url: str) -> str | None:
    """The password embedded in a URL's userinfo, if any (so that it can be masked elsewhere)."""
    match = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/]*:([^@/]*)@", url or "")
    return match.group(1) if match else None


def scrub(text: t.Any, secrets: t.Iterable[str | None]) -> str:
    """Replace every non-empty secret in text by the mask."""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def mask_mapping(value: t.Any, keys: t.Iterable[str] = SECRET_KEYS) -> t.Any:
    """Copy of a (nested) mapping with the values of secret-looking keys masked."""
    wanted = {k.lower() for k in keys}
    if isinstance(value, dict):
        return {k: (MASK if str(k).lower() in wanted and v not in (None, "") else mask_mapping(v, wanted)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_mapping(v, wanted) for v in value]
    return value
