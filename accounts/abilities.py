"""What the current user may do, as one small object templates read: ``{% if can.view_images %}``.

Each ability is a portal right (accounts.rights) or a union of them; ``user.has_perm`` caches
the user's permissions, so reading many abilities costs one query per request.
"""

from __future__ import annotations

from typing import Any

from accounts import rights

ABILITIES: dict[str, tuple[str, ...]] = {
    "view_patients": (rights.VIEW_ALL_PATIENTS, rights.VIEW_GROUP_PATIENTS),
    "view_all_patients": (rights.VIEW_ALL_PATIENTS,),
    "add_patient": (rights.ADD_PATIENT,),
    "change_patient": (rights.CHANGE_PATIENT,),
    "delete_patient": (rights.DELETE_PATIENT,),
    "view_images": (rights.VIEW_IMAGES,),
    "upload_dicom": (rights.UPLOAD_DICOM,),
    "share_images": (rights.SHARE_IMAGES,),
    "list_share_links": (rights.SHARE_IMAGES, rights.VIEW_AUDIT_LOG),
    "manage_users": (rights.MANAGE_USERS,),
    "view_audit_log": (rights.VIEW_AUDIT_LOG,),
}


class Abilities:
    def __init__(self, user: Any) -> None:
        self._user = user

    def __getattr__(self, name: str) -> bool:
        needed = ABILITIES.get(name)
        if needed is None:
            raise AttributeError(name)
        return any(self._user.has_perm(right) for right in needed)


def abilities(request: Any) -> dict[str, Abilities]:
    """Context processor: ``can`` in every template."""
    return {"can": Abilities(request.user)}
