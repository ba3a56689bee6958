# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Connection options, action group and transport result shared by every ontap_* module."""

    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Cluster management address (name or IP) of the ONTAP cluster.
    type: str
    required: true
  port:
    description:
      - TCP port of the management interface.
      - Defaults to 443 with O(https=true) and 80 otherwise.
    type: int
  username:
    description:
      - Cluster (or SVM) administrator account; it needs the C(http) application for REST and C(ontapi) for ZAPI.
    type: str
    required: true
    aliases: [user]
  password:
    description:
      - Password of O(username). It never appears in results, diffs or error messages.
    type: str
    required: true
    aliases: [pass]
  validate_certs:
    description:
      - Verify the TLS certificate of the cluster.
      - Set to V(false) only for a lab or a simulator; prefer O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate(s) that signed the cluster certificate.
    type: path
  https:
    description:
      - Use HTTPS for REST and ZAPI. Plain HTTP (V(false)) is meant for simulators only.
    type: bool
    default: true
  use_rest:
    description:
      - V(auto) uses the REST API when C(GET /api/cluster) answers (ONTAP 9.6 and later) and falls back to ZAPI otherwise.
        A wrong password or an untrusted certificate is reported at once, without fallback.
      - V(always) uses REST only; V(never) uses ZAPI only (requires the Python library C(netapp-lib)).
      - The result value C(transport) says which one ran.
    type: str
    choices: [auto, always, never]
    default: auto
  timeout:
    description:
      - Timeout in seconds of one HTTP request.
    type: int
    default: 60
requirements:
  - netapp-lib (only for the ZAPI transport, O(use_rest=never) or an C(auto) fallback)
notes:
  - REST goes through ansible-core's own HTTP client; no extra Python library is needed for it.
  - All modules return the same values whichever transport ran.
  - "The examples leave out O(hostname), O(username) and O(password): a play sets them once for every ONTAP module with
    C(module_defaults: {group/vdc.xenpool.ontap: {hostname: ..., username: ..., password: ...}}), the password from a vault."
attributes:
  action_group:
    description: Use C(group/vdc.xenpool.ontap) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - vdc.xenpool.ontap
"""

    # Return values of every ONTAP module: which API answered.
    RETURN = r"""
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""
