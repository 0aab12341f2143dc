"""Raw files -> validated Parquet store (see docs/architecture.md, "The processed store").

Public API: :func:`ingest`, :func:`print_status`, :class:`IngestReport` and the reference-loader
registry :data:`REFERENCE_LOADERS`.
"""

from analysis.ingest.build import IngestReport, current_snapshot_id, ingest
from analysis.ingest.reference import REFERENCE_LOADERS, ReferenceLoader
from analysis.ingest.status import check_store, print_status

__all__ = [
    "REFERENCE_LOADERS",
    "IngestReport",
    "ReferenceLoader",
    "check_store",
    "current_snapshot_id",
    "ingest",
    "print_status",
]
