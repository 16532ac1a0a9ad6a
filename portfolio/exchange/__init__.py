"""The portfolio exchange format (DESIGN section 7): validate, import and export a whole portfolio."""

from __future__ import annotations

from portfolio.exchange.dump import export_document
from portfolio.exchange.load import ImportSummary, import_document
from portfolio.exchange.validate import FORMAT, ImportRejected

__all__ = ["FORMAT", "ImportRejected", "ImportSummary", "export_document", "import_document"]
