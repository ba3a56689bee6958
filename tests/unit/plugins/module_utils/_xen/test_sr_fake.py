# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared iSCSI storage on top of the unit-test FakeXapi, written from how xapi and the sm drivers behave.

A LUN is a dict with a size, the initiators allowed to see it and an optional on-disk SR (uuid + VDIs).
SR.create formats it, SR.introduce/PBD.plug/SR.scan read it, SR.destroy wipes it, SR.forget leaves it.
Error codes and the probe's XML-in-errors follow xapi (ocaml/xapi/xapi_sr.ml) and sm (drivers/LVHDoISCSISR.py,
drivers/XE_SR_ERRORCODES.xml), not the module under test.
The self-tests at the bottom keep the fake honest.
"""

from __future__ import annotations

import uuid as uuidlib

from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import NULL, FakeXapi, failure, new_ref, success

GIB = 1024 ** 3
LVM_OVERHEAD = 12 * 1024 * 1024
TARGET_IQN = "iqn.1992-08.com.netapp:sn.0123456789abcdef:vs.3"
PORTALS = ("192.0.2.21", "192.0.2.22")
WRITES = ("SR.create", "SR.introduce", "SR.forget", "SR.destroy", "SR.scan", "SR.set_name_label", "SR.set_name_description",
          "SR.set_other_config", "SR.add_to_other_config", "SR.remove_from_other_config", "SR.add_tags", "SR.remove_tags",
          "PBD.create", "PBD.plug", "PBD.unplug", "PBD.destroy", "pool.set_default_SR")


class Fail(Exception):
    def __init__(self, *error: str) -> None:
        super().__init__(error)
        self.error = [str(e) for e in error]


def backend(number: int, text: str, stderr: str = "") -> Fail:
    return Fail("SR_BACKEND_FAILURE_%d" % number, "", text, stderr)


class StorageXapi(FakeXapi):
    """FakeXapi plus SR/PBD writes and a one-target iSCSI SAN."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.luns: dict[str, dict] = {}
        self.handlers = {
            "SR.probe": self.sr_probe, "SR.create": self.sr_create, "SR.introduce": self.sr_introduce, "SR.forget": self.sr_forget,
            "SR.destroy": self.sr_destroy, "SR.scan": self.sr_scan, "SR.set_name_label": self.setter("name_label"),
            "SR.set_name_description": self.setter("name_description"), "SR.set_other_config": self.setter("other_config"),
            "SR.add_to_other_config": self.add_to_other_config, "SR.remove_from_other_config": self.remove_from_other_config,
            "SR.add_tags": self.add_tag, "SR.remove_tags": self.remove_tag, "PBD.create": self.pbd_create, "PBD.plug": self.pbd_plug,
            "PBD.unplug": self.pbd_unplug, "pool.set_default_SR": self.set_default_sr,
        }
        for name, func in self.handlers.items():
            self.async_handlers[name] = self._as_task(func)

    # -- wiring ---------------------------------------------------------------------------
    def handle(self, address: str, method: str, params: tuple) -> dict:
        func = self.handlers.get(method)
        if func is None:
            return super().handle(address, method, params)
        self.log.append((address, method, tuple(params[1:])))
        for fault in self.faults:
            if fault["method"] == method and fault["times"] > 0:
                fault["times"] -= 1
                return failure(fault["error"])
        if not params or params[0] not in self.sessions:
            return failure(["SESSION_INVALID", str(params[0]) if params else ""])
        try:
            return success(func(*params[1:]))
        except Fail as exc:
            return failure(exc.error)

    @staticmethod
    def _as_task(func):
        def run(*args):
            try:
                value = func(*args)
            except Fail as exc:
                return [{"status": "failure", "progress": 1.0, "error_info": exc.error}]
            text = "<value>%s</value>" % (value if isinstance(value, str) else "")
            return [{"status": "pending", "progress": 0.5}, {"status": "success", "progress": 1.0, "result": text}]
        return run

    def writes(self) -> list[str]:
        return [c[1] for c in self.log if c[1].replace("Async.", "") in WRITES]

    # -- seeding -------------------------------------------------------------------------------
    def seed_hosts(self, count: int = 2) -> list[str]:
        hosts = []
        for i in range(count):
            address = "127.0.0.%d" % (10 + i)
            self.add_endpoint(address, None if i == 0 else "127.0.0.10")
            iqn = "iqn.2024-01.org.example:xen-%02d" % (i + 1)
            hosts.append(self.add("host", name_label="xen-%02d" % (i + 1), address=address, iscsi_iqn=iqn,
                                  other_config={"iscsi_iqn": iqn}, multipathing=True))
        self.add("pool", name_label="pool-a", master=hosts[0], default_SR=NULL, other_config={})
        return hosts

    def add_host(self, name: str) -> str:
        iqn = "iqn.2024-01.org.example:%s" % name
        return self.add("host", name_label=name, address="127.0.0.99", iscsi_iqn=iqn, other_config={"iscsi_iqn": iqn}, multipathing=True)

    def add_lun(self, serial: str, size: int, initiators=None) -> str:
        scsi = "3600a0980" + serial.encode().hex()
        self.luns[scsi] = {"serial": serial, "size": size, "initiators": set(initiators or []), "sr": None}
        return scsi

    def allow_all(self, scsi: str) -> None:
        self.luns[scsi]["initiators"] = {h["iscsi_iqn"] for h in self.objects["host"].values()}

    def pool_ref(self) -> str:
        return next(iter(self.objects["pool"]))

    def srs(self) -> dict[str, dict]:
        return self.objects["SR"]

    def pbds(self, sr: str) -> list[dict]:
        return [p for p in self.objects["PBD"].values() if p["SR"] == sr]

    # -- helpers -------------------------------------------------------------------------------
    def _secrets(self, device_config: dict) -> dict:
        result = {}
        for key, value in device_config.items():
            if key.endswith("password"):
                secret = self.add("secret", value=value)
                result[key + "_secret"] = self.objects["secret"][secret]["uuid"]
            else:
                result[key] = value
        return result

    def _visible(self, host: str, device_config: dict) -> dict:
        """The LUN named by SCSIid as seen from host, or the matching backend failure."""
        iqn = self.objects["host"][host].get("iscsi_iqn")
        if not iqn:
            raise backend(97, "The iSCSI IQN for the host is missing")
        if not device_config.get("target"):
            raise backend(95, "The request is missing the server parameter")
        lun = self.luns.get(device_config.get("SCSIid", ""))
        if lun is None or iqn not in lun["initiators"]:
            raise backend(107, "The SCSIid parameter is missing or incorrect", self._lun_xml(iqn))
        return lun

    def _lun_xml(self, iqn: str) -> str:
        items = "".join("<LUN><vendor>NETAPP</vendor><serial>%s</serial><LUNid>%d</LUNid><size>%d</size><SCSIid>%s</SCSIid></LUN>"
                        % (lun["serial"], n, lun["size"], scsi) for n, (scsi, lun) in enumerate(self.luns.items()) if iqn in lun["initiators"])
        return "<?xml version=\"1.0\" ?><iscsi-target>%s</iscsi-target>" % items

    def _sr(self, ref: str) -> dict:
        if ref not in self.objects["SR"]:
            raise Fail("HANDLE_INVALID", "SR", ref)
        return self.objects["SR"][ref]

    def _lun_of(self, sr_ref: str) -> dict | None:
        for pbd in self.pbds(sr_ref):
            lun = self.luns.get(pbd["device_config"].get("SCSIid", ""))
            if lun:
                return lun
        return None

    # -- handlers -------------------------------------------------------------------------------
    def sr_probe(self, host, device_config, sr_type, _sm_config):
        assert sr_type in ("lvmoiscsi", "lvhdoiscsi"), sr_type
        self._secrets(device_config)
        if not device_config.get("target"):
            raise backend(95, "The request is missing the server parameter")
        iqn = self.objects["host"][host].get("iscsi_iqn")
        if not device_config.get("targetIQN"):
            tgts = "".join("<TGT><Index>%d</Index><IPAddress>%s</IPAddress><TargetIQN>%s</TargetIQN></TGT>" % (i, p, TARGET_IQN)
                           for i, p in enumerate(PORTALS))
            raise backend(96, "The request is missing or has an incorrect target IQN parameter",
                          "<iscsi-target-iqns>%s<TGT><Index>2</Index><IPAddress>%s</IPAddress><TargetIQN>*</TargetIQN></TGT>"
                          "</iscsi-target-iqns>" % (tgts, PORTALS[0]))
        if not device_config.get("SCSIid"):
            raise backend(107, "The SCSIid parameter is missing or incorrect", self._lun_xml(iqn))
        lun = self._visible(host, device_config)
        if lun["sr"] is None:
            return "<?xml version=\"1.0\" ?><SRlist/>"
        return "<?xml version=\"1.0\" ?><SRlist><SR><UUID>%s</UUID><Devlist>/dev/sdb</Devlist><size>%d</size></SR></SRlist>" % (
            lun["sr"]["uuid"], lun["size"])

    def sr_create(self, host, device_config, _physical_size, name, description, sr_type, content_type, shared, _sm):
        if sr_type == "iso":
            ref = self.add("SR", name_label=name, name_description=description, type=sr_type, content_type=content_type, shared=shared,
                           physical_size="0", physical_utilisation="0", virtual_allocation="0", other_config={}, sm_config={}, tags=[],
                           PBDs=[], VDIs=[])
            for h in self.objects["host"] if shared else [host]:
                self.pbd_plug(self.pbd_create({"host": h, "SR": ref, "device_config": device_config}))
            return ref
        lun = self._visible(host, device_config)
        for pbd in self.objects["PBD"].values():
            if pbd["device_config"].get("SCSIid") == device_config.get("SCSIid") and pbd["currently_attached"]:
                raise Fail("SR_DEVICE_IN_USE")
        uuid = str(uuidlib.uuid4())
        lun["sr"] = {"uuid": uuid, "vdis": []}
        ref = self.add("SR", uuid=uuid, name_label=name, name_description=description, type=sr_type, content_type=content_type,
                       shared=shared, physical_size=str(lun["size"] - LVM_OVERHEAD), physical_utilisation="0", virtual_allocation="0",
                       other_config={}, sm_config={}, tags=[], PBDs=[], VDIs=[])
        master = self.objects["pool"][self.pool_ref()]["master"]
        hosts = [master] + [h for h in self.objects["host"] if h != master]
        for h in hosts if shared else [host]:
            pbd = self.pbd_create({"host": h, "SR": ref, "device_config": device_config, "other_config": {}})
            try:
                self.pbd_plug(pbd)
            except Fail:
                pass  # xapi only logs plug failures after a create
        return ref

    def sr_introduce(self, uuid, name, description, sr_type, content_type, shared, _sm):
        if any(sr["uuid"] == uuid for sr in self.objects["SR"].values()):
            raise Fail("SR_UUID_EXISTS", uuid)
        return self.add("SR", uuid=uuid, name_label=name, name_description=description, type=sr_type, content_type=content_type,
                        shared=shared, physical_size="-1", physical_utilisation="-1", virtual_allocation="0", other_config={},
                        sm_config={}, tags=[], PBDs=[], VDIs=[])

    def _guard(self, ref):
        self._sr(ref)
        if any(p["currently_attached"] for p in self.pbds(ref)):
            raise Fail("SR_HAS_PBD", ref)

    def _drop(self, ref):
        for pref in [r for r, p in self.objects["PBD"].items() if p["SR"] == ref]:
            del self.objects["PBD"][pref]
        for vref in [r for r, v in self.objects["VDI"].items() if v["SR"] == ref]:
            del self.objects["VDI"][vref]
        del self.objects["SR"][ref]
        pool = self.objects["pool"][self.pool_ref()]
        if pool["default_SR"] == ref:
            pool["default_SR"] = NULL

    def sr_forget(self, ref):
        self._guard(ref)
        self._drop(ref)
        return ""

    def sr_destroy(self, ref):
        self._guard(ref)
        lun = self._lun_of(ref)
        if lun and lun["sr"] and lun["sr"]["vdis"]:
            raise Fail("SR_NOT_EMPTY")
        if lun:
            lun["sr"] = None
        self._drop(ref)
        return ""

    def sr_scan(self, ref):
        sr = self._sr(ref)
        lun = self._lun_of(ref)
        if lun and lun["sr"]:
            known = {v["uuid"] for v in self.objects["VDI"].values() if v["SR"] == ref}
            for vdi in lun["sr"]["vdis"]:
                if vdi["uuid"] not in known:
                    vref = self.add("VDI", SR=ref, uuid=vdi["uuid"], name_label=vdi["name"], virtual_size=str(vdi["size"]))
                    sr["VDIs"].append(vref)
            sr["physical_size"] = str(lun["size"] - LVM_OVERHEAD)
            sr["virtual_allocation"] = str(sum(v["size"] for v in lun["sr"]["vdis"]))
            sr["physical_utilisation"] = sr["virtual_allocation"]
        return ""

    def setter(self, field):
        def run(ref, value):
            self._sr(ref)[field] = value
            return ""
        return run

    def add_to_other_config(self, ref, key, value):
        sr = self._sr(ref)
        if key in sr["other_config"]:
            raise Fail("MAP_DUPLICATE_KEY", "SR", "other_config", ref, key)
        sr["other_config"][key] = value
        return ""

    def remove_from_other_config(self, ref, key):
        self._sr(ref)["other_config"].pop(key, None)
        return ""

    def add_tag(self, ref, tag):
        tags = self._sr(ref)["tags"]
        if tag not in tags:
            tags.append(tag)
        return ""

    def remove_tag(self, ref, tag):
        tags = self._sr(ref)["tags"]
        if tag in tags:
            tags.remove(tag)
        return ""

    def pbd_create(self, record):
        sr = self._sr(record["SR"])
        for ref, pbd in self.objects["PBD"].items():
            if pbd["SR"] == record["SR"] and pbd["host"] == record["host"]:
                raise Fail("PBD_EXISTS", record["SR"], record["host"], ref)
        ref = self.add("PBD", host=record["host"], SR=record["SR"], device_config=self._secrets(record["device_config"]),
                       other_config=dict(record.get("other_config") or {}), currently_attached=False)
        sr["PBDs"].append(ref)
        return ref

    def pbd_plug(self, ref):
        pbd = self.objects["PBD"].get(ref)
        if pbd is None:
            raise Fail("HANDLE_INVALID", "PBD", ref)
        if pbd["currently_attached"]:
            return ""
        dc = pbd["device_config"]
        if dc.get("SCSIid"):
            try:
                self._visible(pbd["host"], dc)
            except Fail as exc:
                if exc.error[0] == "SR_BACKEND_FAILURE_107":
                    raise backend(47, "The SR is not available [opterr=no such volume group]") from None
                raise
            paths = len(dc.get("target", "").split(",")) if self.objects["host"][pbd["host"]].get("multipathing") else 1
            pbd["other_config"]["mpath-%s" % dc["SCSIid"]] = "[%d, %d]" % (paths, paths)
        pbd["currently_attached"] = True
        return ""

    def pbd_unplug(self, ref):
        self.objects["PBD"][ref]["currently_attached"] = False
        return ""

    def set_default_sr(self, pool, ref):
        self.objects["pool"][pool]["default_SR"] = ref
        return ""

    def write_vdi(self, scsi: str, name: str, size: int) -> None:
        """A VDI as it sits on the LUN (what a VM disk written by a host leaves behind)."""
        self.luns[scsi]["sr"]["vdis"].append({"uuid": str(uuidlib.uuid4()), "name": name, "size": size})


def test_fake_probe_stages_and_format():
    xapi = StorageXapi()
    hosts = xapi.seed_hosts(2)
    scsi = xapi.add_lun("wf0Iq+N4uck3", 100 * GIB)
    xapi.allow_all(scsi)
    base = {"target": "192.0.2.21", "targetIQN": TARGET_IQN}
    for dc, code in (({"target": "192.0.2.21"}, "SR_BACKEND_FAILURE_96"), (base, "SR_BACKEND_FAILURE_107")):
        try:
            xapi.sr_probe(hosts[0], dc, "lvmoiscsi", {})
        except Fail as exc:
            assert exc.error[0] == code
            assert exc.error[3].startswith("<")
        else:
            raise AssertionError("probe stage did not fail")
    assert "<SR>" not in xapi.sr_probe(hosts[0], dict(base, SCSIid=scsi), "lvmoiscsi", {})
    ref = xapi.sr_create(hosts[0], dict(base, SCSIid=scsi), "0", "sr", "", "lvmoiscsi", "user", True, {})
    assert all(p["currently_attached"] for p in xapi.pbds(ref)) and len(xapi.pbds(ref)) == 2
    assert xapi.srs()[ref]["uuid"] in xapi.sr_probe(hosts[0], dict(base, SCSIid=scsi), "lvmoiscsi", {})
    assert new_ref() != new_ref()
