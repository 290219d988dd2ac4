"""The image side's tables: the study index (orthanc_bridge.index.models)."""

from orthanc_bridge.index.models import IndexedSeries, IndexedStudy, SyncState

__all__ = ["IndexedSeries", "IndexedStudy", "SyncState"]
