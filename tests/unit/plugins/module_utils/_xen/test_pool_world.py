# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small multi-database XenAPI world for the pool/host/network service and module tests.

Each standalone host has its own database (pool of one), like separate xapi installations; pool.join
moves the joiner's host and hardware into the master's database. Clients follow HOST_IS_SLAVE like
XenClient does. Every call is logged with its endpoint, so tests can assert "no write in check mode"
and "no join was attempted". The tests at the end check the fake itself against xapi's rules.
"""

from __future__ import annotations

import copy
import itertools
import uuid as uuidlib

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenConnectionError

NULL = "OpaqueRef:NULL"
_counter = itertools.count(1)
READ_PREFIXES = ("get_", "session.", "task.get_record", "task.destroy")
SW = {"product_brand": "XCP-ng", "platform_version": "3.4.0", "xapi": "24.19", "git_id": "0", "network_backend": "openvswitch", "db_schema": "5.780"}
FEATURES = {"GenuineIntel": "1fcbfbff-f7fa3223", "AuthenticAMD": "178bfbff-f6f83203"}


def ref() -> str:
    return "OpaqueRef:%08d-%s" % (next(_counter), uuidlib.uuid4().hex[:8])


def is_write(method: str) -> bool:
    name = method[len("Async."):] if method.startswith("Async.") else method
    message = name.partition(".")[2]
    return not (message.startswith(("get_", "get_all")) or name.startswith(("session.", "task.")))


class World:
    """Databases, endpoints and the call log."""

    def __init__(self, password: str = "pw-S3cret") -> None:
        self.username = "root"
        self.password = password
        self.dbs: list[dict] = []
        self.hosts: dict[str, tuple[dict, str]] = {}
        self.log: list[tuple[str, str, tuple]] = []
        self.lost_answers: dict[str, str] = {}  # method -> "drop" | "apply": the next call of it loses its answer

    # -- building -----------------------------------------------------------------------
    def standalone(self, name: str, address: str, vendor: str = "GenuineIntel", running_vms: int = 0, nics: int = 4) -> str:
        classes = ("pool", "host", "host_metrics", "PIF", "network", "VM", "SR", "PBD", "Bond", "VLAN", "VIF", "task")
        db: dict = {c: {} for c in classes}
        host, metrics = ref(), ref()
        db["host_metrics"][metrics] = {"uuid": str(uuidlib.uuid4()), "live": True}
        db["host"][host] = {
            "uuid": str(uuidlib.uuid4()), "name_label": name, "name_description": "", "address": address, "hostname": name,
            "enabled": True, "metrics": metrics, "cpu_info": {"vendor": vendor, "features_hvm": FEATURES[vendor]}, "software_version": dict(SW),
            "other_config": {"iscsi_iqn": "iqn.default:" + name, "multipathing": "false"}, "iscsi_iqn": "iqn.default:" + name,
            "multipathing": False, "edition": "xcp-ng", "API_version_major": "2", "API_version_minor": "21",
            "external_auth_type": "", "external_auth_service_name": "",
        }
        for n in range(nics):
            net = ref()
            db["network"][net] = {"uuid": str(uuidlib.uuid4()), "name_label": "Pool-wide network associated with eth%d" % n,
                                  "name_description": "", "bridge": "xenbr%d" % n, "MTU": "1500", "other_config": {}}
            db["PIF"][ref()] = {"uuid": str(uuidlib.uuid4()), "host": host, "network": net, "device": "eth%d" % n, "VLAN": "-1",
                                "physical": True, "management": n == 0, "bond_slave_of": NULL, "VLAN_master_of": NULL,
                                "ip_configuration_mode": "Static" if n == 0 else "None", "IP": address if n == 0 else "",
                                "netmask": "255.0.0.0" if n == 0 else "", "gateway": "", "currently_attached": n == 0}
        sr = ref()
        db["SR"][sr] = {"uuid": str(uuidlib.uuid4()), "name_label": "Local storage", "shared": False, "is_tools_sr": False}
        db["VM"][ref()] = {"uuid": str(uuidlib.uuid4()), "name_label": "Control domain on host: " + name, "is_control_domain": True,
                           "power_state": "Running", "resident_on": host, "current_operations": {}}
        for i in range(running_vms):
            self.add_vm(db, host, "%s-vm%d" % (name, i))
        db["pool"][ref()] = {"uuid": str(uuidlib.uuid4()), "name_label": "", "name_description": "", "master": host,
                             "default_SR": sr, "other_config": {}, "tags": [], "ha_enabled": False,
                             "tls_verification_enabled": True, "cpu_info": {"vendor": vendor, "features_hvm": FEATURES[vendor]}}
        self.dbs.append(db)
        self.hosts[address] = (db, host)
        return host

    @staticmethod
    def add_vm(db: dict, host: str, name: str, power_state: str = "Running") -> str:
        vm = ref()
        db["VM"][vm] = {"uuid": str(uuidlib.uuid4()), "name_label": name, "is_control_domain": False, "power_state": power_state,
                        "resident_on": host if power_state == "Running" else NULL, "current_operations": {}}
        return vm

    def db_of(self, address: str) -> dict:
        return self.hosts[address][0]

    def master_address(self, db: dict) -> str:
        pool = next(iter(db["pool"].values()))
        return db["host"][pool["master"]]["address"]

    def pool_of(self, address: str) -> dict:
        return next(iter(self.db_of(address)["pool"].values()))

    def member_names(self, address: str) -> list[str]:
        return sorted(h["name_label"] for h in self.db_of(address)["host"].values())

    def writes(self) -> list[tuple[str, str, tuple]]:
        return [c for c in self.log if is_write(c[1])]

    def calls(self, method: str) -> list[tuple[str, str, tuple]]:
        return [c for c in self.log if c[1] == method]

    def client(self, address: str, username: str = "root", password: str | None = None) -> "FakeClient":
        return FakeClient(self, address, username, self.password if password is None else password)

    # -- the pool operations ----------------------------------------------------------------
    def join(self, joiner_address: str, master_address: str) -> None:
        jdb = self.hosts[joiner_address][0]
        mdb = self.hosts[master_address][0]
        by_bridge = {n["bridge"]: r for r, n in mdb["network"].items()}
        for pif in jdb["PIF"].values():
            pif["network"] = by_bridge.get(jdb["network"][pif["network"]]["bridge"], pif["network"])
        for cls in ("host", "host_metrics", "PIF", "VM", "SR"):
            mdb[cls].update(jdb[cls])
        self.dbs.remove(jdb)
        for address, (db, h) in list(self.hosts.items()):
            if db is jdb:
                self.hosts[address] = (mdb, h)

    def eject(self, db: dict, host: str) -> None:
        rec = db["host"].pop(host)
        for cls in ("PIF", "VM"):
            for r in [r for r, v in db[cls].items() if v.get("host") == host or v.get("resident_on") == host]:
                del db[cls][r]
        address = rec["address"]
        del self.hosts[address]
        self.standalone(rec["name_label"], address, rec["cpu_info"]["vendor"])


class FakeClient:
    """Same surface as XenClient (login, close, call, call_async, url, calls); no wire underneath."""

    def __init__(self, world: World, address: str, username: str, password: str) -> None:
        self.world = world
        self.address = address
        self.url = "https://%s/" % address
        self.username = username
        self._password = password
        self.logged_in = False

    def login(self) -> None:
        if self.logged_in:
            return
        self.world.log.append((self.address, "session.login_with_password", ()))
        if self.address not in self.world.hosts:
            raise XenConnectionError("unreachable: Connection refused", self.url)
        if self.username != self.world.username or self._password != self.world.password:
            raise XapiError("SESSION_AUTHENTICATION_FAILED", [self.username, "Authentication failure"])
        master = self.world.master_address(self.world.db_of(self.address))
        if master != self.address:
            self.address = master
            self.url = "https://%s/" % master
        self.logged_in = True

    def close(self) -> None:
        self.logged_in = False

    def __enter__(self) -> "FakeClient":
        self.login()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def db(self) -> dict:
        return self.world.db_of(self.address)

    def call_async(self, method: str, *args) -> str:
        return str(self.call("Async." + method, *args))

    def call(self, method: str, *args):
        self.login()
        self.world.log.append((self.address, method, args))
        lost = self.world.lost_answers.get(method)
        if lost is not None:  # the connection drops: before the call is applied ("drop") or after it ("apply")
            del self.world.lost_answers[method]
            if lost == "apply":
                self._dispatch(method[len("Async."):] if method.startswith("Async.") else method, args)
            raise XenConnectionError("unreachable: Connection reset by peer", self.url)
        if method.startswith("Async."):
            task = ref()
            try:
                value = self._dispatch(method[len("Async."):], args)
                record = {"status": "success", "result": "<value>%s</value>" % (value or ""), "error_info": []}
            except XapiError as err:
                record = {"status": "failure", "result": "", "error_info": [err.code] + err.params}
            self.world.db_of(self.address)["task"][task] = dict(record, name_label=method)
            return task
        return self._dispatch(method, args)

    def _dispatch(self, method: str, args: tuple):  # pylint: disable=too-many-return-statements,too-many-branches
        cls, _dot, msg = method.partition(".")
        db = self.db
        if msg == "get_all_records":
            return copy.deepcopy(db.get(cls, {}))
        if method == "task.get_record":
            return copy.deepcopy(db["task"][args[0]])
        if method == "task.destroy":
            db["task"].pop(args[0], None)
            return ""
        if method in ("pool.join", "pool.join_force"):
            return self._join(args, force=method.endswith("force"))
        if method == "pool.eject":
            self.world.eject(db, args[0])
            return ""
        if method == "pool.designate_new_master":
            next(iter(db["pool"].values()))["master"] = args[0]
            return ""
        if method == "host.get_vms_which_prevent_evacuation":
            others = [h for h, rec in db["host"].items() if h != args[0] and rec["enabled"]]
            vms = [v for v, rec in db["VM"].items() if rec["resident_on"] == args[0] and not rec["is_control_domain"]]
            return {} if others or not vms else {v: ["NO_HOSTS_AVAILABLE", v] for v in vms}
        if method == "host.evacuate":
            dest = next(h for h, rec in db["host"].items() if h != args[0] and rec["enabled"])
            for rec in db["VM"].values():
                if rec["resident_on"] == args[0] and not rec["is_control_domain"]:
                    rec["resident_on"] = dest
            return ""
        if method in ("host.enable", "host.disable"):
            db["host"][args[0]]["enabled"] = method == "host.enable"
            return ""
        if method == "host.set_iscsi_iqn":
            db["host"][args[0]].update(iscsi_iqn=args[1])
            db["host"][args[0]]["other_config"]["iscsi_iqn"] = args[1]
            return ""
        if method == "host.set_multipathing":
            db["host"][args[0]].update(multipathing=bool(args[1]))
            db["host"][args[0]]["other_config"]["multipathing"] = "true" if args[1] else "false"
            return ""
        if method == "network.create":
            net = ref()
            db["network"][net] = dict(args[0], uuid=str(uuidlib.uuid4()), bridge="xapi%d" % len(db["network"]))
            return net
        if method == "VLAN.create":
            tagged, tag, net = args
            base = db["PIF"][tagged]
            untagged, vlan = ref(), ref()
            db["PIF"][untagged] = dict(base, uuid=str(uuidlib.uuid4()), network=net, VLAN=str(tag), physical=False, management=False,
                                       VLAN_master_of=vlan, ip_configuration_mode="None", IP="", netmask="", gateway="")
            db["VLAN"][vlan] = {"tagged_PIF": tagged, "untagged_PIF": untagged, "tag": str(tag)}
            return vlan
        if method == "VLAN.destroy":
            vlan = db["VLAN"].pop(args[0])
            db["PIF"].pop(vlan["untagged_PIF"], None)
            return ""
        if method == "Bond.create":
            net, members, _mac, mode, _props = args
            first = db["PIF"][members[0]]
            master, bond = ref(), ref()
            db["PIF"][master] = dict(first, uuid=str(uuidlib.uuid4()), network=net, device="bond0", physical=False, management=False,
                                     ip_configuration_mode="None", IP="")
            db["Bond"][bond] = {"master": master, "slaves": list(members), "mode": mode}
            for pif in members:
                db["PIF"][pif]["bond_slave_of"] = bond
            return bond
        if method == "Bond.set_mode":
            db["Bond"][args[0]]["mode"] = args[1]
            return ""
        if method == "PIF.reconfigure_ip":
            pif, mode, ip, netmask, gateway, _dns = args
            db["PIF"][pif].update(ip_configuration_mode=mode, IP=ip, netmask=netmask, gateway=gateway)
            return ""
        if method == "network.destroy":
            del db["network"][args[0]]
            return ""
        if msg.startswith("add_to_"):
            field = db[cls][args[0]][msg[len("add_to_"):]]
            if args[1] in field:
                raise XapiError("MAP_DUPLICATE_KEY", [cls, msg[len("add_to_"):], args[0], args[1]])
            field[args[1]] = args[2]
            return ""
        if msg.startswith("remove_from_"):
            db[cls][args[0]][msg[len("remove_from_"):]].pop(args[1], None)
            return ""
        if msg == "add_tags":
            tags = db[cls][args[0]]["tags"]
            if args[1] not in tags:
                tags.append(args[1])
            return ""
        if msg == "remove_tags":
            tags = db[cls][args[0]]["tags"]
            if args[1] in tags:
                tags.remove(args[1])
            return ""
        if msg.startswith("set_"):
            field = {"default_SR": "default_SR"}.get(msg[4:], msg[4:])
            db[cls][args[0]][field] = args[1]
            return ""
        raise XapiError("MESSAGE_METHOD_UNKNOWN", [method])

    def _join(self, args: tuple, force: bool) -> str:
        master_address, username, password = args
        if (username, password) != (self.world.username, self.world.password):
            raise XapiError("SESSION_AUTHENTICATION_FAILED", [username, "Authentication failure"])
        jdb = self.db
        mdb = self.world.db_of(master_address)
        host = next(iter(jdb["host"].values()))
        mpool = next(iter(mdb["pool"].values()))
        if any(v["power_state"] == "Running" for v in jdb["VM"].values() if not v["is_control_domain"]):
            raise XapiError("JOINING_HOST_CANNOT_HAVE_RUNNING_VMS")
        if not force and host["cpu_info"]["vendor"] != mpool["cpu_info"]["vendor"]:
            raise XapiError("HOSTS_NOT_HOMOGENEOUS", ["CPUs differ"])
        self.world.join(self.address, master_address)
        return ""


# -- tests of the fake itself -----------------------------------------------------------------
@pytest.fixture
def world():
    w = World()
    w.standalone("xen-a", "10.0.0.1")
    w.standalone("xen-b", "10.0.0.2")
    return w


def test_map_add_of_existing_key_raises_like_xapi(world):
    client = world.client("10.0.0.1")
    pool = next(iter(client.call("pool.get_all_records")))
    client.call("pool.add_to_other_config", pool, "k", "v")
    with pytest.raises(XapiError) as info:
        client.call("pool.add_to_other_config", pool, "k", "v")
    assert info.value.code == "MAP_DUPLICATE_KEY"


def test_member_login_redirects_to_master_after_join(world):
    joiner = world.client("10.0.0.2")
    task = joiner.call_async("pool.join", "10.0.0.1", "root", world.password)
    assert joiner.call("task.get_record", task)["status"] == "success"
    late = world.client("10.0.0.2")
    late.login()
    assert late.url == "https://10.0.0.1/"
    assert world.member_names("10.0.0.1") == ["xen-a", "xen-b"]


def test_wrong_password_is_refused(world):
    with pytest.raises(XapiError) as info:
        world.client("10.0.0.1", password="nope").login()
    assert info.value.code == "SESSION_AUTHENTICATION_FAILED"


def test_reads_are_not_writes():
    assert not is_write("host.get_all_records")
    assert not is_write("task.get_record")
    assert is_write("Async.pool.join")
    assert is_write("pool.set_name_label")
