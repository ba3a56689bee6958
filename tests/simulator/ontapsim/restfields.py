# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Top-level field names each REST resource has in ONTAP 9.19.1 (from the resource models of NetApp's ONTAP REST API reference).

Used to tell a valid-but-unset field (silently omitted, as ONTAP does) from
a field that does not exist (error 262197 in fields=, 262179 as a filter or
in a body). The simulator models a subset; the rest are valid but unset.
"""
from __future__ import annotations

_RAW = {
    "cluster": "_tags active_directory auto_enable_activity_tracking auto_enable_analytics certificate "
               "cluster_network_overlay_enabled configuration_backup contact disaggregated dns_domains ha license "
               "location management_interface management_interfaces metric name name_servers nodes ntp_servers "
               "password peering_policy san_optimized statistics timezone uuid version",
    "nodes": "name uuid version serial_number model state ha location membership management_interfaces",
    "svms": "aggregates aggregates_delegated anti_ransomware anti_ransomware_auto_switch_duration_without_new_file_extension "
            "anti_ransomware_auto_switch_from_learning_to_enabled anti_ransomware_auto_switch_minimum_file_count "
            "anti_ransomware_auto_switch_minimum_file_extension anti_ransomware_auto_switch_minimum_incoming_data "
            "anti_ransomware_auto_switch_minimum_learning_period anti_ransomware_default_volume_state "
            "anti_ransomware_incoming_write_threshold anti_ransomware_incoming_write_threshold_percent "
            "auto_enable_activity_tracking auto_enable_analytics "
            "certificate cifs comment dns fc_interfaces fcp ip_interfaces ipspace is_space_enforcement_logical "
            "is_space_reporting_logical iscsi language ldap max_volumes name ndmp nfs nis nsswitch "
            "number_of_volumes_in_recovery_queue nvme qos_adaptive_policy_group_template qos_policy "
            "qos_policy_group_template routes s3 san_multipathing snapmirror snapshot_autodelete_enabled "
            "snapshot_policy snapshot_reserve_percent state storage subtype total_volume_size_in_recovery_queue uuid",
    "volumes": "_tags access_time_enabled activity_tracking aggregates aggressive_readahead_mode analytics "
               "anti_ransomware application asynchronous_directory_delete autosize clone cloud_retrieval_policy "
               "cloud_write_enabled comment consistency_group constituent_count constituents constituents_per_aggregate "
               "convert_unicode create_time efficiency encryption error_state files flash_pool flexcache_endpoint_type "
               "flexgroup granular_data granular_data_mode guarantee has_dir_index_public has_large_dir "
               "is_dir_index_transfer_enabled is_large_dir_enabled is_object_store is_s3_arbitrary_part_size_enabled "
               "is_svm_root language max_dir_size metric movement msid name nas nodes optimize_aggregates qos "
               "queue_for_encryption quota rebalancing scheduled_snapshot_naming_scheme size smas_protection snaplock "
               "snapmirror snapshot_count snapshot_directory_access_enabled snapshot_locking_enabled snapshot_policy "
               "space state statistics status style svm svm_dr_protection tiering type use_mirrored_aggregates uuid",
    "luns": "access_mode attributes auto_delete class clone comment consistency_group convert copy create_time enabled "
            "encryption location lun_maps metric movement name os_type provisioning_options qos_policy serial_number "
            "serial_number_hex space statistics status svm uuid vvol",
    "igroups": "comment connectivity_tracking delete_on_unmap igroups initiators lun_maps name os_type parent_igroups "
               "portset protocol replication supports_igroups svm target uuid",
    "igroup_initiators": "comment connectivity_tracking igroup name proximity records",
    "lun_maps": "igroup logical_unit_number lun replicated reporting_nodes svm",
    "iscsi_services": "enabled metric statistics svm target",
    "ip_interfaces": "ddns_enabled dns_zone enabled fail_if_subnet_conflicts ip ipspace location metric name probe_port "
                     "rdma_protocols scope service_policy services state statistics subnet svm uuid vip",
    "snapshots": "comment compress_savings create_time dedup_savings delta expiry_time logical_size name owners "
                 "provenance_volume reclaimable_space size snaplock snaplock_expiry_time snapmirror_label state svm uuid "
                 "vbn0_savings version_uuid volume",
    "jobs": "code description end_time error message node start_time state svm uuid",
    "aggregates": "_tags block_storage cloud_storage create_time data_encryption dr_home_node home_node "
                  "inactive_data_reporting inode_attributes is_spare_low metric name node sidl_enabled snaplock_type "
                  "snapshot space state statistics uuid volume-count",
}

FIELDS: dict[str, frozenset[str]] = {k: frozenset(v.split() + ["_links"]) for k, v in _RAW.items()}

# Fields a POST may carry per resource (top level). Anything else is "unexpected".
POST_FIELDS: dict[str, frozenset[str]] = {
    "volumes": FIELDS["volumes"] - {"uuid", "create_time", "is_svm_root", "msid", "metric", "statistics", "status",
                                    "snapshot_count", "error_state", "_links"},
    "luns": frozenset("svm name location os_type space comment qos_policy enabled class clone attributes auto_delete "
                      "provisioning_options consistency_group".split()),
    "igroups": frozenset("svm name os_type protocol initiators igroups comment portset delete_on_unmap replication".split()),
    "igroup_initiators": frozenset("name comment records".split()),
    "lun_maps": frozenset("svm igroup lun logical_unit_number additional_reporting_node".split()),
    "iscsi_services": frozenset("svm enabled target".split()),
    "snapshots": frozenset("name svm comment expiry_time snapmirror_label snaplock snaplock_expiry_time volume".split()),
}

PATCH_FIELDS: dict[str, frozenset[str]] = {
    "volumes": frozenset("name size state comment guarantee snapshot_policy space efficiency nas qos tiering autosize "
                         "aggregates encryption anti_ransomware files snapshot_directory_access_enabled _tags "
                         "access_time_enabled language snaplock".split()),
    "luns": frozenset("name space comment enabled qos_policy location os_type auto_delete clone movement".split()),
    "igroups": frozenset("name os_type comment portset delete_on_unmap igroups replication protocol".split()),
    "igroup_initiators": frozenset(["comment"]),
    "iscsi_services": frozenset("enabled target".split()),
    "snapshots": frozenset("name comment expiry_time snapmirror_label snaplock".split()),
}
