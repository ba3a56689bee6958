# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONTAP's input rules, checked before the first call (private to vdc.xenpool).

Why here and not on the server: ONTAP matches a name given in a REST query or a ZAPI *-get-iter
template as a pattern. An empty name filters nothing, so it matches every object of the SVM, and
`*`, `!`, `|`, `<`, `>` and `..` are query operators. The ONTAP CLI documentation (NetAppDocs/ontap,
system-admin/methods-specifying-queries-concept) makes such characters literal only inside double
quotes; the REST documentation (ontap-automation, rest/input_variables) lists the operators but no
quoting. Rather than depend on quoting, a user's name never carries an operator: names are checked
against the character rules ONTAP itself applies to each object type (every rule below excludes
every operator, and `null` is refused as a word), so the value sent is always a plain literal, and
the services compare the names of the returned records with the requested name as well.
Sizes, IQNs and LUN ids are checked here too: a bad value must stop before anything was read or
written, with a message that names the fix, rather than half-way through a run.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.san import iscsi_name_problem

# Character rules of ONTAP object names (ONTAP CLI/REST documentation of each object's name field).
NAME_RULES: dict[str, tuple[re.Pattern, str]] = {
    "svm": (re.compile(r"^[A-Za-z0-9_.-]{1,47}$"), "1-47 characters: letters, digits, '_', '.', '-'"),
    "volume": (re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,202}$"),
               "1-203 characters: letters, digits and '_', starting with a letter or '_'"),
    "aggregate": (re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"),
                  "letters, digits and '_', starting with a letter or '_'"),
    "LUN": (re.compile(r"^[A-Za-z0-9._{}-]{1,255}$"), "1-255 characters: letters, digits, '.', '_', '-', '{', '}'"),
    "igroup": (re.compile(r"^[A-Za-z0-9_.:{}-]{1,96}$"), "1-96 characters: letters, digits, '_', '.', ':', '-', '{', '}'"),
    "snapshot": (re.compile(r"^[A-Za-z0-9_.+:-]{1,255}$"), "1-255 characters: letters, digits, '_', '.', '+', ':', '-'"),
    "snapshot policy": (re.compile(r"^[A-Za-z0-9_.-]{1,256}$"), "letters, digits, '_', '.', '-'"),
}
# Words and sequences with a meaning in ONTAP queries even though every character is allowed.
QUERY_WORDS = ("null",)
RANGE_OPERATOR = ".."


MIN_VOLUME_BYTES = 20 * 1024 ** 2
MIN_LUN_BYTES = 4096
MAX_LUN_BYTES = 128 * 1024 ** 4
MAX_LUN_ID = 4095


def check_name(kind: str, value: t.Any, option: str = "name") -> str:
    """The name unchanged, or PlanError: empty, an operator, or a character ONTAP does not allow."""
    pattern, rule = NAME_RULES[kind]
    text = "" if value is None else str(value)
    if not text.strip():
        raise PlanError("EMPTY_NAME", "%s is empty; an empty %s name would match every %s of the SVM" % (option, kind, kind),
                        "Give the exact %s name in %s (nothing was changed)" % (kind, option))
    if not pattern.match(text) or RANGE_OPERATOR in text or text.lower() in QUERY_WORDS:
        raise PlanError("INVALID_NAME", "%s '%s' is not a valid %s name (%s; no query operators such as * ! | < > ..)"
                        % (option, text, kind, rule),
                        "Use the exact %s name; names are never patterns (nothing was changed)" % kind)
    return text


def check_iqn(value: t.Any, option: str = "initiators") -> str:
    """One iSCSI initiator name (the rule both sides of the SAN share), lower-cased as ONTAP stores it, or PlanError."""
    text = "" if value is None else str(value).strip()
    problem = iscsi_name_problem(text)
    if problem:
        raise PlanError("INVALID_INITIATOR", "%s entry '%s' is not an iSCSI name (RFC 3720/3980): %s" % (option, value, problem),
                        "Use the host's initiator IQN, e.g. from vdc.xenpool.sr_info hosts[].iscsi_iqn (nothing was changed)")
    return text.lower()


def check_size(kind: str, size_gib: float | None, minimum: int, maximum: int | None = None, option: str = "size_gib") -> int | None:
    """size_gib converted to bytes, or PlanError when it is not positive or outside ONTAP's limits."""
    if size_gib is None:
        return None
    size = int(round(float(size_gib) * 1024 ** 3))
    if size_gib <= 0 or size < minimum:
        raise PlanError("INVALID_SIZE", "%s %s is too small: a %s needs at least %d bytes" % (option, size_gib, kind, minimum),
                        "Give a positive size in GiB (nothing was changed)")
    if maximum is not None and size > maximum:
        largest = "%s %s is larger than the largest %s ONTAP allows (%d GiB)" % (option, size_gib, kind, maximum // 1024 ** 3)
        raise PlanError("INVALID_SIZE", largest, "Give a smaller size (nothing was changed)")
    return size


def check_text(value: str | None, limit: int, option: str) -> str | None:
    """A free-text option (a comment) within ONTAP's length limit, or PlanError."""
    if value is not None and len(value) > limit:
        raise PlanError("INVALID_VALUE", "%s is %d characters long; ONTAP keeps at most %d" % (option, len(value), limit),
                        "Shorten %s (nothing was changed)" % option)
    return value


def check_lun_id(value: int | None, option: str = "lun_id") -> int | None:
    """A LUN id in ONTAP's range 0..4095, or PlanError."""
    if value is not None and not 0 <= value <= MAX_LUN_ID:
        raise PlanError("INVALID_LUN_ID", "%s %s is outside 0..%d" % (option, value, MAX_LUN_ID),
                        "Give a LUN id between 0 and %d, or leave it unset to let ONTAP choose (nothing was changed)" % MAX_LUN_ID)
    return value


def check_lun_path(path: t.Any, option: str = "path") -> tuple[str, str]:
    """(volume, LUN name) of '/vol/<volume>/<lun>', each checked, or PlanError."""
    parts = str(path or "").split("/")
    if len(parts) != 4 or parts[0] or parts[1] != "vol":
        raise PlanError("INVALID_NAME", "%s '%s' is not a LUN path /vol/<volume>/<lun>" % (option, path or ""),
                        "Give the path as /vol/<volume>/<lun>, or volume and name (nothing was changed)")
    return check_name("volume", parts[2], option), check_name("LUN", parts[3], option)


def check_parent(record: dict | None, kind: str, name: str, svm: str | None = None, check_mode: bool = False) -> None:
    """The SVM or volume a new object goes into must exist: a missing one is refused while planning, by name.

    In check mode a volume may be one that an earlier task of the same run only predicted, so it is
    not refused then; an SVM is never created by this collection, so its absence always is.
    """
    if record is not None or (check_mode and kind == "volume"):
        return
    if kind == "svm":
        raise PlanError("SVM_NOT_FOUND", "SVM %s does not exist" % name,
                        "Check svm against vdc.xenpool.ontap_info gather_subset svms (nothing was changed)")
    raise PlanError("VOLUME_NOT_FOUND", "volume %s does not exist in SVM %s" % (name, svm),
                    "Create it with vdc.xenpool.ontap_volume, or check volume and svm (nothing was changed)")
