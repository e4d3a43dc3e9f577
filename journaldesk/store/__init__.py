"""The only code that touches a spreadsheet: a local workbook or a Google Sheet, one interface."""

from journaldesk.store.base import CellWrite, InitPlan, Snapshot, Store, TabData

__all__ = ["CellWrite", "InitPlan", "Snapshot", "Store", "TabData"]
