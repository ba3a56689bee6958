# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One SAN between the simulators: ONTAP LUNs carry the SR data that xapisim's lvmoiscsi driver reads and writes.

Both simulators run as real processes; ONTAP objects are made over ONTAP REST,
everything on the Xen side goes through the official XenAPI client.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import xml.dom.minidom

import pytest
import XenAPI
import yaml

from conftest import connect, start_sim
from ontapsim.testing import RestClient, start_ontapsim

GIB = 1024 ** 3
MIB = 1024 ** 2
SVM = "svm_san2"  # iSCSI service running, data LIFs 192.0.2.31 / 192.0.2.32
PORTAL = "192.0.2.31"
CHAP_PASSWORD = "chap-pw-never-in-logs"
DATACENTER = {
    "name": "sanfabric",
    "credentials": {"username": "root", "password": "san-fabric-sim-pw"},
    "host_groups": [{"name_prefix": "san-", "count": 3, "cpu": {"vendor": "GenuineIntel", "cores": 4}, "memory_gib": 16,
                     "nics": 2}],
}


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def ctl(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def xml_texts(text: str, tag: str) -> list[str]:
    return [n.firstChild.data.strip() for n in xml.dom.minidom.parseString(text).getElementsByTagName(tag) if n.firstChild]


@pytest.fixture(scope="module", name="fabric")
def fabric_fixture(tmp_path_factory):
    ontap = start_ontapsim(str(tmp_path_factory.mktemp("san_ontap")))
    path = tmp_path_factory.mktemp("san_dc") / "san.yml"
    path.write_text(yaml.safe_dump(DATACENTER))
    args = ["--datacenter", str(path), "--san", ontap.ready["control"]]
    xen = start_sim(tmp_path_factory, "san_xen", None, args)
    state = {"ontap": ontap, "xen": xen, "args": args, "tmp": tmp_path_factory}
    try:
        yield state
    finally:
        state["xen"].stop()
        ontap.stop()


def make_lun(api: RestClient, vol: str, size: int) -> dict:
    status, body, _h = api.request("POST", "/api/storage/volumes",
                                   {"name": vol, "svm.name": SVM, "aggregates": [{"name": "aggr2"}], "size": 4 * size,
                                    "guarantee": {"type": "none"}}, params={"return_timeout": 30})
    assert status in (200, 201), body
    status, body, headers = api.request("POST", "/api/storage/luns",
                                        {"svm.name": SVM, "name": "/vol/%s/lun0" % vol, "os_type": "xen",
                                         "space.size": size}, params={"return_timeout": 30})
    assert status == 201, body
    uuid = headers["Location"].rsplit("/", 1)[1]
    lun = api.get("/api/storage/luns/%s" % uuid, fields="serial_number,space.size")[1]
    return {"uuid": uuid, "serial": lun["serial_number"], "path": "/vol/%s/lun0" % vol,
            "scsi_id": "3600a0980" + lun["serial_number"].encode("ascii").hex()}


def test_san_end_to_end(fabric):
    ontap, xen = fabric["ontap"], fabric["xen"]
    api = RestClient(ontap.ready)
    lun = make_lun(api, "xen_sr_vol", 100 * GIB)
    target_iqn = api.get("/api/protocols/san/iscsi/services", **{"svm.name": SVM, "fields": "target.name"}
                         )[1]["records"][0]["target"]["name"]
    session = connect(xen, 0)
    x = session.xenapi
    master = x.pool.get_master(x.pool.get_all()[0])
    member_session = connect(xen, 1)
    member_session.xenapi.pool.join(xen.ready["hosts"][0]["address"], xen.ready["username"], "san-fabric-sim-pw")
    member = [h for h in x.host.get_all() if h != master][0]
    master_iqn, member_iqn = x.host.get_iscsi_iqn(master), x.host.get_iscsi_iqn(member)
    # igroup with the coordinator only, upper-case (ONTAP compares initiators case-insensitively)
    status, body, _h = api.request("POST", "/api/protocols/san/igroups",
                                   {"name": "xenpool", "svm.name": SVM, "os_type": "xen", "protocol": "iscsi",
                                    "initiators": [{"name": master_iqn.upper()}]})
    assert status == 201, body
    ig_uuid = _h["Location"].rsplit("/", 1)[1]
    status, body, _h = api.request("POST", "/api/protocols/san/lun-maps",
                                   {"svm.name": SVM, "igroup.name": "xenpool", "lun.name": lun["path"]})
    assert status == 201, body

    # --- probe stages (member not in the igroup: it discovers the target but sees no LUN)
    base = {"target": PORTAL, "chapuser": "xenuser", "chappassword": CHAP_PASSWORD}
    err = details(x.SR.probe, master, base, "lvmoiscsi", {})
    assert err[0] == "SR_BACKEND_FAILURE_96"
    assert xml_texts(err[3], "TargetIQN") == [target_iqn, target_iqn, "*"]
    assert xml_texts(err[3], "IPAddress") == ["192.0.2.31", "192.0.2.32", "192.0.2.31"]
    err = details(x.SR.probe, master, dict(base, targetIQN=target_iqn), "lvmoiscsi", {})
    assert err[0] == "SR_BACKEND_FAILURE_107"
    assert xml_texts(err[3], "SCSIid") == [lun["scsi_id"]] and xml_texts(err[3], "serial") == [lun["serial"]]
    assert xml_texts(err[3], "size") == [str(100 * GIB)] and xml_texts(err[3], "vendor") == ["NETAPP"]
    err = details(x.SR.probe, member, dict(base, targetIQN=target_iqn), "lvmoiscsi", {})
    assert err[0] == "SR_BACKEND_FAILURE_107" and xml_texts(err[3], "SCSIid") == []
    full = dict(base, targetIQN=target_iqn, SCSIid=lun["scsi_id"])
    assert xml_texts(x.SR.probe(master, full, "lvmoiscsi", {}), "UUID") == []

    # --- create on the 2-host pool: member PBD stays unplugged (IQN not in the igroup)
    x.host.set_multipathing(master, True)
    sr = x.SR.create(master, full, "0", "san-sr", "on ONTAP", "lvmoiscsi", "", True, {})
    sr_uuid = x.SR.get_uuid(sr)
    pbds = {x.PBD.get_host(p): p for p in x.SR.get_PBDs(sr)}
    assert set(pbds) == {master, member}
    assert x.PBD.get_currently_attached(pbds[master]) is True
    assert x.PBD.get_currently_attached(pbds[member]) is False
    err = details(x.PBD.plug, pbds[member])
    assert err[0] == "SR_BACKEND_FAILURE_47" and member_iqn in err[2]
    assert x.SR.get_physical_size(sr) == str(100 * GIB)
    assert ctl(ontap.ready["control"] + "/ontap/luns/%s/data" % lun["serial"])["data"]["sr_uuid"] == sr_uuid
    # multipath on the coordinator: one path per data LIF
    other = x.PBD.get_other_config(pbds[master])
    assert other["mpath-" + lun["scsi_id"]] == "[2, 2]" and other["multipathed"] == "true"
    assert x.PBD.get_device_config(pbds[master])["multihomelist"] == "192.0.2.31:3260,192.0.2.32:3260"
    assert "multihomelist" not in x.PBD.get_device_config(pbds[member])
    sm_config = x.SR.get_sm_config(sr)
    assert sm_config["multipathable"] == "true" and sm_config["devserial"] == "scsi-" + lun["scsi_id"]
    assert sm_config["allocation"] == "thick" and sm_config["use_vhd"] == "true"
    # secrets instead of CHAP passwords, one per PBD
    configs = [x.PBD.get_device_config(p) for p in pbds.values()]
    assert all("chappassword" not in c and "chappassword_secret" in c for c in configs)
    assert len({c["chappassword_secret"] for c in configs}) == 2
    for conf in configs:
        assert x.secret.get_value(x.secret.get_by_uuid(conf["chappassword_secret"])) == CHAP_PASSWORD
    assert CHAP_PASSWORD not in json.dumps(xen.control.calls())
    assert CHAP_PASSWORD not in json.dumps(ctl(ontap.ready["control"] + "/calls"))

    # --- fix the igroup on ONTAP: the plug now works, without multipath on the member
    status, body, _h = api.request("POST", "/api/protocols/san/igroups/%s/initiators" % ig_uuid, {"name": member_iqn})
    assert status == 201, body
    x.PBD.plug(pbds[member])
    assert x.PBD.get_currently_attached(pbds[member]) is True
    assert "mpath-" + lun["scsi_id"] not in x.PBD.get_other_config(pbds[member])

    # --- VDIs persist on the LUN; utilisation follows them
    vdis = {}
    for name, size in (("disk-a", 10 * GIB), ("disk-b", 3 * MIB)):
        vdis[name] = x.VDI.create({"SR": sr, "name_label": name, "name_description": "", "virtual_size": str(size),
                                   "type": "user", "sharable": False, "read_only": False, "other_config": {}})
    assert x.VDI.get_virtual_size(vdis["disk-b"]) == str(4 * MIB)  # LVHD rounds up to 2 MiB
    assert x.SR.get_physical_utilisation(sr) == str(10 * GIB + 4 * MIB + 4 * MIB)
    x.VDI.set_name_label(vdis["disk-b"], "disk-b-renamed")
    # disks made by other code paths (VM.provision) land on the LUN too
    pool = x.pool.get_all()[0]
    x.pool.set_default_SR(pool, sr)
    vm = x.VM.clone(x.VM.get_by_name_label("Debian Bookworm 12")[0], "from-template")
    disks = x.VM.get_other_config(vm)["disks"].replace('sr=""', 'sr="%s"' % sr_uuid)
    x.VM.remove_from_other_config(vm, "disks")
    x.VM.add_to_other_config(vm, "disks", disks)
    x.VM.provision(vm)
    vdis["provisioned"] = [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(vm) if x.VBD.get_type(b) == "Disk"][0]
    provisioned_name = x.VDI.get_name_label(vdis["provisioned"])
    names = sorted(["disk-a", "disk-b-renamed", provisioned_name])
    on_lun = ctl(ontap.ready["control"] + "/ontap/luns/%s/data" % lun["serial"])["data"]
    assert sorted(v["name_label"] for v in on_lun["vdis"].values()) == names
    vdi_uuids = sorted(x.VDI.get_uuid(v) for v in vdis.values())
    assert xml_texts(x.SR.probe(member, full, "lvmoiscsi", {}), "UUID") == [sr_uuid]

    # --- forget (SR_HAS_PBD while plugged), introduce + PBD.create + plug: the VDIs come back
    assert details(x.SR.forget, sr) == ["SR_HAS_PBD", sr]
    for pbd in pbds.values():
        x.PBD.unplug(pbd)
    assert "mpath-" + lun["scsi_id"] not in x.PBD.get_other_config(pbds[master])
    x.SR.forget(sr)
    assert [v for v in x.VDI.get_all_records().values() if v["uuid"] in vdi_uuids] == []
    sr = x.SR.introduce(sr_uuid, "san-sr", "", "lvmoiscsi", "", True, {})
    assert x.SR.get_physical_size(sr) == "-1"
    new_pbds = [x.PBD.create({"host": h, "SR": sr, "device_config": full, "other_config": {}}) for h in (master, member)]
    for pbd in new_pbds:
        x.PBD.plug(pbd)
    x.SR.scan(sr)
    back = {x.VDI.get_uuid(v): x.VDI.get_name_label(v) for v in x.SR.get_VDIs(sr)}
    assert sorted(back) == vdi_uuids and sorted(back.values()) == names
    assert x.SR.get_physical_size(sr) == str(100 * GIB)

    # --- grow the LUN on ONTAP, SR.scan picks it up
    status, body, _h = api.request("PATCH", "/api/storage/luns/%s" % lun["uuid"], {"space": {"size": 150 * GIB}},
                                   params={"return_timeout": 30})
    assert status in (200, 202), body
    x.SR.scan(sr)
    assert x.SR.get_physical_size(sr) == str(150 * GIB)
    # a data LIF goes down: the path count drops, the max seen stays (sm mpathcount)
    mpath_key = "mpath-" + lun["scsi_id"]
    master_pbd = [p for p in new_pbds if x.PBD.get_host(p) == master][0]
    assert x.PBD.get_other_config(master_pbd)[mpath_key] == "[2, 2]"
    ctl(ontap.ready["control"] + "/ontap/lifs", "POST", {"address": "192.0.2.32", "enabled": False})
    x.SR.scan(sr)
    assert x.PBD.get_other_config(master_pbd)[mpath_key] == "[1, 2]"
    ctl(ontap.ready["control"] + "/ontap/lifs", "POST", {"address": "192.0.2.32", "enabled": True})
    x.SR.scan(sr)
    assert x.PBD.get_other_config(master_pbd)[mpath_key] == "[2, 2]"

    # --- restart xapisim (ontapsim keeps running): a fresh pool reattaches the SR from the LUN alone
    fabric["xen"].stop()
    xen = fabric["xen"] = start_sim(fabric["tmp"], "san_xen2", None, fabric["args"])
    x = connect(xen, 0).xenapi
    master = x.pool.get_master(x.pool.get_all()[0])
    assert x.SR.get_all_records_where('field "type" = "lvmoiscsi"') == {}
    assert xml_texts(x.SR.probe(master, full, "lvmoiscsi", {}), "UUID") == [sr_uuid]
    sr = x.SR.introduce(sr_uuid, "san-sr", "", "lvmoiscsi", "", True, {})
    pbd = x.PBD.create({"host": master, "SR": sr, "device_config": full, "other_config": {}})
    x.PBD.plug(pbd)
    assert sorted(x.VDI.get_uuid(v) for v in x.SR.get_VDIs(sr)) == vdi_uuids
    assert x.SR.get_physical_size(sr) == str(150 * GIB)

    # --- destroy: SR_NOT_EMPTY with VDIs, then wipes the LUN
    x.PBD.unplug(pbd)
    assert details(x.SR.destroy, sr) == ["SR_NOT_EMPTY"]
    x.PBD.plug(pbd)
    for vdi in x.SR.get_VDIs(sr):
        x.VDI.destroy(vdi)
    assert x.SR.get_physical_utilisation(sr) == str(4 * MIB)
    x.PBD.unplug(pbd)
    x.SR.destroy(sr)
    assert ctl(ontap.ready["control"] + "/ontap/luns/%s/data" % lun["serial"])["data"] is None
    assert xml_texts(x.SR.probe(master, full, "lvmoiscsi", {}), "UUID") == []


def test_create_formats_the_lun(fabric):
    """SR.create over an SR that was only forgotten: the old VG and its VDIs are gone, reattach fails."""
    ontap, xen = fabric["ontap"], fabric["xen"]
    api = RestClient(ontap.ready)
    lun = make_lun(api, "xen_fmt_vol", 20 * GIB)
    x = connect(xen, 2).xenapi  # the third host, standalone
    host = x.pool.get_master(x.pool.get_all()[0])
    status, body, _h = api.request("POST", "/api/protocols/san/igroups",
                                   {"name": "fmt", "svm.name": SVM, "os_type": "xen", "protocol": "iscsi",
                                    "initiators": [{"name": x.host.get_iscsi_iqn(host)}]})
    assert status == 201, body
    assert api.request("POST", "/api/protocols/san/lun-maps",
                       {"svm.name": SVM, "igroup.name": "fmt", "lun.name": lun["path"]})[0] == 201
    target_iqn = api.get("/api/protocols/san/iscsi/services", **{"svm.name": SVM, "fields": "target.name"}
                         )[1]["records"][0]["target"]["name"]
    full = {"target": PORTAL, "targetIQN": target_iqn, "SCSIid": lun["scsi_id"]}
    old = x.SR.create(host, full, "0", "old", "", "lvhdoiscsi", "", True, {})
    old_uuid = x.SR.get_uuid(old)
    x.VDI.create({"SR": old, "name_label": "lost", "name_description": "", "virtual_size": str(GIB), "type": "user",
                  "sharable": False, "read_only": False, "other_config": {}})
    for pbd in x.SR.get_PBDs(old):
        x.PBD.unplug(pbd)
    x.SR.forget(old)
    new = x.SR.create(host, full, "0", "new", "", "lvmoiscsi", "", True, {})
    assert x.SR.get_VDIs(new) == []
    new_uuid = x.SR.get_uuid(new)
    assert xml_texts(x.SR.probe(host, full, "lvmoiscsi", {}), "UUID") == [new_uuid]
    assert details(x.SR.create, host, full, "0", "again", "", "lvmoiscsi", "", True, {})[0] == "SR_DEVICE_IN_USE"
    for pbd in x.SR.get_PBDs(new):
        x.PBD.unplug(pbd)
    x.SR.forget(new)
    stale = x.SR.introduce(old_uuid, "old", "", "lvmoiscsi", "", True, {})
    pbd = x.PBD.create({"host": host, "SR": stale, "device_config": full, "other_config": {}})
    err = details(x.PBD.plug, pbd)
    assert err[0] == "SR_BACKEND_FAILURE_47" and old_uuid in err[2]
    x.PBD.destroy(pbd)
    x.SR.forget(stale)
    assert ctl(ontap.ready["control"] + "/ontap/luns/%s/data" % lun["serial"])["data"]["sr_uuid"] == new_uuid
    # the data area dies with the LUN
    status, body, _h = api.request("DELETE", "/api/storage/luns/%s" % lun["uuid"],
                                   params={"allow_delete_while_mapped": "true", "return_timeout": 30})
    assert status in (200, 202), body
    with pytest.raises(urllib.error.HTTPError) as info:
        ctl(ontap.ready["control"] + "/ontap/luns/%s/data" % lun["serial"])
    assert info.value.code == 404
    assert details(x.SR.probe, host, full, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_107"


def test_chap_on_ontap(fabric):
    """CHAP configured per initiator on the SVM: discovery and login need it; PBDs use their secret."""
    ontap, xen = fabric["ontap"], fabric["xen"]
    api = RestClient(ontap.ready)
    lun = make_lun(api, "xen_chap_vol", 10 * GIB)
    x = connect(xen, 2).xenapi
    host = x.pool.get_master(x.pool.get_all()[0])
    iqn = x.host.get_iscsi_iqn(host)
    status, body, _h = api.request("POST", "/api/protocols/san/igroups",
                                   {"name": "chap", "svm.name": SVM, "os_type": "xen", "protocol": "iscsi",
                                    "initiators": [{"name": iqn}]})
    assert status == 201, body
    assert api.request("POST", "/api/protocols/san/lun-maps",
                       {"svm.name": SVM, "igroup.name": "chap", "lun.name": lun["path"]})[0] == 201
    chap_url = ontap.ready["control"] + "/ontap/chap"
    ctl(chap_url, "POST", {"svm": SVM, "initiator": iqn.upper(), "user": "xenchap", "password": CHAP_PASSWORD})
    try:
        assert details(x.SR.probe, host, {"target": PORTAL}, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_68"
        wrong = {"target": PORTAL, "chapuser": "xenchap", "chappassword": "nope"}
        assert details(x.SR.probe, host, wrong, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_68"
        good = {"target": PORTAL, "chapuser": "xenchap", "chappassword": CHAP_PASSWORD}
        err = details(x.SR.probe, host, good, "lvmoiscsi", {})
        assert err[0] == "SR_BACKEND_FAILURE_96"
        target_iqn = xml_texts(err[3], "TargetIQN")[0]
        full = dict(good, targetIQN=target_iqn, SCSIid=lun["scsi_id"])
        sr = x.SR.create(host, full, "0", "chap-sr", "", "lvmoiscsi", "", True, {})
        pbd = x.SR.get_PBDs(sr)[0]
        assert x.PBD.get_currently_attached(pbd) is True
        assert "chappassword" not in x.PBD.get_device_config(pbd)
        # the array changes the CHAP password: the next login (plug) fails, SRUnavailable around ISCSILogin (sm texts)
        x.PBD.unplug(pbd)
        ctl(chap_url, "POST", {"svm": SVM, "initiator": iqn, "user": "xenchap", "password": "rotated-on-array"})
        err = details(x.PBD.plug, pbd)
        assert err[0] == "SR_BACKEND_FAILURE_47" and err[2].startswith("The SR is not available [opterr=ISCSI login failed")
        ctl(chap_url, "POST", {"svm": SVM, "initiator": iqn, "user": "xenchap", "password": CHAP_PASSWORD})
        x.PBD.plug(pbd)
        assert x.PBD.get_currently_attached(pbd) is True
        for text in (json.dumps(xen.control.calls()), json.dumps(ctl(ontap.ready["control"] + "/calls")),
                     json.dumps(ctl(ontap.ready["control"] + "/state"))):
            assert CHAP_PASSWORD not in text and "rotated-on-array" not in text
    finally:
        ctl(chap_url, "POST", {"svm": SVM, "initiator": iqn, "user": ""})
