#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vm
short_description: One VM of a XenServer / XCP-ng pool, declared
version_added: 0.3.0
description:
  - Creates, changes, powers and destroys one VM of the pool reached through O(hostname).
  - The VM is found by O(uuid) when given, else by O(name) within the pool. Two VMs with that name are an error;
    the module never guesses.
  - A VM that does not exist is created from O(template) (then provisioned with the template's disks on O(sr),
    as C(xe vm-install) does), from a O(snapshot) or from another VM (O(source_vm)). Its disks stay on their SR
    (fast clone) unless O(sr) names another SR (full copy).
  - "Every VM the module creates carries the ownership marker C(other_config:xenpool_managed=true). Until its last
    configuration step it is named C(xenpool-pending: <name>); a run killed half-way leaves such a VM, which the
    next run destroys with the disks it made, then creates again. So a retry never makes a duplicate."
  - Each planned step is tagged C(live), C(needs reboot) (written now, seen at the next boot) or C(needs power-off).
    On a running VM, power-off changes are refused unless O(allow_restart=true), naming the VM, the fields and the
    reason; with it the module shuts the VM down, changes it and starts it again.
  - "Placement (XenMotion): O(resident_on) names the host the VM runs on. A running VM resident on another host is migrated there
    live (C(VM.pool_migrate) with C(live=true), after C(VM.assert_can_boot_here)); it never stops running. A VM the
    plan starts or resumes starts there (C(VM.start_on), C(VM.resume_on)). A VM that stays halted or suspended
    records the host as its O(affinity) (unless O(affinity) is given too), so that it starts there later."
  - "Storage motion: a listed disk whose O(disks[].sr) differs from the SR it is on is moved live to that SR
    (C(VDI.pool_migrate)). Only the disks of a VM that is running after the plan move; for a VM that stays halted
    the move is refused (C(DISK_MOVE_NEEDS_RUNNING_VM)) rather than copied."
  - Before anything is written, a move is refused when the host is unknown, disabled or not live, has no PIF on one of
    the VM's networks (C(VM_REQUIRES_NETWORK), naming the network), cannot see one of its SRs (C(VM_REQUIRES_SR)),
    or has too little free memory (C(HOST_NOT_ENOUGH_FREE_MEMORY), computed as xapi does from the pool read once),
    and when the target SR of a disk lacks the space (C(SR_FULL)).
  - The plan is returned in RV(plan); in check mode nothing is written and RV(vm) is the prediction.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  name:
    description: Name label of the VM (its identity unless O(uuid) is given).
    type: str
    required: true
    aliases: [name_label]
  uuid:
    description: Uuid of an existing VM. Then O(name) is only used in messages.
    type: str
  state:
    description: V(absent) destroys the VM (its disks only with O(destroy_disks)).
    type: str
    choices: [present, absent]
    default: present
  power_state:
    description:
      - Desired power state. V(restarted) reboots a running VM (or starts a halted one) on every run.
      - Unset, the power state is left alone and a created VM stays halted.
    type: str
    choices: [running, halted, suspended, restarted]
  description:
    description: Description of the VM. A created VM gets an empty description unless this is set.
    type: str
  template:
    description: Name or uuid of the template to create the VM from (only used when the VM does not exist).
    type: str
  snapshot:
    description: Name or uuid of a snapshot to create the VM from.
    type: str
  source_vm:
    description: Name or uuid of a VM to clone or copy.
    type: str
  sr:
    description:
      - SR (name or uuid) for the disks of a created VM and for added disks without their own O(disks[].sr).
      - Defaults to the pool's default SR.
    type: str
  vcpus:
    description:
      - vCPUs at startup. Raised live on a running VM up to O(vcpus_max) (C(VM.set_VCPUs_number_live));
        lowering it, or raising it above the current maximum, needs a halted VM.
    type: int
  vcpus_max:
    description: Maximum vCPUs (needs a halted VM to change). Raised to O(vcpus) when that is higher.
    type: int
  memory_mib:
    description:
      - Static maximum memory in MiB. The dynamic range defaults to it (no ballooning).
      - Must not exceed the largest host's memory. Changing the static range needs a halted VM.
    type: int
  memory_static_min_mib:
    description: Static minimum in MiB (xapi's order is static_min <= dynamic_min <= dynamic_max <= static_max).
    type: int
  memory_dynamic_min_mib:
    description: Dynamic minimum in MiB; the dynamic range is changed live on a running VM.
    type: int
  memory_dynamic_max_mib:
    description: Dynamic maximum in MiB.
    type: int
  domain_type:
    description: Virtualisation mode. Changing it needs a halted VM.
    type: str
    choices: [pv, hvm, pvh]
  boot_order:
    description: HVM boot order (C(HVM_boot_params:order)), for example V(c) disk, V(dc) CD then disk, V(nc) network then disk.
    type: str
  pv_args:
    description: Kernel command line of a PV guest (seen at the next boot).
    type: str
  install:
    description:
      - How a created VM installs its operating system; applied once, at creation, never on later runs (the
        installer hands over afterwards).
      - V(kickstart) (PV Linux) sets C(other_config:install-repository) to O(install.repository) and the kernel
        command line to C(ks=<kickstart_url> <kernel_args>); the template's eliloader boots the installer from the
        repository and hands the VM over to pygrub once installed.
      - V(iso) (HVM) inserts O(install.iso) from an ISO library SR into a CD drive and sets the boot order to V(dc);
        with O(wait_for_ip=true) the CD is ejected and the boot order set to V(c) once the installed OS reports an
        address; otherwise declare O(cdrom.iso) as empty and O(boot_order=c) after the install.
      - V(netboot) (HVM; Windows WDS/RIS, Linux PXE) sets the boot order to V(nc), network first, then disk.
    type: dict
    suboptions:
      method:
        description: Install method.
        type: str
        required: true
        choices: [kickstart, iso, netboot]
      repository:
        description: Install repository URL (kickstart).
        type: str
      kickstart_url:
        description: URL of the kickstart file (kickstart).
        type: str
      kernel_args:
        description: More kernel arguments for the installer (kickstart).
        type: str
      iso:
        description: Name or uuid of the install ISO in an ISO SR (iso).
        type: str
  disks:
    description:
      - Disks by position (C(userdevice)) or name. A disk without O(disks[].position) or O(disks[].name) is at its
        index in the list.
      - Disks grow (online where the SR supports it, otherwise the VM must be halted) and never shrink.
      - Disks that exist and are not listed are kept unless O(purge_disks=true).
    type: list
    elements: dict
    suboptions:
      position:
        description: Device position (C(userdevice)), V(0) is the first disk.
        type: str
      name:
        description: Name label of the disk (its identity when O(disks[].position) is not given).
        type: str
      size_gib:
        description: Size in GiB (required for a new disk).
        type: float
      sr:
        description:
          - SR of a new disk (default O(sr)).
          - For an existing disk, the SR it should be on; a different SR moves it live (storage XenMotion, running VMs only).
        type: str
  purge_disks:
    description: Detach disks that are not listed in O(disks). Their VDIs are kept unless O(destroy_disks=true).
    type: bool
    default: false
  destroy_disks:
    description: Destroy the VDIs of detached disks and, with O(state=absent), of the destroyed VM. Data is lost.
    type: bool
    default: false
  nics:
    description: NICs in order (the list index is the device unless O(nics[].position) is given); a NIC whose network or MAC differs is replaced.
    type: list
    elements: dict
    suboptions:
      network:
        description: Name or uuid of the network.
        type: str
        required: true
      mac:
        description: MAC address; unset, xapi generates one. A MAC used by another VIF of the pool is refused.
        type: str
      position:
        description: Device number.
        type: str
  purge_nics:
    description: Remove NICs not listed in O(nics).
    type: bool
    default: false
  cdrom:
    description: The CD drive; inserting and ejecting are live. A drive is added when the VM has none.
    type: dict
    suboptions:
      iso:
        description: Name or uuid of an ISO in an ISO library SR; an empty string ejects.
        type: str
        required: true
  affinity:
    description: Name of the host the VM prefers to start on; an empty string clears it.
    type: str
  resident_on:
    description:
      - Name or uuid of the host the VM should run on (xapi's C(resident_on)). A running VM elsewhere is migrated
        live; a VM started by this run starts there; a VM that stays halted or suspended gets it as its O(affinity)
        unless O(affinity) is set.
      - Unset, the VM runs wherever xapi put it.
      - Not called C(host), which is an alias of O(hostname), the host the module talks to.
    type: str
  xenstore_data:
    description: Keys of C(xenstore_data) (seen by the guest at the next boot).
    type: dict
  purge_xenstore_data:
    description: Remove keys not in O(xenstore_data).
    type: bool
    default: false
  ha_restart_priority:
    description: HA protection, V(restart) (Protected), V(best-effort) (Restart if possible) or an empty string (Do not restart).
    type: str
    choices: [restart, best-effort, ""]
  order:
    description: HA restart order (lower first).
    type: int
  start_delay:
    description: Seconds to wait after starting this VM before the next one in HA restart order.
    type: int
  allow_restart:
    description: Let the module shut down and restart a running VM for changes that need it (and reboot it for C(needs reboot) changes).
    type: bool
    default: false
  wait_for_ip:
    description: After applying, wait up to O(wait_timeout) seconds until the guest agent reports an IPv4 address (never in check mode).
    type: bool
    default: false
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.other_config
  - vdc.xenpool.wait.TIMEOUT
  - vdc.xenpool.tags
seealso:
  - module: vdc.xenpool.vms
  - module: vdc.xenpool.vm_info
"""

EXAMPLES = r"""
- name: A PV web server cloned from the pool's golden template, running with an IP
  vdc.xenpool.vm:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    name: web1
    template: golden-sl6
    sr: NetApp iSCSI pool-intel
    vcpus: 1
    memory_mib: 1024
    disks: [{size_gib: 12}]
    nics: [{network: Pool-wide network associated with eth0}]
    power_state: running
    wait_for_ip: true

- name: Scientific Linux installed by kickstart (PV)
  vdc.xenpool.vm:
    hostname: xen-intel-01.example.com
    name: it-dcot-dev
    template: CentOS 7
    memory_mib: 2048
    install:
      method: kickstart
      repository: http://linuxsoft.example.org/scientific/6x/x86_64/os/
      kickstart_url: http://install.example.org/ks/it-dcot-dev.cfg
      kernel_args: ksdevice=eth0
    nics: [{network: Pool-wide network associated with eth0}]
    power_state: running

- name: Solaris, HVM from an ISO in the ISO library
  vdc.xenpool.vm:
    hostname: xen-amd-01.example.com
    name: solaris1
    template: Other install media
    domain_type: hvm
    memory_mib: 2048
    disks: [{size_gib: 20}]
    install: {method: iso, iso: sol-11_4-x86.iso}
    power_state: running

- name: Windows Server 2008 by network boot (WDS)
  vdc.xenpool.vm:
    hostname: xen-amd-01.example.com
    name: win2008-1
    template: Windows Server 2008 R2 (64-bit)
    install: {method: netboot}
    power_state: running

- name: Everyday ISO mounting, and a disk grown on the fly
  vdc.xenpool.vm:
    hostname: xen-intel-01.example.com
    name: web1
    cdrom: {iso: tools.iso}
    disks: [{size_gib: 20}]
    allow_restart: true

- name: XenMotion - web1 moves live to xen-intel-02 and its data disk to the NFS SR, without stopping
  vdc.xenpool.vm:
    hostname: xen-intel-01.example.com
    name: web1
    resident_on: xen-intel-02
    disks:
      - {position: "1", sr: NFS vmstore}

- name: Gone, disks included
  vdc.xenpool.vm:
    hostname: xen-intel-01.example.com
    name: old-test-vm
    state: absent
    destroy_disks: true
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.vm_notes
vm:
  description:
    - The VM after the change (in check mode the prediction); empty when absent.
    - Keys include name, uuid, description, power_state, managed, vcpus, vcpus_max, memory_mib and the memory range
      in MiB, domain_type, boot_order, pv_args, affinity, host (where it runs, none when halted), tags, other_config, xenstore_data,
      ha_restart_priority, order, start_delay, disks (position, name, size_gib, sr, uuid), nics (position,
      network, mac), cdrom (iso), ip, ips.
  returned: always
  type: dict
  sample: {"name": "web1", "uuid": "e0483378-7dc6-47ff-af75-cfd81607755c", "power_state": "running", "vcpus": 1,
           "memory_mib": 1024, "disks": [{"position": "0", "name": "0", "size_gib": 12.0, "sr": "NetApp iSCSI pool-intel",
           "uuid": "c6d99e2f-ceea-4af1-8cc2-393f9b30fc50"}], "ip": "10.1.54.61"}
plan:
  description: The planned steps, one line each, with the impact in brackets unless live.
  returned: always
  type: list
  elements: str
  sample: ["shut down VM [needs power-off]", "set memory: 1024/1024/1024/1024 -> 1024/1024/2048/2048 MiB [needs power-off]",
           "start VM", "migrate web1 from xen-intel-01 to xen-intel-02", "move disk 1 of web1 from SR iSCSI to SR NFS vmstore"]
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import WAIT_TIMEOUT_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import mask_mapping
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.ha import guard_protection_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import VM_CLASSES
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_apply import VmApplier, marker_for
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import diff_view, plan_vm
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import VM_SPEC, normalise

ARGUMENT_SPEC = dict(VM_SPEC, **WAIT_TIMEOUT_SPEC)


def desired_state(params):
    """The declared VM, normalised; refusals that need no pool are raised here."""
    return normalise(params)


def main():
    module = XenModule(ARGUMENT_SPEC, mutually_exclusive=[("template", "snapshot", "source_vm")])
    params = module.params
    verb = "remove" if params["state"] == "absent" else "configure"
    try:
        desired = desired_state(params)
    except CollectionError as err:
        module.fail(verb, "VM", params["name"], err)
    with module.session(verb, "VM", params["name"]) as client:
        state = read_pool_state(client, VM_CLASSES)
        if module.check_mode:
            state.predicted = []
        plan = plan_vm(state, desired, marker_for(state))
        guard_protection_changes(client, state, [(getattr(plan, "ref", None), plan)])
        after, diff_after = plan.after, plan.after
        if plan.changed and not module.check_mode:
            applier = VmApplier(client, state, timeout=params["wait_timeout"])
            after = applier.apply(plan, getattr(plan, "ref", None), wait_for_ip=params["wait_for_ip"]) or {}
            diff_after = diff_view(after, desired) if after else {}
    module.exit_result(changed=plan.changed, before=mask_mapping(plan.before), after=mask_mapping(diff_after),
                       plan=plan.summary(), vm=mask_mapping(after or {}), **({"notes": state.predicted} if state.predicted else {}))


if __name__ == "__main__":
    main()
