# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""--generate builds VMs like a real estate's, so that benchmarks at 2,000 VMs read what a real pool would hold:
varied vCPUs and memory, a system disk and often a data disk on the shared SR, one or two VIFs, and for running
VMs the guest metrics (OS, IP addresses) of a booted guest."""
from __future__ import annotations

from conftest import connect, start_sim


def test_generated_vms_have_disks_vifs_and_guest_metrics(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "generated-shapes", None, ["--generate", "hosts=4,vms=16"])
    try:
        x = connect(sim).xenapi
        vms = {ref: rec for ref, rec in x.VM.get_all_records().items() if not rec["is_a_template"] and not rec["is_control_domain"]}
        vbds, vifs = x.VBD.get_all_records(), x.VIF.get_all_records()
        vdis, srs = x.VDI.get_all_records(), x.SR.get_all_records()
        metrics = x.VM_guest_metrics.get_all_records()
        assert len(vms) == 16
        assert len({rec["VCPUs_at_startup"] for rec in vms.values()}) >= 3
        assert len({rec["memory_static_max"] for rec in vms.values()}) >= 3
        disks_per_vm = []
        for ref, rec in vms.items():
            assert rec["power_state"] == "Running"
            disks = [vbds[v] for v in rec["VBDs"] if vbds[v]["type"] == "Disk"]
            disks_per_vm.append(len(disks))
            assert all(srs[vdis[d["VDI"]]["SR"]]["shared"] for d in disks), "disks live on the shared SR"
            assert [d["bootable"] for d in sorted(disks, key=lambda d: d["userdevice"])][0] is True
            assert {vifs[v]["VM"] for v in rec["VIFs"]} == {ref} and 1 <= len(rec["VIFs"]) <= 2
            guest = metrics[rec["guest_metrics"]]
            assert guest["os_version"] and guest["networks"], "a booted guest reports its OS and addresses"
        assert set(disks_per_vm) == {1, 2}, "some VMs have a data disk, some do not"
        assert {len(rec["VIFs"]) for rec in vms.values()} == {1, 2}
    finally:
        sim.stop()
