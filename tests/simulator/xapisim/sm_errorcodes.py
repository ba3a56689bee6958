# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SM's descriptions of the backend errors the simulator raises.

xapi passes an SMAPIv1 driver's failure on as `SR_BACKEND_FAILURE_<value> ["", text, stderr]`
(`ocaml/xapi/sm_exec.ml`), where the text is what sm's `xs_errors.XenError` made of the code: the
`description` of its entry in sm's `libs/sm/core/XE_SR_ERRORCODES.xml`, plus ` [opterr=...]` when the
driver gave details. The table below holds the entries of the codes the simulator raises (numbers and
texts as in the XML); `python -m xapisim.sm_errorcodes XE_SR_ERRORCODES.xml` prints it again from the
XML (xapi-project/sm at commit 471cf7ed7163f4f66c1e1ef9caafb1e353e70b56, 2026-04-24). A test checks
that every code named in the simulator's source is in the table.
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

# name: (value, description) -- generated from sm's libs/sm/core/XE_SR_ERRORCODES.xml
SM_ERRORS: dict[str, tuple[int, str]] = {
    "ConfigISCSIIQNMissing": (97, "Unable to retrieve the host configuration ISCSI IQN parameter"),
    "ConfigSCSIid": (107, "The SCSIid parameter is missing or incorrect"),
    "ConfigServerMissing": (102, "The request is missing the server parameter"),
    "ConfigServerPathMissing": (101, "The request is missing the serverpath parameter"),
    "ConfigTargetIQNMissing": (96, "The request is missing or has an incorrect target IQN parameter"),
    "ConfigTargetMissing": (95, "The request is missing the target parameter"),
    "ISCSILogin": (68, "ISCSI login failed - check access settings for the initiator on the storage, if CHAP is used verify CHAP credentials"),
    "ISCSIPort": (142, "Incorrect value for iSCSI port, must be a number between 1 and 65535"),
    "ISCSITarget": (141, "Unable to connect to ISCSI service on target"),
    "ISODconfMissingLocation": (220, "'Location' parameter must be specified in Device Configuration"),
    "ISOMountFailure": (222, "Could not mount the directory specified in Device Configuration"),
    "NFSMount": (73, "NFS mount error"),
    "NFSTarget": (108, "Unable to detect an NFS service on this target."),
    "NFSVersion": (72, "Required NFS server version unsupported"),
    "SRNoSpace": (44, "There is insufficient space"),
    "SRUnavailable": (47, "The SR is not available"),
    "VDISize": (79, "VDI Invalid size"),
}


def text(name: str, opterr: str = "") -> str:
    """The error text xs_errors.XenError gives: description, then ' [opterr=...]' when there are details."""
    return SM_ERRORS[name][1] + (" [opterr=%s]" % opterr if opterr else "")


def generate(xml_text: str, names) -> str:
    """The SM_ERRORS table for `names`, read from the text of XE_SR_ERRORCODES.xml."""
    entries = {}
    for code in ET.fromstring(xml_text).iter("code"):
        name = (code.findtext("name") or "").strip()
        if name in names:
            entries[name] = (int((code.findtext("value") or "0").strip()), (code.findtext("description") or "").strip())
    return "\n".join('    "%s": (%d, %r),' % (n, v, d) for n, (v, d) in sorted(entries.items()))


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        print(generate(handle.read(), set(SM_ERRORS) | set(sys.argv[2:])))
