"""The image side's tables: the study index (orthanc_bridge.index.models) and the uploads whose
batches are still arriving (orthanc_bridge.ingest.models), and the share links
(orthanc_bridge.shares.models)."""

from orthanc_bridge.index.models import IndexedSeries, IndexedStudy, SyncState
from orthanc_bridge.ingest.models import UploadAction
from orthanc_bridge.shares.models import ShareLink

__all__ = ["IndexedSeries", "IndexedStudy", "ShareLink", "SyncState", "UploadAction"]
