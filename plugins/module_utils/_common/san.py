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

NETAPP_NAA_PREFIX = "600a0980"


def naa_id(serial: str | None) -> str | None:
    """NAA type-6 id ONTAP reports for a LUN: NetApp prefix + hex of the 12 ASCII serial characters."""
    if not serial:
        return None
    return NETAPP_NAA_PREFIX + serial.encode("ascii").hex()


def scsi_id(serial: str | None) -> str | None:
    """What XenServer shows as SCSIid (scsi_id -g): designator type 3 in front of the NAA id."""
    naa = naa_id(serial)
    return "3" + naa if naa else None
