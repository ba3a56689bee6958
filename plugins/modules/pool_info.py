#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pool_info
short_description: Overview of a XenServer / XCP-ng pool, its hosts, storage, networks and VMs
version_added: 0.1.0
description:
  - Reads a whole pool in one XenAPI call per object class, whatever the number of hosts and VMs,
    and returns the console overview of the pool, its hosts, storage repositories, networks and VMs.
  - Control domains and snapshots are never listed as VMs; templates only with O(include_templates=true).
  - With O(io_metrics=true) it also reads the disk and network throughput of hosts and running VMs from
    each live host's performance export (C(GET /rrd_updates), the source XenCenter and Xen Orchestra use);
    average and maximum KiB/s over the last 10 minutes, in one-minute steps.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  include_templates:
    description:
      - Also list templates in RV(vms) (snapshots never).
    type: bool
    default: false
  io_metrics:
    description:
      - Read disk and network figures (average and maximum KiB/s over the last 10 minutes) for hosts and running VMs.
      - Costs one HTTPS request per live host, sent in parallel (at most 8 at a time) to the host's management
        address with the same session, port, certificate checks and O(timeout) as the XenAPI calls.
        The number of requests does not depend on the number of VMs.
      - A host that does not answer leaves its figures and those of its VMs null and adds a warning; the module does not fail.
      - Set to V(false) to read nothing but the XenAPI objects; the figures are then null.
    type: bool
    default: true
  vms:
    description:
      - Only list the VMs with these names or uuids in RV(vms).
      - Hosts, SRs and networks are always listed in full; RV(hosts[].resident_vms) is not filtered.
    type: list
    elements: str
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes.INFO_MODULE
seealso:
  - name: XenAPI reference
    description: The classes and fields this module reads.
    link: https://xapi-project.github.io/xen-api/
"""

EXAMPLES = r"""
- name: Show the pool of the first host
  vdc.xenpool.pool_info:
    hostname: xen-intel-01.example.com
    username: root
    password: "{{ vault_xen_password }}"
    ca_path: /etc/pki/xen-ca.pem
  delegate_to: localhost
  register: overview

- name: Running VMs per host
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.resident_vm_count }} VMs, {{ item.memory_free_mib }} MiB free"
  loop: "{{ overview.hosts }}"

- name: Two VMs only, set the connection once for the whole group
  module_defaults:
    group/vdc.xenpool.xen:
      hostname: https://xen-amd-01.example.com
      password: "{{ vault_xen_password }}"
  block:
    - name: Read two VMs
      vdc.xenpool.pool_info:
        vms: [web01, db01]
      delegate_to: localhost
      register: two_vms
"""

RETURN = r"""
pool:
  description: The pool.
  returned: success
  type: dict
  contains:
    name:
      description: Pool name (empty for a standalone host that was never named).
      type: str
      returned: success
    uuid:
      description: Pool uuid.
      type: str
      returned: success
    master:
      description: Name of the pool master.
      type: str
      returned: success
    master_uuid:
      description: Uuid of the pool master.
      type: str
      returned: success
    ha_enabled:
      description: Whether HA is on.
      type: bool
      returned: success
    ha_host_failures_to_tolerate:
      description: Host failures HA is configured to survive.
      type: int
      returned: success
    ha_plan_exists_for:
      description: Host failures the current HA plan can survive.
      type: int
      returned: success
    default_sr:
      description: Name of the default SR, null when none is set.
      type: str
      returned: success
    default_sr_uuid:
      description: Uuid of the default SR.
      type: str
      returned: success
  sample:
    name: pool-a
    uuid: 5c6b0a7e-0000-4000-8000-000000000001
    master: xen-intel-01
    master_uuid: 1f0e0a7e-0000-4000-8000-000000000011
    ha_enabled: false
    ha_host_failures_to_tolerate: 0
    ha_plan_exists_for: 0
    default_sr: Local storage
    default_sr_uuid: 7a1e0a7e-0000-4000-8000-000000000021
hosts:
  description: Hosts of the pool, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Host name label.
      type: str
      returned: success
    uuid:
      description: Host uuid.
      type: str
      returned: success
    address:
      description: Management IP address.
      type: str
      returned: success
    hostname:
      description: Host name of the dom0.
      type: str
      returned: success
    enabled:
      description: Whether the host accepts new VMs.
      type: bool
      returned: success
    is_master:
      description: Whether the host is the pool master.
      type: bool
      returned: success
    live:
      description: Whether the host reports itself alive.
      type: bool
      returned: success
    cpu_count:
      description: Number of logical CPUs.
      type: int
      returned: success
    cpu_vendor:
      description: CPU vendor, for example C(GenuineIntel).
      type: str
      returned: success
    cpu_model:
      description: CPU model name.
      type: str
      returned: success
    cpu_speed_mhz:
      description: CPU speed.
      type: int
      returned: success
    cpu_usage_percent:
      description: Mean utilisation over all CPUs, null when the host reports none.
      type: float
      returned: success
    memory_total_mib:
      description: Host memory.
      type: int
      returned: success
    memory_free_mib:
      description: Free host memory; estimated from the memory of resident VMs when the host does not report it.
      type: int
      returned: success
    product_brand:
      description: Product, for example C(XCP-ng).
      type: str
      returned: success
    software_version:
      description: Product version.
      type: str
      returned: success
    platform_version:
      description: Platform version.
      type: str
      returned: success
    resident_vms:
      description: Names of the VMs running on the host (no control domain, no filter).
      type: list
      elements: str
      returned: success
    resident_vm_count:
      description: Number of VMs running on the host.
      type: int
      returned: success
    disk_read_kib_s:
      description:
        - Disk reads of the VMs on the host (control domain included), KiB/s over the window.
        - Null with O(io_metrics=false) or when the host did not answer.
      type: dict
      returned: success
      contains:
        avg:
          description: Average over the window.
          type: float
          returned: success
        max:
          description: Highest one-minute value in the window.
          type: float
          returned: success
    disk_write_kib_s:
      description: Disk writes, like RV(hosts[].disk_read_kib_s).
      type: dict
      returned: success
    disk_kib_s:
      description: Disk reads plus writes (the console's "Disks" column), like RV(hosts[].disk_read_kib_s).
      type: dict
      returned: success
    net_rx_kib_s:
      description:
        - Received on the host's physical interfaces, KiB/s over the window.
        - Null with O(io_metrics=false) or when the host did not answer.
      type: dict
      returned: success
    net_tx_kib_s:
      description: Sent on the host's physical interfaces, like RV(hosts[].net_rx_kib_s).
      type: dict
      returned: success
    net_kib_s:
      description: Received plus sent (the console's "Network" column), like RV(hosts[].net_rx_kib_s).
      type: dict
      returned: success
srs:
  description: Storage repositories, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: SR name.
      type: str
      returned: success
    uuid:
      description: SR uuid.
      type: str
      returned: success
    type:
      description: SR type, for example C(lvmoiscsi).
      type: str
      returned: success
    content_type:
      description: Content type, for example C(user) or C(iso).
      type: str
      returned: success
    shared:
      description: Whether the SR is shared by the pool.
      type: bool
      returned: success
    physical_size_gib:
      description: Size.
      type: float
      returned: success
    physical_utilisation_gib:
      description: Space used.
      type: float
      returned: success
    virtual_allocation_gib:
      description: Sum of the virtual sizes of the disks.
      type: float
      returned: success
    utilisation_percent:
      description: Space used as a percentage of the size.
      type: float
      returned: success
    attached_hosts:
      description: Names of the hosts whose PBD is plugged.
      type: list
      elements: str
      returned: success
    role:
      description:
        - What the SR is for. V(vm-storage) holds VM disks; V(iso) is an ISO library; V(dvd), V(removable) and V(tools)
          are the SRs every host has from installation (udev DVD drives and removable storage, the guest-tools ISOs).
        - The console overview shows only V(vm-storage) SRs.
      type: str
      returned: success
      choices: [vm-storage, iso, dvd, removable, tools]
networks:
  description: Networks, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Network name.
      type: str
      returned: success
    uuid:
      description: Network uuid.
      type: str
      returned: success
    bridge:
      description: Bridge name in dom0.
      type: str
      returned: success
    mtu:
      description: MTU.
      type: int
      returned: success
    pif_count:
      description: Number of host interfaces on the network.
      type: int
      returned: success
vms:
  description: VMs (and templates with O(include_templates)), sorted by name; never control domains.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
      returned: success
    uuid:
      description: VM uuid.
      type: str
      returned: success
    power_state:
      description: "C(Running), C(Halted), C(Paused) or C(Suspended)."
      type: str
      returned: success
    is_template:
      description: Whether it is a template or snapshot.
      type: bool
      returned: success
    host:
      description: Name of the host it runs on, null when not running.
      type: str
      returned: success
    host_uuid:
      description: Uuid of that host.
      type: str
      returned: success
    vcpus:
      description: vCPUs at startup.
      type: int
      returned: success
    memory_mib:
      description: Static maximum memory.
      type: int
      returned: success
    memory_actual_mib:
      description: Memory in use by the running VM (0 when not running).
      type: int
      returned: success
    cpu_usage_percent:
      description: Mean vCPU utilisation, null when not running or not reported.
      type: float
      returned: success
    disks:
      description: Virtual disks, by device number.
      type: list
      elements: dict
      returned: success
      contains:
        device:
          description: Device number (userdevice).
          type: str
          returned: success
        name:
          description: Disk name.
          type: str
          returned: success
        uuid:
          description: Disk (VDI) uuid.
          type: str
          returned: success
        size_gib:
          description: Virtual size.
          type: float
          returned: success
        sr:
          description: Name of the SR holding the disk.
          type: str
          returned: success
        sr_uuid:
          description: Uuid of that SR.
          type: str
          returned: success
    nics:
      description: Virtual network interfaces, by device number.
      type: list
      elements: dict
      returned: success
      contains:
        device:
          description: Device number.
          type: str
          returned: success
        mac:
          description: MAC address.
          type: str
          returned: success
        network:
          description: Network name.
          type: str
          returned: success
        network_uuid:
          description: Network uuid.
          type: str
          returned: success
    ip:
      description: First IPv4 address reported by the guest agent, null without one.
      type: str
      returned: success
    ips:
      description: Every address reported by the guest agent.
      type: list
      elements: str
      returned: success
    os_name:
      description: Guest OS name reported by the guest agent.
      type: str
      returned: success
    pv_drivers_detected:
      description: Whether the guest runs PV drivers.
      type: bool
      returned: success
    tags:
      description: VM tags.
      type: list
      elements: str
      returned: success
    ha_restart_priority:
      description: HA restart priority as xapi has it (V(restart), V(best-effort) or empty).
      type: str
      returned: success
    ha_protection:
      description: The HA screen's name for it (C(Protected), C(Restart if possible), C(Do not restart)).
      type: str
      returned: success
    agile:
      description: Whether HA could restart the VM on another host (every disk on a shared SR plugged everywhere, every network on every host).
      type: bool
      returned: success
    not_agile_because:
      description: Why the VM is not agile; empty when it is.
      type: list
      elements: str
      returned: success
    disk_read_kib_s:
      description:
        - Reads on all the VM's disks, KiB/s over the window, as V({avg, max}).
        - Null when the VM is not running, with O(io_metrics=false) or when its host did not answer.
      type: dict
      returned: success
    disk_write_kib_s:
      description: Writes on all the VM's disks, like RV(vms[].disk_read_kib_s).
      type: dict
      returned: success
    disk_kib_s:
      description: Reads plus writes (the console's "Disks" column), like RV(vms[].disk_read_kib_s).
      type: dict
      returned: success
    net_rx_kib_s:
      description: Received on all the VM's interfaces, like RV(vms[].disk_read_kib_s).
      type: dict
      returned: success
    net_tx_kib_s:
      description: Sent on all the VM's interfaces, like RV(vms[].disk_read_kib_s).
      type: dict
      returned: success
    net_kib_s:
      description: Received plus sent (the console's "Network" column), like RV(vms[].disk_read_kib_s).
      type: dict
      returned: success
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import read_overview

ARGUMENT_SPEC = {
    "include_templates": {"type": "bool", "default": False},
    "io_metrics": {"type": "bool", "default": True},
    "vms": {"type": "list", "elements": "str"},
}


def main() -> None:
    module = XenModule(ARGUMENT_SPEC, supports_check_mode=True)
    with module.session("read", "pool") as client:
        overview = read_overview(
            client, module.params["include_templates"], module.params["vms"], io_metrics=module.params["io_metrics"], warn=module.module.warn
        )
    module.exit_result(changed=False, **overview)


if __name__ == "__main__":
    main()
