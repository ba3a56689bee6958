# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Connection options and action group of every XenAPI module; mirrors XEN_CONNECTION_SPEC in module_utils/_common/argspec.py."""

    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - The XenServer / XCP-ng host to talk to, as a host name, an IP address or a URL.
      - A bare host name or address means C(https://<hostname>/). Use an C(http://) URL only on trusted networks,
        because the password then travels in clear text.
      - When the host is a pool member rather than the pool master, the module logs in to the master
        instead (same scheme and port), as the host tells it to.
      - If not set, the value of the E(XENSERVER_HOST) environment variable is used.
    type: str
    required: true
    aliases: [host, url]
  username:
    description:
      - The user to log in as.
      - If not set, the value of the E(XENSERVER_USER) environment variable is used, then V(root).
    type: str
    default: root
  password:
    description:
      - The password of O(username).
      - If not set, the value of the E(XENSERVER_PASSWORD) environment variable is used.
      - Never shown in results, messages or logs.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the host (chain and host name).
      - Set to V(false) only for hosts with self-signed certificates on trusted networks; prefer O(ca_path).
      - If not set, the value of the E(XENSERVER_VALIDATE_CERTS) environment variable is used, then V(true).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with the CA certificate(s) that signed the host certificate.
      - Without it the system trust store is used.
    type: path
  timeout:
    description:
      - Socket timeout in seconds for each XenAPI request, including the connection attempt.
    type: int
    default: 60
requirements:
  - XenAPI (the official Python XenAPI client, C(pip install XenAPI))
notes:
  - "The module runs on the controller (or wherever it is delegated to) and talks to the XenAPI endpoint over the network;
    use C(connection: local) or C(delegate_to: localhost)."
  - The session is logged out when the module ends, on success and on failure.
  - "The examples leave out O(hostname), O(username) and O(password): a play sets them once for every XenAPI module with
    C(module_defaults: {group/vdc.xenpool.xen: {hostname: ..., username: ..., password: ...}}), the password from a vault."
attributes:
  action_group:
    description: Use C(group/vdc.xenpool.xen) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - vdc.xenpool.xen
"""
