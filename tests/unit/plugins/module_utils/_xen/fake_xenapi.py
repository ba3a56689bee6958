# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An in-memory XenAPI behind an xmlrpc transport, for unit tests.

It sits below the official XenAPI.Session (which the client under test really uses): requests are
real XML-RPC bodies, answers are real Status/Value/ErrorDescription envelopes with real error codes,
ints travel as strings like on xapi, and every request is logged (without session refs or passwords).
"""

from __future__ import annotations

import collections
import socket
import ssl
import uuid as uuidlib
import xmlrpc.client

NULL = "OpaqueRef:NULL"
MIB = 1024 * 1024
GIB = 1024 * MIB


def new_ref() -> str:
    return "OpaqueRef:" + str(uuidlib.uuid4())


class FakeXapi:
    """Hosts (by address) sharing one store; the master answers logins, members answer HOST_IS_SLAVE."""

    def __init__(self, username: str = "root", password: str = "s3cr3t-Pa55") -> None:
        self.username = username
        self.password = password
        self.objects: dict[str, dict[str, dict]] = collections.defaultdict(dict)
        self.masters: dict[str, str | None] = {}  # address -> master address (None: is master)
        self.sessions: dict[str, str] = {}
        self.log: list[tuple[str, str, tuple]] = []
        self.faults: list[dict] = []
        self.network_errors: dict[str, BaseException] = {}
        self.task_script: dict[str, list[dict]] = {}
        self.async_handlers: dict[str, object] = {}

    # -- wiring -------------------------------------------------------------------------------
    def add_endpoint(self, address: str, master: str | None = None) -> None:
        self.masters[address] = master

    def transport_factory(self, scheme, context, timeout):  # pylint: disable=unused-argument
        return FakeTransport(self)

    def fail(self, method: str, error: list, times: int = 1) -> None:
        """The next `times` calls of method answer with ErrorDescription `error`."""
        self.faults.append({"method": method, "error": list(error), "times": times})

    def calls(self, method: str | None = None) -> list[tuple[str, str, tuple]]:
        return [c for c in self.log if method is None or c[1] == method]

    def counters(self) -> collections.Counter:
        return collections.Counter(c[1] for c in self.log)

    def open_sessions(self) -> int:
        return len(self.sessions)

    # -- dispatch -------------------------------------------------------------------------------
    def handle(self, address: str, method: str, params: tuple) -> dict:
        logged = params[2:] if method == "session.login_with_password" else params[1:]
        self.log.append((address, method, tuple(logged)))
        for fault in self.faults:
            if fault["method"] == method and fault["times"] > 0:
                fault["times"] -= 1
                return failure(fault["error"])
        if method == "session.login_with_password":
            return self._login(address, params)
        if not params or params[0] not in self.sessions:
            return failure(["SESSION_INVALID", str(params[0]) if params else ""])
        args = params[1:]
        if method == "session.logout":
            del self.sessions[params[0]]
            return success("")
        if method.startswith("Async."):
            return self._async(method[len("Async."):], args)
        cls, _dot, message = method.partition(".")
        if method == "task.destroy":
            self.objects["task"].pop(args[0], None)
            return success("")
        if message == "get_all_records":
            return success({ref: self._wire(cls, ref) for ref in self.objects.get(cls, {})})
        if message == "get_all":
            return success(list(self.objects.get(cls, {})))
        if message == "get_record":
            if args[0] not in self.objects.get(cls, {}):
                return failure(["HANDLE_INVALID", cls, args[0]])
            return success(self._wire(cls, args[0]))
        if message.startswith("get_") and cls in self.objects:
            field = message[4:]
            record = self.objects[cls].get(args[0])
            if record is None:
                return failure(["HANDLE_INVALID", cls, args[0]])
            if field in record:
                return success(record[field])
        return failure(["MESSAGE_METHOD_UNKNOWN", method])

    def _login(self, address: str, params: tuple) -> dict:
        user, password = params[0], params[1]
        master = self.masters.get(address)
        if master:
            return failure(["HOST_IS_SLAVE", master])
        if user != self.username or password != self.password:
            return failure(["SESSION_AUTHENTICATION_FAILED", user, "Authentication failure"])
        ref = new_ref()
        self.sessions[ref] = address
        return success(ref)

    def _wire(self, cls: str, ref: str) -> dict:
        if cls == "task":
            script = self.task_script.get(ref)
            if script and len(script) > 1:
                self.objects["task"][ref].update(script.pop(0))
            elif script:
                self.objects["task"][ref].update(script[0])
        return self.objects[cls][ref]

    def _async(self, method: str, args: tuple) -> dict:
        handler = self.async_handlers.get(method)
        if handler is None:
            return failure(["MESSAGE_METHOD_UNKNOWN", "Async." + method])
        return success(self.add_task(method, handler(*args)))

    def add_task(self, name: str, script: list[dict]) -> str:
        """A task whose record takes the successive updates in script, one per read."""
        ref = new_ref()
        self.objects["task"][ref] = {
            "uuid": str(uuidlib.uuid4()), "name_label": name, "status": "pending", "progress": 0.0,
            "result": "", "error_info": [],
        }
        self.task_script[ref] = list(script)
        return ref

    # -- data -------------------------------------------------------------------------------
    def add(self, cls: str, **fields) -> str:
        ref = new_ref()
        fields.setdefault("uuid", str(uuidlib.uuid4()))
        self.objects[cls][ref] = fields
        return ref

    def seed_pool(self, hosts: int = 1, vms: int = 1, address_base: int = 10) -> dict:
        """A pool with `hosts` hosts (first = master), a shared SR, a local SR per host, one network
        per host NIC, control domains, one template and `vms` VMs spread over the hosts."""
        host_refs = []
        for i in range(hosts):
            address = "127.0.0.%d" % (address_base + i)
            self.add_endpoint(address, None if i == 0 else "127.0.0.%d" % address_base)
            metrics = self.add("host_metrics", memory_total=str(64 * GIB), memory_free="0", live=True)
            ref = self.add(
                "host", name_label="xen-%02d" % (i + 1), address=address, hostname="xen-%02d" % (i + 1), enabled=True,
                metrics=metrics, memory_overhead=str(512 * MIB), resident_VMs=[],
                software_version={"product_brand": "XCP-ng", "product_version": "8.3.0", "platform_version": "3.4.0"},
                cpu_info={"cpu_count": "4", "vendor": "GenuineIntel", "modelname": "Xeon", "speed": "2400.000"},
            )
            for n in range(4):
                self.add("host_cpu", host=ref, number=str(n), vendor="GenuineIntel", modelname="Xeon", speed="2400", utilisation=0.25)
            dom0_metrics = self.add("VM_metrics", memory_actual=str(4 * GIB), VCPUs_utilisation={})
            dom0 = self.add("VM", name_label="Control domain on host: xen-%02d" % (i + 1), is_control_domain=True, is_a_template=False,
                            is_a_snapshot=False, power_state="Running", resident_on=ref, metrics=dom0_metrics, guest_metrics=NULL,
                            VBDs=[], VIFs=[], VCPUs_at_startup="4", memory_static_max=str(4 * GIB), tags=[])
            self.objects["host"][ref]["resident_VMs"].append(dom0)
            host_refs.append(ref)
        net = self.add("network", name_label="Pool-wide network associated with eth0", bridge="xenbr0", MTU="1500", PIFs=[])
        for host in host_refs:
            pif = self.add("PIF", host=host, network=net, device="eth0", management=True)
            self.objects["network"][net]["PIFs"].append(pif)
        sr = self.add("SR", name_label="iSCSI", type="lvmoiscsi", content_type="user", shared=True, physical_size=str(1000 * GIB),
                      physical_utilisation=str(250 * GIB), virtual_allocation=str(400 * GIB), PBDs=[])
        for host in host_refs:
            pbd = self.add("PBD", host=host, SR=sr, currently_attached=True)
            self.objects["SR"][sr]["PBDs"].append(pbd)
        self.add("pool", name_label="pool-a", master=host_refs[0], default_SR=sr, ha_enabled=False,
                 ha_host_failures_to_tolerate="0", ha_plan_exists_for="0")
        self.add("VM", name_label="Debian Bookworm 12", is_a_template=True, is_control_domain=False, is_a_snapshot=False,
                 power_state="Halted", resident_on=NULL, metrics=NULL, guest_metrics=NULL, VBDs=[], VIFs=[],
                 VCPUs_at_startup="1", memory_static_max=str(GIB), tags=[])
        for i in range(vms):
            host = host_refs[i % hosts]
            metrics = self.add("VM_metrics", memory_actual=str(2 * GIB), VCPUs_utilisation={"0": 0.5, "1": 0.1})
            guest = self.add("VM_guest_metrics", networks={"0/ip": "10.0.0.%d" % (i % 250 + 1), "0/ipv6/0": "fe80::%x" % (i + 1)},
                             os_version={"name": "Debian GNU/Linux 12"}, PV_drivers_detected=True)
            vm = self.add("VM", name_label="vm-%04d" % i, is_a_template=False, is_control_domain=False, is_a_snapshot=False,
                          power_state="Running", resident_on=host, metrics=metrics, guest_metrics=guest, VBDs=[], VIFs=[],
                          VCPUs_at_startup="2", memory_static_max=str(2 * GIB), tags=["web"])
            vdi = self.add("VDI", name_label="vm-%04d disk" % i, SR=sr, virtual_size=str(20 * GIB))
            vbd = self.add("VBD", VM=vm, VDI=vdi, type="Disk", userdevice="0")
            cd = self.add("VBD", VM=vm, VDI=NULL, type="CD", userdevice="3")
            vif = self.add("VIF", VM=vm, network=net, device="0", MAC="aa:bb:cc:00:%02x:%02x" % (i // 256, i % 256))
            self.objects["VM"][vm].update(VBDs=[vbd, cd], VIFs=[vif])
            self.objects["host"][host]["resident_VMs"].append(vm)
        return {"hosts": host_refs, "sr": sr, "network": net}


def success(value) -> dict:
    return {"Status": "Success", "Value": value}


def failure(error: list) -> dict:
    return {"Status": "Failure", "ErrorDescription": [str(e) for e in error]}


class FakeTransport(xmlrpc.client.Transport):
    """Decodes the request body, asks the FakeXapi, and round-trips the answer through XML-RPC."""

    def __init__(self, fake: FakeXapi) -> None:
        super().__init__()
        self.fake = fake

    def request(self, host, handler, request_body, verbose=False):
        address = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        err = self.fake.network_errors.get(address)
        if err is not None:
            raise err
        if address not in self.fake.masters:
            raise ConnectionRefusedError(111, "Connection refused")
        params, method = xmlrpc.client.loads(request_body)
        answer = self.fake.handle(address, method, params)
        body = xmlrpc.client.dumps((answer,), methodresponse=True, allow_none=True)
        return xmlrpc.client.loads(body)[0]


def cert_error() -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "self-signed certificate in certificate chain"
    return err


def timeout_error() -> socket.timeout:
    return socket.timeout("timed out")
