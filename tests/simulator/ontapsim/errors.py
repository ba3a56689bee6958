# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One error type for both transports.

Business rules live in the model and raise OntapError with a key; the key
maps to the REST error code + HTTP status and to the ZAPI errno, so the
same rule fails the same way over REST and ZAPI. REST codes come from the
per-operation error tables of NetApp's ONTAP REST API reference, errnos from
netapp-lib's errno table (netapp_lib/api/zapi/errors.py) and the ONTAPI
reference. Where no source pins a value, the entry says so (see ONTAP.md,
"Chosen where no source pins the behaviour").
"""
from __future__ import annotations

# key: (REST error code, HTTP status, ZAPI errno)
ERRORS: dict[str, tuple[str, int, str]] = {
    # generic
    "not_found": ("4", 404, "15661"),
    "bad_field": ("262197", 400, "13115"),
    "unexpected_arg": ("262179", 400, "13115"),
    "missing_arg": ("2", 400, "13006"),
    "invalid_value": ("2", 400, "13115"),
    "unsupported": ("3", 400, "13005"),
    # SVM / aggregate
    "svm_not_found": ("2621462", 404, "15698"),
    "svm_missing": ("2621707", 400, "13006"),
    "svm_mismatch": ("2621706", 400, "13115"),
    "aggr_not_found": ("917508", 404, "14420"),
    "aggr_missing": ("787140", 400, "13006"),
    "flexvol_one_aggr": ("918242", 400, "13115"),
    # volumes
    "vol_dup": ("917526", 409, "17"),
    "vol_not_found": ("4", 404, "13040"),
    "vol_name_invalid": ("917887", 400, "13044"),
    "vol_name_long": ("917886", 400, "13044"),
    "vol_size_small": ("917534", 400, "13115"),
    "vol_space": ("917534", 400, "13062"),
    "snap_policy_not_found": ("917551", 404, "13115"),
    "vol_online_destroy": ("917536", 409, "13060"),
    "vol_state_invalid": ("918652", 400, "13115"),
    "vol_offline": ("5374866", 409, "13042"),
    "eff_not_enabled": ("6881332", 400, "13001"),
    # LUNs
    "lun_dup": ("5374242", 409, "9012"),
    "lun_vol_not_found": ("917927", 404, "9036"),
    "lun_vol_uuid_not_found": ("918235", 404, "9036"),
    "lun_not_found": ("5374875", 404, "9017"),
    "lun_missing_prop": ("5374884", 400, "13006"),
    "lun_no_volume": ("5374859", 400, "13006"),
    "lun_no_name": ("5374862", 400, "13006"),
    "lun_name_vol_mismatch": ("5374858", 400, "13115"),
    "lun_name_base_mismatch": ("5374861", 400, "13115"),
    "lun_name_chars": ("5374121", 400, "13115"),
    "lun_name_invalid": ("5374127", 400, "13115"),
    "lun_size_small": ("5374124", 400, "9041"),
    "lun_size_large": ("5374125", 400, "9034"),
    "lun_size_negative": ("5374123", 400, "9149"),
    "lun_size_invalid": ("5374130", 400, "9149"),
    "lun_same_size": ("1254226", 400, "9042"),
    "lun_shrink": ("5374892", 400, "9041"),
    "lun_mapped_delete": ("1254197", 409, "9013"),
    "lun_rename_dup": ("1254196", 409, "9012"),
    "lun_os_type": ("2", 400, "13115"),
    "lun_in_root": ("5374237", 400, "13115"),
    # igroups
    "igroup_dup": ("5374023", 409, "9004"),
    "igroup_not_found": ("5374852", 404, "9003"),
    "igroup_name_invalid": ("5373958", 400, "13115"),
    "igroup_mapped_delete": ("1254213", 409, "9024"),
    "igroup_os_type": ("2", 400, "9032"),
    "initiator_dup": ("5374035", 409, "9008"),
    "initiator_not_member": ("5374034", 404, "9007"),
    "initiator_invalid": ("5374039", 400, "9006"),
    "initiator_none": ("5374033", 400, "13006"),
    "initiator_mapped_remove": ("1254213", 409, "9029"),
    "initiator_lun_id_conflict": ("1254324", 409, "9009"),
    # LUN maps
    "lunmap_dup": ("1254207", 409, "9009"),
    "lunmap_lun_missing": ("1254201", 404, "9017"),
    "lunmap_igroup_missing": ("5374878", 404, "9003"),
    "lunmap_not_found": ("5374922", 404, "9016"),
    "lunmap_no_lun": ("5374901", 400, "13006"),
    "lunmap_no_igroup": ("5374902", 400, "13006"),
    "lunmap_id_conflict": ("1254324", 409, "9009"),
    "lunmap_id_range": ("2", 400, "13115"),
    "lunmap_modify": ("3", 400, "13005"),
    # iSCSI service
    "iscsi_exists": ("5374077", 409, "13130"),
    "iscsi_not_found": ("5374078", 404, "13001"),
    "iscsi_enabled_delete": ("5373960", 409, "13001"),
    "iscsi_not_allowed": ("2621507", 400, "13001"),
    # snapshots
    "snap_dup": ("525059", 409, "13020"),
    "snap_not_found": ("1638600", 404, "13021"),
    "snap_name_invalid": ("1638518", 400, "13115"),
    "snap_vol_offline": ("524479", 409, "13042"),
}


class OntapError(Exception):
    """A business-rule failure with its REST and ZAPI renderings."""

    def __init__(self, key: str, message: str, target: str | None = None, zapi_message: str | None = None) -> None:
        super().__init__(message)
        self.zapi_message = zapi_message
        rest_code, http_status, errno = ERRORS[key]
        self.key = key
        self.message = message
        self.target = target
        self.rest_code = rest_code
        self.http_status = http_status
        self.errno = errno

    def rest_body(self) -> dict:
        """The REST error envelope {"error": {message, code[, target]}}."""
        err = {"message": self.message, "code": self.rest_code}
        if self.target:
            err["target"] = self.target
        return {"error": err}
