# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""NFS SRs and ISO libraries on simulated NFS exports (--nfs-exports, /sim/nfs/exports)."""
from __future__ import annotations

import xml.dom.minidom

import pytest
import XenAPI
import yaml

from conftest import connect, start_sim

GIB = 1024 ** 3
MIB = 1024 ** 2
SERVER = "127.0.0.60"
DATACENTER = {
    "name": "nfs",
    "credentials": {"username": "root", "password": "nfs-sim-pw"},
    "host_groups": [{"name_prefix": "nfs-", "count": 2, "cpu": {"vendor": "GenuineIntel", "cores": 4}, "memory_gib": 16,
                     "nics": 2}],
    "pools": [{"name_label": "nfs-pool", "master": "nfs-01", "members": ["nfs-02"]}],
}


@pytest.fixture(scope="module", name="nfs_sim")
def nfs_sim_fixture(tmp_path_factory):
    path = tmp_path_factory.mktemp("dc") / "nfs.yml"
    path.write_text(yaml.safe_dump(DATACENTER))
    sim = start_sim(tmp_path_factory, "nfs", None,
                    ["--datacenter", str(path), "--nfs-exports", "%s:/export/xen,%s:/export/iso" % (SERVER, SERVER)])
    yield sim
    sim.stop()


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def uuids(text: str) -> list[str]:
    return [n.firstChild.data.strip() for n in xml.dom.minidom.parseString(text).getElementsByTagName("UUID")]


def test_nfs_sr_lifecycle(nfs_sim):
    x = connect(nfs_sim).xenapi
    master = x.pool.get_master(x.pool.get_all()[0])
    assert details(x.SR.probe, master, {}, "nfs", {})[0] == "SR_BACKEND_FAILURE_102"
    assert details(x.SR.probe, master, {"server": "127.0.0.99"}, "nfs", {})[0] == "SR_BACKEND_FAILURE_108"
    err = details(x.SR.probe, master, {"server": SERVER}, "nfs", {})
    assert err[0] == "SR_BACKEND_FAILURE_101"
    paths = [n.firstChild.data for n in xml.dom.minidom.parseString(err[3]).getElementsByTagName("Path")]
    assert paths == ["/export/iso", "/export/xen"]
    assert details(x.SR.probe, master, {"server": SERVER, "serverpath": "/export/none"}, "nfs", {})[0] == \
        "SR_BACKEND_FAILURE_73"
    config = {"server": SERVER, "serverpath": "/export/xen", "nfsversion": "4.1"}
    assert details(x.SR.probe, master, dict(config, nfsversion="5"), "nfs", {})[0] == "SR_BACKEND_FAILURE_72"
    assert uuids(x.SR.probe(master, config, "nfs", {})) == []
    sr = x.SR.create(master, config, "0", "nfs-sr", "", "nfs", "", True, {})
    sr_uuid = x.SR.get_uuid(sr)
    pbds = x.SR.get_PBDs(sr)
    assert len(pbds) == 2 and all(x.PBD.get_currently_attached(p) for p in pbds)
    assert x.SR.get_physical_size(sr) == str(1024 * GIB)
    vdi = x.VDI.create({"SR": sr, "name_label": "nfs-disk", "name_description": "", "virtual_size": str(5 * GIB),
                        "type": "user", "sharable": False, "read_only": False, "other_config": {}})
    vdi_uuid = x.VDI.get_uuid(vdi)
    assert uuids(x.SR.probe(master, config, "nfs", {})) == [sr_uuid]
    pool = x.pool.get_all()[0]
    x.pool.set_default_SR(pool, sr)
    assert x.pool.get_default_SR(pool) == sr
    for pbd in pbds:
        x.PBD.unplug(pbd)
    x.SR.forget(sr)
    assert x.pool.get_default_SR(pool) == sr, "xapi keeps the dangling reference (xe: <not in database>)"
    assert details(x.SR.get_record, sr)[0] == "HANDLE_INVALID"
    sr = x.SR.introduce(sr_uuid, "nfs-sr", "", "nfs", "", True, {})
    pbd = x.PBD.create({"host": master, "SR": sr, "device_config": config, "other_config": {}})
    x.PBD.plug(pbd)
    assert [x.VDI.get_uuid(v) for v in x.SR.get_VDIs(sr)] == [vdi_uuid]
    assert x.VDI.get_name_label(x.SR.get_VDIs(sr)[0]) == "nfs-disk"
    # a second, new SR on the same export is a separate directory: both listed by probe
    other = x.SR.create(master, config, "0", "nfs-sr-2", "", "nfs", "", True, {})
    assert sorted(uuids(x.SR.probe(master, config, "nfs", {}))) == sorted([sr_uuid, x.SR.get_uuid(other)])
    x.VDI.destroy(x.SR.get_VDIs(sr)[0])
    x.PBD.unplug(pbd)
    x.SR.destroy(sr)
    assert uuids(x.SR.probe(master, config, "nfs", {})) == [x.SR.get_uuid(other)]
    # PBD.plug of an SR whose directory is gone: mount fails
    gone = x.SR.introduce(sr_uuid, "gone", "", "nfs", "", True, {})
    pbd = x.PBD.create({"host": master, "SR": gone, "device_config": config, "other_config": {}})
    assert details(x.PBD.plug, pbd)[0] == "SR_BACKEND_FAILURE_73"


def test_iso_library(nfs_sim):
    x = connect(nfs_sim).xenapi
    master = x.pool.get_master(x.pool.get_all()[0])
    nfs_sim.control.request("POST", "nfs/exports", {"server": SERVER, "path": "/export/iso",
                                                    "files": {"debian-12.iso": 650 * MIB, "notes.txt": 100}})
    assert details(x.SR.create, master, {}, "0", "isos", "", "iso", "iso", True, {})[0] == "SR_BACKEND_FAILURE_220"
    assert details(x.SR.create, master, {"location": "%s:/export/nope" % SERVER}, "0", "isos", "", "iso", "iso", True,
                   {})[0] == "SR_BACKEND_FAILURE_222"
    sr = x.SR.create(master, {"location": "%s:/export/iso" % SERVER}, "0", "ISO library", "", "iso", "iso", True, {})
    assert x.SR.get_content_type(sr) == "iso" and x.SR.get_shared(sr) is True
    assert all(x.PBD.get_currently_attached(p) for p in x.SR.get_PBDs(sr)) and len(x.SR.get_PBDs(sr)) == 2
    vdis = {x.VDI.get_name_label(v): v for v in x.SR.get_VDIs(sr)}
    assert list(vdis) == ["debian-12.iso"]
    assert x.VDI.get_read_only(vdis["debian-12.iso"]) is True
    assert x.VDI.get_virtual_size(vdis["debian-12.iso"]) == str(650 * MIB)
    nfs_sim.control.request("POST", "nfs/exports", {"server": SERVER, "path": "/export/iso",
                                                    "files": {"rocky-9.iso": 900 * MIB}})
    x.SR.scan(sr)
    assert sorted(x.VDI.get_name_label(v) for v in x.SR.get_VDIs(sr)) == ["debian-12.iso", "rocky-9.iso"]
    assert x.SR.get_physical_utilisation(sr) == str(1550 * MIB)
