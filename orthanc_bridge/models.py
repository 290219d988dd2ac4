"""The image side's tables: the study index (orthanc_bridge.index.models) and the uploads whose
batches are still arriving (orthanc_bridge.ingest.models)."""

from orthanc_bridge.index.models import IndexedSeries, IndexedStudy, SyncState
from orthanc_bridge.ingest.models import UploadAction

__all__ = ["IndexedSeries", "IndexedStudy", "SyncState", "UploadAction"]
