# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cluster, SVM and aggregate lookups and aggregate space."""
from __future__ import annotations

from ..errors import OntapError


class ClusterMixin:
    """SVMs and aggregates."""

    @staticmethod
    def lif_failover(lif: dict) -> str:
        """REST location.failover of a LIF: SAN LIFs do not fail over (home_port_only), the others follow the
        system default. ZAPI calls the latter system_defined."""
        return "home_port_only" if any(s in ("data_iscsi", "data_fc", "data_nvme_tcp") for s in lif["services"]) \
            else "default"

    def svm_by_name(self, name: str | None, required: bool = True) -> dict | None:
        for svm in self.svms.values():
            if svm["name"] == name:
                return svm
        if required:
            raise OntapError("svm_not_found", "SVM \"%s\" does not exist." % name, "svm.name")
        return None

    def resolve_svm(self, name: str | None = None, uuid: str | None = None) -> dict:
        """REST-style svm reference: name and/or uuid, which must agree."""
        if not name and not uuid:
            raise OntapError("svm_missing", "No SVM was specified. Either \"svm.name\" or \"svm.uuid\" must be supplied.",
                             "svm.name")
        svm = None
        if uuid:
            svm = self.svms.get(uuid)
            if svm is None:
                raise OntapError("svm_not_found", "SVM \"%s\" does not exist." % uuid, "svm.uuid")
            if name and svm["name"] != name:
                raise OntapError("svm_mismatch", "The UUID and name refer to different SVMs.", "svm.name")
            return svm
        return self.svm_by_name(name)

    def aggr_by_name(self, name: str) -> dict:
        for aggr in self.aggregates.values():
            if aggr["name"] == name:
                return aggr
        raise OntapError("aggr_not_found", "Aggregate \"%s\" does not exist." % name, "aggregates.name")

    def aggregate_space(self, aggr: dict) -> dict:
        used = 0
        for vol in self.volumes.values():
            if vol["aggr_uuid"] != aggr["uuid"]:
                continue
            used += vol["size"] if vol["guarantee"] == "volume" else self.volume_space(vol)["used"]
        return {"size": aggr["size"], "used": used, "available": max(0, aggr["size"] - used)}
