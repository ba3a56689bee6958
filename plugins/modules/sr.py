#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sr
short_description: Create, reattach, plug, scan, forget or destroy a XenServer / XCP-ng storage repository
version_added: 0.1.0
description:
  - Makes a storage repository (SR) present on a pool with a plugged PBD on every host (shared SRs) or on one
    host (local SRs), or removes it from the pool.
  - B(An existing SR is never formatted by this module unless you say so.) With O(state=present) the storage is
    probed first (C(SR.probe)); when it already carries an SR, that SR is reattached (C(SR.introduce), a PBD per
    host, plug, scan) with its VDIs. C(SR.create), which formats the storage, only runs on storage that the probe
    found blank, or with O(force_format=true).
  - The SR is identified by O(uuid), else by the storage it sits on (C(SCSIid) for iSCSI, server and path for NFS,
    location for ISO libraries, device and host for local SRs), else, only when that storage is not known yet
    (for example in check mode before the LUN exists), by O(name) and O(type).
  - Hosts added to the pool later get their PBD and are plugged on the next run.
  - On iSCSI SRs with O(scan=auto) a LUN that grew is rescanned (C(SR.scan)) so the SR shows the new size, online. The
    LUN size is O(lun_size_gib) when given (no probe then), else it is read with a probe.
  - Per-host PBD health (plugged, multipath paths, reason of a failed plug) is returned in RV(sr.pbds).
  - The C(vdc.xenpool.san_storage) role builds the NetApp volume, LUN, igroup and map, then calls this module.
options:
  state:
    description:
      - V(present) creates or reattaches the SR, plugs it on every host and manages its fields.
      - V(absent) unplugs every PBD and B(forgets) the SR. The data stays on the storage and O(state=present) reattaches it.
      - V(destroyed) unplugs every PBD and B(destroys) the SR. B(The SR and all its VDIs are deleted on the storage;
        this cannot be undone.) The storage driver refuses while VDIs remain (C(SR_NOT_EMPTY)).
      - An SR that is not known to the pool is left alone by V(absent) and V(destroyed); reattach it first to destroy it.
    type: str
    choices: [present, absent, destroyed]
    default: present
  name:
    description: Name of the SR. Required to create one. Names are not unique in XenAPI; see the description for identity.
    type: str
    aliases: [name_label]
  description:
    description: Description of the SR.
    type: str
  uuid:
    description: UUID of the SR. Wins over every other way of finding it; with a probe it must match the SR found on the storage.
    type: str
  type:
    description:
      - SR type. V(lvmoiscsi) (alias driver V(lvhdoiscsi)) is a shared LVM SR on an iSCSI LUN; V(nfs) a shared NFS SR;
        V(iso) an NFS or CIFS ISO library; V(lvm) and V(ext) local SRs on a disk of O(storage_host).
    type: str
    required: true
    choices: [lvmoiscsi, lvhdoiscsi, nfs, iso, lvm, ext]
  shared:
    description: Whether the SR is shared by the pool. Defaults to V(true) except for V(lvm) and V(ext).
    type: bool
  content_type:
    description: Content type. Defaults to V(iso) for O(type=iso) and V(user) otherwise. Only used when the SR is created or reattached.
    type: str
  storage_host:
    description:
      - Host (name or uuid) of a local SR, and the host that probes. Defaults to the pool master.
    type: str
  target:
    description: iSCSI portals, as C(address) or C(address:port); several give more paths with multipathing. The C(portals) of M(vdc.xenpool.ontap_iscsi) fit.
    type: list
    elements: str
  port:
    description: iSCSI port, when not given with the portals. Default 3260.
    type: int
  target_iqn:
    description: iSCSI target IQN (C(targetIQN)); the C(target_name) of M(vdc.xenpool.ontap_iscsi).
    type: str
  scsi_id:
    description: SCSI id of the LUN as XenServer sees it (C(SCSIid)); the C(scsi_id) of M(vdc.xenpool.ontap_lun).
    type: str
  lun_serial:
    description: ONTAP serial of the LUN; the SCSIid is derived from it. Ignored when O(scsi_id) is set.
    type: str
  chap_user:
    description: CHAP user name for the iSCSI login.
    type: str
  chap_password:
    description:
      - CHAP secret. xapi stores it as a secret object and never gives it back, so it is not compared on existing PBDs.
    type: str
  multipath:
    description:
      - Log in to every portal (C(multihomed)). Multipathing itself is a host setting (M(vdc.xenpool.host)); the number of
        paths each host sees is returned per PBD.
    type: bool
  server:
    description: NFS server of an V(nfs) SR.
    type: str
  server_path:
    description: Exported path of an V(nfs) SR.
    type: str
  nfs_version:
    description: NFS version of an V(nfs) SR, for example V(3) or V(4.1).
    type: str
  location:
    description: C(server:/path) (NFS) or C(//server/share) (CIFS) of an V(iso) library.
    type: str
  cifs_user:
    description: User for a CIFS ISO library.
    type: str
  cifs_password:
    description: Password for a CIFS ISO library.
    type: str
  device:
    description: Block device of a local V(lvm) or V(ext) SR, for example C(/dev/sdb).
    type: str
  device_config:
    description:
      - More device_config keys, passed as they are (for example C(allocation=thin)). Values are treated as secrets in logs.
    type: dict
  default:
    description: Whether the SR is the pool's default SR (C(pool.default_SR)).
    type: bool
  scan:
    description:
      - V(auto) rescans when a probe shows the iSCSI LUN larger than the SR (and always right after a reattach);
        V(always) rescans on every run (C(changed) is then always true); V(never) does not.
    type: str
    choices: [auto, always, never]
    default: auto
  force_format:
    description:
      - B(Formats the storage even when it already carries an SR), losing that SR and its VDIs. Only considered when the
        pool does not know the SR. Leave V(false) unless you mean it.
    type: bool
    default: false
  lun_size_gib:
    description:
      - The size of the LUN as the storage layer declares it (for example the C(size_gib) given to M(vdc.xenpool.ontap_lun)).
      - With O(scan=auto), an SR smaller than this is scanned so that it grows; in check mode this predicts the scan
        that the real run will do after the LUN was resized earlier in the same play. Without it the LUN size is probed.
    type: float
  take_over_from_other_pool:
    description:
      - The SRs this collection creates or introduces carry the uuid of their pool in C(other_config:vdc.xenpool.pool).
        An SR whose mark names another pool is refused (C(SR_OWNED_BY_OTHER_POOL)) before any write, because plugging
        another pool's live SR corrupts it.
      - Set V(true) only after the SR was forgotten in the other pool; the mark is then rewritten for this pool.
    type: bool
    default: false
  fail_on_unplugged:
    description:
      - Fail when a PBD cannot be plugged (after trying every host). With V(false) the task succeeds and the hosts and
        reasons are in RV(unplugged).
    type: bool
    default: true
notes:
  - Check mode makes no write call. It probes the storage (a read) to tell a creation from a reattachment, except when a
    CHAP password is given, because xapi stores probe passwords as secret objects.
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.other_config
  - vdc.xenpool.wait.TIMEOUT
  - vdc.xenpool.tags
seealso:
  - module: vdc.xenpool.ontap_lun
  - module: vdc.xenpool.ontap_iscsi
  - module: vdc.xenpool.sr_info
author:
  - vdc.xenpool contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Shared iSCSI SR on a NetApp LUN, reattached if the LUN already holds one
  vdc.xenpool.sr:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    name: intel-sr01
    type: lvmoiscsi
    target: "{{ svm_iscsi.iscsi.portals }}"
    target_iqn: "{{ svm_iscsi.iscsi.target_name }}"
    scsi_id: "{{ sr_lun.lun.scsi_id }}"
    multipath: true
    default: true
  delegate_to: localhost
  register: sr

- name: Hosts whose PBD is not plugged
  ansible.builtin.debug:
    msg: "{{ sr.sr.pbds | rejectattr('plugged') | map(attribute='host') | list }}"

- name: NFS ISO library
  vdc.xenpool.sr:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    name: ISOs
    type: iso
    location: nfs01.example.com:/export/iso
  delegate_to: localhost

- name: Detach the SR from the pool, keeping its data on the LUN
  vdc.xenpool.sr:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    type: lvmoiscsi
    name: intel-sr01
    scsi_id: "{{ sr_lun.lun.scsi_id }}"
    state: absent
  delegate_to: localhost

- name: Delete the SR and its data for good
  vdc.xenpool.sr:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    type: lvmoiscsi
    uuid: 5f0f6f3e-2a4b-4c34-9d5b-0c1f4e7e8a11
    state: destroyed
  delegate_to: localhost
"""

RETURN = r"""
sr:
  description: The SR after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    uuid: {description: "SR uuid (null when only predicted).", type: str, returned: success}
    name: {description: "Name.", type: str, returned: success}
    description: {description: "Description.", type: str, returned: success}
    type: {description: "SR type.", type: str, returned: success}
    content_type: {description: "Content type.", type: str, returned: success}
    shared: {description: "Whether shared.", type: bool, returned: success}
    physical_size: {description: "Size in bytes (null when unknown).", type: int, returned: success}
    physical_utilisation: {description: "Bytes used.", type: int, returned: success}
    virtual_allocation: {description: "Sum of the VDI sizes in bytes.", type: int, returned: success}
    vdi_count: {description: "Number of VDIs.", type: int, returned: success}
    other_config: {description: "other_config.", type: dict, returned: success}
    sm_config: {description: "sm_config.", type: dict, returned: success}
    tags: {description: "Tags, sorted.", type: list, elements: str, returned: success}
    default: {description: "Whether it is the pool's default SR.", type: bool, returned: success}
    pbds:
      description: One entry per host (every host of the pool for a shared SR), master first.
      type: list
      elements: dict
      returned: success
      contains:
        host: {description: "Host name.", type: str, returned: success}
        host_uuid: {description: "Host uuid.", type: str, returned: success}
        uuid: {description: "PBD uuid (null when the host has none yet).", type: str, returned: success}
        plugged: {description: "Whether the PBD is attached.", type: bool, returned: success}
        iscsi_iqn: {description: "The host's initiator IQN.", type: str, returned: success}
        multipathing: {description: "Whether the host has multipathing on.", type: bool, returned: success}
        paths_active: {description: "Active paths to the LUN, as SM reports them (null when not reported).", type: int, returned: success}
        paths_total: {description: "Known paths to the LUN.", type: int, returned: success}
        device_config: {description: "device_config with passwords and secret references masked.", type: dict, returned: success}
        reason: {description: "Why the PBD is not plugged (the XenAPI error code and driver message).", type: str, returned: success}
plan:
  description: The planned steps, one line each (the same as RV(actions) in check mode).
  returned: always
  type: list
  elements: str
unplugged:
  description: Hosts whose PBD is not plugged after the task, with the reason and the host IQN.
  returned: always
  type: list
  elements: dict
actions:
  description: What was done (or would be done in check mode), in order, for example V(introduce <uuid>), V(plug PBD on xen-02), V(scan).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import OTHER_CONFIG_SPEC, TAGS_SPEC, WAIT_TIMEOUT_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import gib_to_bytes
from ansible_collections.vdc.xenpool.plugins.module_utils._common.san import scsi_id as scsi_id_of
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr as srs
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_apply, sr_config, sr_plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError

DIFF_KEYS = ("uuid", "name", "description", "type", "shared", "other_config", "tags", "default", "pbds")

ARGUMENT_SPEC = dict({
    "state": {"type": "str", "default": "present", "choices": ["present", "absent", "destroyed"]},
    "name": {"type": "str", "aliases": ["name_label"]},
    "description": {"type": "str"},
    "uuid": {"type": "str"},
    "type": {"type": "str", "required": True, "choices": list(sr_config.TYPES)},
    "shared": {"type": "bool"},
    "content_type": {"type": "str"},
    "storage_host": {"type": "str"},
    "target": {"type": "list", "elements": "str"},
    "port": {"type": "int"},
    "target_iqn": {"type": "str"},
    "scsi_id": {"type": "str"},
    "lun_serial": {"type": "str"},
    "chap_user": {"type": "str"},
    "chap_password": {"type": "str", "no_log": True},
    "multipath": {"type": "bool"},
    "server": {"type": "str"},
    "server_path": {"type": "str"},
    "nfs_version": {"type": "str"},
    "location": {"type": "str"},
    "cifs_user": {"type": "str"},
    "cifs_password": {"type": "str", "no_log": True},
    "device": {"type": "str"},
    "device_config": {"type": "dict", "no_log": True},
    **OTHER_CONFIG_SPEC,
    "default": {"type": "bool"},
    "scan": {"type": "str", "default": "auto", "choices": ["auto", "always", "never"]},
    "force_format": {"type": "bool", "default": False},
    "lun_size_gib": {"type": "float"},
    "take_over_from_other_pool": {"type": "bool", "default": False},
    "fail_on_unplugged": {"type": "bool", "default": True},
}, **TAGS_SPEC, **WAIT_TIMEOUT_SPEC)
SR_HINT = "Check target, target_iqn and scsi_id, that every host's IQN may reach the LUN and that the portals answer"


def desired_state(params: dict) -> dict:
    """The declaration in service terms: device_config built per type, defaults that depend on the type filled in."""
    sr_type = params["type"]
    options = dict(params)
    if not options.get("scsi_id") and options.get("lun_serial"):
        options["scsi_id"] = scsi_id_of(options["lun_serial"])
    shared = params["shared"] if params["shared"] is not None else sr_type not in sr_config.LOCAL_TYPES
    return {
        "type": sr_type, "name": params["name"], "description": params["description"], "uuid": params["uuid"],
        "shared": shared, "content_type": params["content_type"] or ("iso" if sr_type == "iso" else "user"),
        "host": params["storage_host"], "device_config": sr_config.build_device_config(sr_type, options),
        "other_config": params["other_config"], "purge_other_config": params["purge_other_config"],
        "tags": params["tags"], "purge_tags": params["purge_tags"], "default": params["default"], "scan": params["scan"],
        "force_format": params["force_format"], "lun_size": gib_to_bytes(params["lun_size_gib"]),
        "take_over": params["take_over_from_other_pool"],
    }


def _view(sr: dict | None) -> dict:
    return {k: sr.get(k) for k in DIFF_KEYS} if sr else {}


def explain(err: CollectionError, desired: dict) -> CollectionError:
    """An SM failure ('SR_BACKEND_FAILURE_141 [, ISCSITarget, ]') as the driver's text, the storage it was about
    and what to check, instead of the raw ErrorDescription."""
    if not (getattr(err, "code", "").startswith("SR_BACKEND_FAILURE") and isinstance(err, XapiError)):
        return err
    text = srs.reason(err)[len(err.code):].strip() or "the storage driver failed"
    dc = desired["device_config"]
    where = ", ".join("%s %s" % (k, dc[k]) for k in ("target", "targetIQN", "SCSIid", "server", "serverpath", "location") if dc.get(k))
    return srs.SrUsageError(text + (" (%s)" % where if where else ""), SR_HINT, code=err.code)


def main() -> None:
    """read -> plan -> apply unless check mode -> result, through the module base. Not module.converge(): an SR run
    reports hosts left unplugged after the writes and fails on them (fail_on_unplugged) with changed=true."""
    xm = XenModule(ARGUMENT_SPEC, required_by={"chap_password": "chap_user"})
    p = xm.params
    label = p["name"] or p["uuid"] or p["scsi_id"] or p["lun_serial"] or p["type"]
    verb = {"present": "manage", "absent": "forget", "destroyed": "destroy"}[p["state"]]
    try:
        desired = desired_state(p)
    except sr_config.SrConfigError as exc:
        xm.fail(verb, "SR", label, "INVALID_VALUE %s" % exc, hint="Correct the option; nothing was changed", error_code="INVALID_VALUE")
    plan = None
    with xm.session(verb, "SR", label) as client:
        try:
            # In check mode nothing may leave state behind: no probe with a CHAP password, and storage an earlier task
            # only predicted (a LUN not created yet) is a prediction, not an error.
            obs = srs.observe(client, desired, secret_probe_ok=not xm.check_mode)
            if p["state"] == "present":
                plan = sr_plan.plan_present(obs, desired, pending_ok=xm.check_mode)
            else:
                plan = sr_plan.plan_absent(obs, desired, destroy=p["state"] == "destroyed")
            result = {"sr": plan.after or {}, "unplugged": []}
            if plan.changed and not xm.check_mode:
                result = sr_apply.apply(sr_apply.Writer(client, p["wait_timeout"]), plan)
        except CollectionError as err:
            xm.fail(verb, "SR", label, explain(err, desired), actions=plan.actions if plan else [])
    for warning in plan.warnings:
        xm.warn(warning)
    extra = {"sr": result["sr"], "unplugged": result["unplugged"], "actions": plan.actions, "plan": plan.summary()}
    if result["unplugged"] and p["fail_on_unplugged"] and not xm.check_mode:
        hosts = "; ".join("%s: %s (initiator %s)" % (u["host"], u["reason"], u["iscsi_iqn"] or "none") for u in result["unplugged"])
        xm.fail("plug", "SR", label, "PBD_PLUG_FAILED on %s" % hosts, changed=plan.changed, error_code="PBD_PLUG_FAILED",
                hint="Check that each host's initiator IQN is in the igroup the LUN is mapped to and that the portals are reachable, "
                "then run again", **extra)
    xm.exit_result(changed=plan.changed, before=_view(plan.before), after=_view(result["sr"]), **extra)


if __name__ == "__main__":
    main()
