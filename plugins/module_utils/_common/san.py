# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How one LUN is named on both sides of the SAN (private to vdc.xenpool).

ONTAP reports a LUN's serial number; the host's SCSI layer (and therefore XenServer's lvmoiscsi
SR, as its `SCSIid` device-config key) names the same LUN by its NAA identifier. Both sides of the
collection need the mapping, so it lives below them.
"""

from __future__ import annotations

import re
import typing as t

NETAPP_NAA_PREFIX = "600a0980"
# RFC 3720 3.2.6.3: iqn.<yyyy-mm>.<reversed domain>[:<unique>], eui.<16 hex>; RFC 3980: naa.<16 or 32 hex>.
# After stringprep (RFC 3722) only letters, digits, '-', '.' and ':' remain; at most 223 bytes. Both sides of the
# SAN check initiator names (the host's IQN in XenServer, the igroup's members in ONTAP), so the rule lives here.
ISCSI_NAME_MAX_BYTES = 223
_IQN = re.compile(r"^iqn\.[0-9]{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:-]+)?$",
                  re.I)
_EUI = re.compile(r"^eui\.[0-9a-f]{16}$", re.I)
_NAA = re.compile(r"^naa\.([0-9a-f]{16}|[0-9a-f]{32})$", re.I)


def iscsi_name_problem(value: t.Any) -> str | None:
    """Why value is not an iSCSI name (RFC 3720/3980), or None when it is one."""
    text = "" if value is None else str(value)
    if not text:
        return "empty"
    if len(text.encode("utf-8")) > ISCSI_NAME_MAX_BYTES:
        return "longer than %d bytes" % ISCSI_NAME_MAX_BYTES
    if _IQN.match(text) or _EUI.match(text) or _NAA.match(text):
        return None
    return "not iqn.YYYY-MM.reversed.domain[:name], eui.<16 hex digits> or naa.<16 or 32 hex digits>"


def naa_id(serial: str | None) -> str | None:
    """NAA type-6 id ONTAP reports for a LUN: NetApp prefix + hex of the 12 ASCII serial characters."""
    if not serial:
        return None
    return NETAPP_NAA_PREFIX + serial.encode("ascii").hex()


def scsi_id(serial: str | None) -> str | None:
    """What XenServer shows as SCSIid (scsi_id -g): designator type 3 in front of the NAA id."""
    naa = naa_id(serial)
    return "3" + naa if naa else None
