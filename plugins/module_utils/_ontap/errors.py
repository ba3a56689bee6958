# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Typed ONTAP errors shared by both transports.

Services raise these instead of transport-specific exceptions so a module can build one message
shape (Failed to <verb> <noun> '<name>': <CODE> <message>) whichever transport ran.
"""

from __future__ import annotations


class OntapError(Exception):
    """An error reported by ONTAP (REST error envelope, failed job or ZAPI errno).

    code is kept as a string because REST error codes are strings and ZAPI errnos are compared
    as strings by every client; status is the HTTP status when there was one.
    """

    def __init__(self, code: str | int | None, message: str, target: str | None = None, status: int | None = None) -> None:
        self.code = str(code) if code is not None else ""
        self.message = message or ""
        self.target = target
        self.status = status
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message
        if self.code:
            text = "%s %s" % (self.code, text)
        if self.target:
            text = "%s (target: %s)" % (text, self.target)
        return text


class OntapConnectionError(OntapError):
    """The array could not be reached, or TLS/authentication failed before any API answered."""


class OntapAuthError(OntapConnectionError):
    """HTTP 401: wrong username or password (the password itself is never part of the message)."""


class OntapTLSError(OntapConnectionError):
    """The server certificate was not trusted."""


class OntapUsageError(OntapError):
    """A request the collection refuses before calling ONTAP (for example shrinking a LUN)."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)
