# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Typed ONTAP errors shared by both transports.

Services raise these instead of transport-specific exceptions so a module can build one message
shape (Failed to <verb> <noun> '<name>': <CODE> <message>) whichever transport ran.
"""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError

# ONTAP REST/ZAPI codes (rest.json error tables) and what the user can do about each.
ERROR_HINTS = {
    "917508": "Check the aggregate name against vdc.xenpool.ontap_info (gather_subset: aggregates)",
    "917927": "Check the volume name and svm; create the volume with vdc.xenpool.ontap_volume",
    "917526": "Another volume has this name in the SVM; pick another name",
    "5374242": "A LUN with this path exists; run vdc.xenpool.ontap_lun again, it adopts the existing LUN",
    "5374023": "An igroup with this name exists in the SVM; run vdc.xenpool.ontap_igroup again, it adopts it",
    "1254207": "The LUN is already mapped to this igroup; run vdc.xenpool.ontap_lun_map again, it adopts the map",
    "1254197": "The LUN is mapped; unmap it with vdc.xenpool.ontap_lun_map state=absent first",
    "1254213": "The igroup is mapped; unmap its LUNs with vdc.xenpool.ontap_lun_map state=absent first",
    "5374892": "LUNs only grow; give a size_gib at least the current size",
    "2": "A value was refused by ONTAP; check the option named in the message",
    "6": "The ONTAP user lacks the privilege for this call; use an account with the storage role",
}


class OntapError(CollectionError):
    """An error reported by ONTAP (REST error envelope, failed job or ZAPI errno).

    code is kept as a string because REST error codes are strings and ZAPI errnos are compared
    as strings by every client; status is the HTTP status when there was one. The hint is what to do
    for the codes a SAN task meets, otherwise where to look.
    """

    hints = ERROR_HINTS
    default_hint = "Compare the task's options with the cluster's objects (vdc.xenpool.ontap_info)"

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
    """The array could not be reached, or TLS/authentication failed before any API answered.

    No hint: the message of a connection error already names the options that fix it."""

    hints: dict[str, str] = {}
    default_hint = ""


class OntapAuthError(OntapConnectionError):
    """HTTP 401: wrong username or password (the password itself is never part of the message)."""


class OntapTLSError(OntapConnectionError):
    """The server certificate was not trusted."""


TLS_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "SSLValidationError", "self-signed", "self signed",
               "unable to get local issuer", "hostname mismatch", "doesn't match")


def tls_hint(base_url: str, detail: str) -> str:
    """Explain an untrusted certificate in terms of the module options that fix it."""
    return ("TLS certificate of %s is not trusted (%s). Give the CA that signed it with ca_path, or set "
            "validate_certs: false only for a lab or simulator." % (base_url, detail))


def auth_hint(base_url: str, username: str) -> str:
    """401 message that names the user but never the password."""
    return ("Authentication failed on %s for user '%s' (HTTP 401): check username and password, and that the "
            "account may use the http/ontapi applications." % (base_url, username))
