# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool membership and host maintenance (xapi `xapi_pool.ml`, `xapi_host.ml`)."""
from __future__ import annotations

import zlib

from . import failure
from .datacenter import build_host
from .dispatch import Context, handler
from .handlers_ha import assert_preserves_plan, binpack, evacuation_size, refresh_plan
from .handlers_migration import migrate
from .handlers_storage import create_member_pbds, pbd_plug
from .model import (duration, host_compute_free_memory, host_free_memory, host_problem, refresh_memory,
                    sources_list)
from .pooling import duplicate_mac_seed, member_started, merge_host_into, remove_host
from .sources import host_plan
from .spec import NULL_REF, XapiError
from .state import Database


def _mgmt_pif(db: Database, host: str) -> dict | None:
    for pif in db.get("host", host)["PIFs"]:
        rec = db.get("PIF", pif)
        if rec["management"]:
            return rec
    return None


def join_checks(ctx: Context, master_db: Database, force: bool) -> None:
    """pre_join_checks in xapi's order (runtime_facts.pool_join.checks_in_order)."""
    db, host = ctx.db, ctx.host
    hrec = db.get("host", host)
    jpool = db.get("pool", db.one("pool"))
    mpool_ref = master_db.one("pool")
    mpool = master_db.get("pool", mpool_ref)
    mhost = master_db.get("host", mpool["master"])
    if _mgmt_pif(db, host) is None:
        raise XapiError("HOST_STILL_BOOTING")
    if jpool["ha_enabled"]:
        raise XapiError("HA_IS_ENABLED")
    if mpool["ha_enabled"]:
        raise XapiError("HA_IS_ENABLED")
    if master_db is db:
        raise XapiError("OPERATION_NOT_ALLOWED", "Host cannot become slave of itself" if mpool["master"] == host
                        else "Host is already part of a pool")
    if len(db.refs("host")) > 1:
        raise XapiError("JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS")
    vms = [rec for rec in db.tables["VM"].values() if not rec["is_control_domain"]]
    if any(rec["power_state"] == "Running" for rec in vms):
        raise XapiError("JOINING_HOST_CANNOT_HAVE_RUNNING_VMS")
    if any(rec["current_operations"] for rec in vms):
        raise XapiError("JOINING_HOST_CANNOT_HAVE_VMS_WITH_CURRENT_OPERATIONS")
    jsw, msw = hrec["software_version"], mhost["software_version"]
    if jsw.get("platform_version") != msw.get("platform_version") or jsw.get("product_brand") != msw.get("product_brand"):
        raise XapiError("HOSTS_NOT_COMPATIBLE")
    if not force:
        if any(jsw.get(k) != msw.get(k) for k in ("xapi", "product_brand", "git_id")) or \
                ("xs:linux" in jsw) != ("xs:linux" in msw):
            raise XapiError("HOSTS_NOT_HOMOGENEOUS", "Software version differs")
        if hrec["cpu_info"].get("vendor") != mpool["cpu_info"].get("vendor"):
            raise XapiError("HOSTS_NOT_HOMOGENEOUS", "CPUs differ")
    if any(rec["shared"] and not rec["is_tools_sr"] for rec in db.tables["SR"].values()):
        raise XapiError("JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS")
    if db.tables["Bond"]:
        raise XapiError("POOL_JOINING_HOST_HAS_BONDS")
    jmgmt = _mgmt_pif(db, host)
    if any(db.get("PIF", v["untagged_PIF"])["management"] is False for v in db.tables["VLAN"].values()
           if v["untagged_PIF"] in db.tables["PIF"]):
        raise XapiError("POOL_JOINING_HOST_HAS_NON_MANAGEMENT_VLANS")
    mmgmt = _mgmt_pif(master_db, mpool["master"])
    if jmgmt and mmgmt and jmgmt["VLAN"] != mmgmt["VLAN"]:
        raise XapiError("POOL_JOINING_HOST_MANAGEMENT_VLAN_DOES_NOT_MATCH", jmgmt["VLAN"], mmgmt["VLAN"])
    if (hrec["external_auth_type"], hrec["external_auth_service_name"]) != \
            (mhost["external_auth_type"], mhost["external_auth_service_name"]):
        raise XapiError("POOL_JOINING_EXTERNAL_AUTH_MISMATCH")
    if hrec["edition"] != mhost["edition"]:
        raise XapiError("LICENSE_HOST_POOL_MISMATCH")
    if jsw.get("network_backend") != msw.get("network_backend"):
        raise XapiError("OPERATION_NOT_ALLOWED", "Network backends differ")
    jv = "%d.%d" % (hrec["API_version_major"], hrec["API_version_minor"])
    mv = "%d.%d" % (mhost["API_version_major"], mhost["API_version_minor"])
    if jv != mv:
        raise XapiError("POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION", jv, mv)
    if jsw.get("db_schema") != msw.get("db_schema"):
        raise XapiError("POOL_JOINING_HOST_MUST_HAVE_SAME_DB_SCHEMA", jsw.get("db_schema", ""), msw.get("db_schema", ""))
    if jpool["tls_verification_enabled"] != mpool["tls_verification_enabled"]:
        raise XapiError("POOL_JOINING_HOST_TLS_VERIFICATION_MISMATCH")


def _join(ctx: Context, master_address: str, username: str, password: str, force: bool) -> None:
    world = ctx.world
    with world.lock:
        target = world.hosts.get(master_address)
        if target is None:
            raise XapiError("JOINING_HOST_SERVICE_FAILED")
        master_db, master_host = target
        master = world.master_of(master_db)
        if master != master_host:
            raise XapiError("HOST_IS_SLAVE", master_db.get("host", master)["address"])
    if username != world.username or password != world.password:
        world.clock.sleep(float(world.spec.runtime["session"].get("bad_credentials_delay_seconds", 5)))
        raise XapiError("SESSION_AUTHENTICATION_FAILED", username, "Authentication failure")
    with world.lock:
        join_checks(ctx, master_db, force)
    ctx.work(duration(ctx.world, "pool_join"))
    with world.lock:
        join_checks(ctx, master_db, force)
        # xapi_pool.ml join_common imports the joiner's VMs best effort (ignore_error): a duplicate MAC seed
        # (DUPLICATE_MAC_SEED from the metadata import) does not fail the join, the joiner's VMs are just not there
        keep_vms = duplicate_mac_seed(ctx.db, master_db) is None
        host = merge_host_into(world, ctx.db, master_db, keep_vms=keep_vms, restart_later=True)
        for vm in master_db.refs("VM"):
            world.rules.refresh(master_db, vm)
        # the joiner restarts its toolstack as a member (xapi_pool.ml join_common); until then the pool sees it
        # disabled and not live (pooling.merge_host_into)
        world.scheduler.at(duration(world, "toolstack_restart"), failure._guarded, _member_started, world, master_db,
                           host, base=ctx.cursor)


def _member_started(world, master_db: Database, host: str) -> None:
    """The member's xapi is up: its dom0, host_cpu and console records and liveness (pooling.member_started),
    PBDs for the pool's shared SRs created and plugged (create_storage.ml initialise_storage: plug failures are
    only logged), then enabled (xapi_host_helpers.ml consider_enabling_host: unplugged PBDs keep a host disabled
    only with HA armed, and a join is refused while HA is on)."""
    if not member_started(master_db, host):
        return
    create_member_pbds(master_db, host)
    for pbd in master_db.get("host", host)["PBDs"]:
        try:
            pbd_plug(Context(world, master_db, host, None, "PBD.plug"), pbd)
        except XapiError:
            pass
    master_db.set("host", host, "enabled", True)
    for vm in master_db.get("host", host)["resident_VMs"]:
        world.rules.refresh(master_db, vm)
    refresh_memory(master_db, host)
    refresh_plan(master_db)


@handler("pool", "join", locked=False)
def pool_join(ctx: Context, master_address, master_username, master_password):
    _join(ctx, master_address, master_username, master_password, False)


@handler("pool", "join_force", locked=False)
def pool_join_force(ctx: Context, master_address, master_username, master_password):
    _join(ctx, master_address, master_username, master_password, True)


@handler("pool", "eject", locked=False)
def pool_eject(ctx: Context, host):
    world = ctx.world
    with world.lock:
        db = ctx.db
        pool = db.get("pool", db.one("pool"))
        if pool["ha_enabled"]:
            raise XapiError("HA_IS_ENABLED")
        if pool["master"] == host:
            raise XapiError("INTERNAL_ERROR", "Cannot eject the pool coordinator")
        for vm in db.get("host", host)["resident_VMs"]:
            rec = db.get("VM", vm)
            if not rec["is_control_domain"] and rec["power_state"] != "Halted":
                raise XapiError("OPERATION_NOT_ALLOWED", "VM resident on host")
        address = db.get("host", host)["address"]
    ctx.work(duration(ctx.world, "pool_eject"))
    with world.lock:
        remove_host(world, db, host)
        info = world.host_info.get(address)
        if info is not None:
            build_host(world, info, world.rules)
        else:
            world.hosts.pop(address, None)


@handler("pool", "designate_new_master", locked=False)
def pool_designate_new_master(ctx: Context, host):
    world = ctx.world
    with world.lock:
        pool_ref = ctx.db.one("pool")
        pool = ctx.db.get("pool", pool_ref)
        if pool["ha_enabled"]:
            raise XapiError("HA_IS_ENABLED")
        if pool["master"] == host:
            return None
    ctx.work(duration(ctx.world, "designate_new_master"))
    with world.lock:
        ctx.db.set("pool", pool_ref, "master", host)
    return None


@handler("pool", "get_license_state", write=False)
def pool_license_state(_ctx: Context, _pool):
    return {"edition": "xcp-ng", "expiry": "never"}


# --------------------------------------------------------------------------- host
@handler("host", "disable")
def host_disable(ctx: Context, host, _auto_enable=True):
    assert_preserves_plan(ctx.db, [("host", host, "enabled", False)])
    ctx.db.set("host", host, "enabled", False)
    refresh_plan(ctx.db)


@handler("host", "enable")
def host_enable(ctx: Context, host):
    ctx.db.set("host", host, "enabled", True)
    refresh_plan(ctx.db)


@handler("host", "set_iscsi_iqn")
def host_set_iscsi_iqn(ctx: Context, host, value):
    if value == "":
        raise XapiError("INVALID_VALUE", "value", value)
    other = dict(ctx.db.get("host", host)["other_config"], iscsi_iqn=value)
    ctx.db.update("host", host, {"iscsi_iqn": value, "other_config": other})


@handler("host", "set_multipathing")
def host_set_multipathing(ctx: Context, host, value):
    other = dict(ctx.db.get("host", host)["other_config"], multipathing="true" if value else "false")
    ctx.db.update("host", host, {"multipathing": bool(value), "other_config": other})


def _sync_other_config(ctx: Context, host: str) -> None:
    """xapi mirrors other_config[iscsi_iqn] / [multipathing] into the fields."""
    rec = ctx.db.get("host", host)
    other = rec["other_config"]
    upd = {}
    if other.get("iscsi_iqn") and other["iscsi_iqn"] != rec["iscsi_iqn"]:
        upd["iscsi_iqn"] = other["iscsi_iqn"]
    if "multipathing" in other and (other["multipathing"] == "true") != rec["multipathing"]:
        upd["multipathing"] = other["multipathing"] == "true"
    if upd:
        ctx.db.update("host", host, upd)


@handler("host", "add_to_other_config")
def host_add_other_config(ctx: Context, host, key, value):
    current = ctx.db.get("host", host)["other_config"]
    if key in current:
        raise XapiError("MAP_DUPLICATE_KEY", "host", "other_config", host, key)
    ctx.db.set("host", host, "other_config", dict(current, **{key: value}))
    _sync_other_config(ctx, host)


@handler("host", "set_other_config")
def host_set_other_config(ctx: Context, host, value):
    ctx.db.set("host", host, "other_config", dict(value))
    _sync_other_config(ctx, host)


@handler("host", "remove_from_other_config")
def host_remove_other_config(ctx: Context, host, key):
    current = ctx.db.get("host", host)["other_config"]
    ctx.db.set("host", host, "other_config", {k: v for k, v in current.items() if k != key})


@handler("host", "get_management_interface", write=False)
def host_management_interface(ctx: Context, host):
    for pif in ctx.db.get("host", host)["PIFs"]:
        if ctx.db.get("PIF", pif)["management"]:
            return pif
    raise XapiError("INTERNAL_ERROR", "no management interface")


@handler("host", "get_servertime", write=False)
@handler("host", "get_server_localtime", write=False)
def host_servertime(ctx: Context, host):
    ctx.db.get("host", host)
    return ctx.world.clock.now_dt()


def _protected(rec: dict) -> bool:
    """helpers.ml vm_should_always_run."""
    return bool(rec["ha_always_run"]) and rec["ha_restart_priority"] == "restart"


def evacuation_plan(ctx: Context, host: str) -> tuple[dict, dict]:
    """xapi_host.ml compute_evacuation_plan_no_wlb: (vm -> destination, vm -> error) for the host's non-dom0 VMs.
    Targets are the other enabled hosts (NO_HOSTS_AVAILABLE [vm] without any); with HA on, a VM that is not
    protected is HOST_EVACUATE_VM_NOT_HA_PROTECTED [vm]; the others must pass assert_can_boot_here (no memory
    check, CPU check) on every target and the pool_migrate operation check; then the memory binpack
    (xapi_ha_vm_failover.ml compute_evacuation_plan: start memory onto compute_free_memory) places them, a VM left
    out is HOST_NOT_ENOUGH_FREE_MEMORY [vm], and a placed VM is checked again on its destination."""
    db = ctx.db
    targets = sorted((h for h in db.refs("host") if h != host and db.get("host", h)["enabled"]),
                     key=lambda h: db.get("host", h)["uuid"])
    vms = [v for v in db.get("host", host)["resident_VMs"] if not db.get("VM", v)["is_control_domain"]]
    if not targets:
        return {}, {vm: ["NO_HOSTS_AVAILABLE", vm] for vm in vms}
    ha = db.get("pool", db.one("pool"))["ha_enabled"]
    problems: dict = {vm: ["HOST_EVACUATE_VM_NOT_HA_PROTECTED", vm] for vm in vms if ha and not _protected(db.get("VM", vm))}
    migratable = []
    for vm in (v for v in vms if v not in problems):
        err = next((e for e in (host_problem(db, vm, t, memory=False, cpu=True) for t in targets) if e is not None), None)
        if err is None:
            migratable.append(vm)
        else:
            problems[vm] = err.description
    for vm in vms:
        err = ctx.world.rules.problem(db, vm, "pool_migrate")
        if err is not None:
            problems[vm] = err.description
    hosts = [[h, host_compute_free_memory(db, h)] for h in targets]
    placement, _ok = binpack([(vm, evacuation_size(db.get("VM", vm))) for vm in migratable], hosts)
    plan = {}
    for vm in migratable:
        if vm not in placement:
            problems[vm] = ["HOST_NOT_ENOUGH_FREE_MEMORY", vm]
            continue
        err = host_problem(db, vm, placement[vm], memory=False, cpu=True)
        if err is not None:
            problems[vm] = err.description
        elif vm not in problems:
            plan[vm] = placement[vm]
    return plan, problems


@handler("host", "get_vms_which_prevent_evacuation", write=False)
def host_vms_preventing(ctx: Context, host):
    return evacuation_plan(ctx, host)[1]


@handler("host", "assert_can_evacuate", write=False)
def host_assert_can_evacuate(ctx: Context, host):
    problems = evacuation_plan(ctx, host)[1]
    if problems:
        raise XapiError("CANNOT_EVACUATE_HOST", "|".join(",".join(v) for v in problems.values()))


@handler("host", "evacuate", locked=False)
def host_evacuate(ctx: Context, host, network=NULL_REF, _batch=0):
    """message_forwarding.ml Host.evacuate: first Xapi_ha_vm_failover.assert_host_disable_preserves_ha_plan
    (HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN when the pool's plan for ha_plan_exists_for failures would not survive
    the host's protected VMs moving off it), then xapi_host.ml evacuate: the plan's first error, else every VM
    pool-migrated (options live=true, and network when given)."""
    world = ctx.world
    with world.lock:
        assert_preserves_plan(ctx.db, [("host", host, "enabled", False)])
        plan, problems = evacuation_plan(ctx, host)
        if problems:
            raise XapiError(*next(iter(problems.values())))
    options = {"live": "true"} if network == NULL_REF else {"network": network, "live": "true"}
    for vm, dest in plan.items():
        migrate(ctx, vm, dest, options)
    with world.lock:
        left = [v for v in ctx.db.get("host", host)["resident_VMs"] if not ctx.db.get("VM", v)["is_control_domain"]]
        if left:
            raise XapiError("INTERNAL_ERROR", "evacuate: %d VMs are still resident on %s" % (len(left), host))


# --------------------------------------------------------------------------- data sources
def host_sources(ctx: Context, host: str, free: int | None = None) -> dict:
    """The host's data sources now (sources.HostPlan); `free` (host_free_memory, which walks every VM of the pool)
    when already known."""
    free = host_free_memory(ctx.db, host) if free is None else free
    return host_plan(ctx.db, host, free).as_dict(ctx.world.clock.elapsed())


@handler("host", "query_data_source", write=False)
def host_query_data_source(ctx: Context, host, name):
    values = host_sources(ctx, host)
    if name not in values:
        raise XapiError("INTERNAL_ERROR", "Rrd_interface.Internal_error(\"Not_found\")")
    return float(values[name])


@handler("host", "get_data_sources", write=False)
def host_get_data_sources(ctx: Context, host):
    return sources_list(host_sources(ctx, host))


@handler("host", "record_data_source")
def host_record_data_source(ctx: Context, host, _name):
    ctx.db.get("host", host)


# --------------------------------------------------------------------------- VLAN / Bond / secret
@handler("VLAN", "create")
def vlan_create(ctx: Context, tagged_pif, tag, network):
    db = ctx.db
    prec = db.get("PIF", tagged_pif)
    db.get("network", network)
    if tag < 0 or tag > 4094:
        raise XapiError("VLAN_TAG_INVALID", tag)
    for pif in db.get("host", prec["host"])["PIFs"]:
        other = db.get("PIF", pif)
        if other["VLAN"] == tag and other["device"] == prec["device"]:
            raise XapiError("PIF_VLAN_EXISTS", pif)
    untagged = db.create("PIF", {"device": prec["device"], "network": network, "host": prec["host"], "MAC": prec["MAC"],
                                 "MTU": prec["MTU"], "VLAN": tag, "physical": False, "currently_attached": True,
                                 "ip_configuration_mode": "None", "managed": True, "primary_address_type": "IPv4"})
    vlan = db.create("VLAN", {"tagged_PIF": tagged_pif, "untagged_PIF": untagged, "tag": tag})
    db.set("PIF", untagged, "VLAN_master_of", vlan)
    return vlan


@handler("VLAN", "destroy")
def vlan_destroy(ctx: Context, vlan):
    db = ctx.db
    untagged = db.get("VLAN", vlan)["untagged_PIF"]
    db.destroy("VLAN", vlan)
    if untagged in db.tables["PIF"]:
        db.destroy("PIF", untagged)


@handler("Bond", "create")
def bond_create(ctx: Context, network, members, mac, mode, properties):
    db = ctx.db
    db.get("network", network)
    if not members:
        raise XapiError("PIF_BOND_NEEDS_MORE_MEMBERS")
    first = db.get("PIF", members[0])
    master = db.create("PIF", {"device": "bond%d" % len(db.tables["Bond"]), "network": network, "host": first["host"],
                               "MAC": mac or first["MAC"], "MTU": first["MTU"], "VLAN": -1, "physical": False,
                               "currently_attached": True, "ip_configuration_mode": "None", "managed": True,
                               "primary_address_type": "IPv4"})
    bond = db.create("Bond", {"master": master, "mode": mode, "properties": dict(properties), "primary_slave": members[0],
                              "links_up": len(members), "auto_update_mac": not mac})
    for pif in members:
        db.set("PIF", pif, "bond_slave_of", bond)
    return bond


@handler("Bond", "destroy")
def bond_destroy(ctx: Context, bond):
    db = ctx.db
    rec = db.get("Bond", bond)
    for pif in list(rec["slaves"]):
        db.set("PIF", pif, "bond_slave_of", NULL_REF)
    master = rec["master"]
    db.destroy("Bond", bond)
    if master in db.tables["PIF"]:
        db.destroy("PIF", master)


@handler("secret", "introduce")
def secret_introduce(ctx: Context, uuid, value, other_config):
    return ctx.db.create("secret", {"uuid": uuid, "value": value, "other_config": dict(other_config)})


# --------------------------------------------------------------------------- PIF
def _valid_ipv4(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and 0 <= int(p) <= 255 for p in parts)


@handler("PIF", "reconfigure_ip")
def pif_reconfigure_ip(ctx: Context, pif, mode, ip, netmask, gateway, dns):
    """Static needs a valid address and netmask; DHCP gets a deterministic lease; None clears."""
    db = ctx.db
    rec = db.get("PIF", pif)
    if mode == "Static":
        for name, value in (("IP", ip), ("netmask", netmask)):
            if not _valid_ipv4(value):
                raise XapiError("INVALID_IP_ADDRESS_SPECIFIED", name)
        if gateway and not _valid_ipv4(gateway):
            raise XapiError("INVALID_IP_ADDRESS_SPECIFIED", "gateway")
        values = {"IP": ip, "netmask": netmask, "gateway": gateway, "DNS": dns}
    elif mode == "DHCP":
        seed = zlib.crc32(rec["uuid"].encode("utf-8"))
        values = {"IP": "10.200.%d.%d" % ((seed >> 8) % 254 + 1, seed % 253 + 2), "netmask": "255.255.0.0",
                  "gateway": "10.200.0.1", "DNS": "10.200.0.2"}
    else:
        values = {"IP": "", "netmask": "", "gateway": "", "DNS": ""}
    if rec["management"]:
        values["IP"] = rec["IP"]  # the simulated host keeps listening on its loopback address
    values["ip_configuration_mode"] = mode
    values["currently_attached"] = rec["currently_attached"] or mode != "None"
    db.update("PIF", pif, values)


@handler("PIF", "plug")
def pif_plug(ctx: Context, pif):
    ctx.db.set("PIF", pif, "currently_attached", True)


@handler("PIF", "unplug")
def pif_unplug(ctx: Context, pif):
    rec = ctx.db.get("PIF", pif)
    if rec["disallow_unplug"] or rec["management"]:
        raise XapiError("PIF_DOES_NOT_ALLOW_UNPLUG", pif)
    ctx.db.set("PIF", pif, "currently_attached", False)
