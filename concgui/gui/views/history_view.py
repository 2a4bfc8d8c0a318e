"""The history view: past runs from the SQLite store, to reopen, delete, save and load.

The table reads only the store's small per-run rows (:meth:`HistoryStore.list_runs`),
never task rows, so it stays instant with thousands of runs; a run's tasks are
read when it is opened.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...engine.exports import LoadCancelled, save_result, save_results
from ...engine.present import seconds, speedup
from ...history import RUNNING_STATUS, HistoryError, HistoryStore
from ..file_loading import load_with_progress

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # the raw value a column sorts by
RUN_ID_ROLE = Qt.ItemDataRole.UserRole

_Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    """One row per past run, newest first, from ``HistoryStore.list_runs()``."""

    COLUMNS = ("When", "Workload", "Executor", "Tasks", "Workers", "Wall", "Status")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self.active_run: int | None = None  # the run being recorded now: 'running', not 'interrupted'

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def run_id(self, row: int) -> int:
        return int(self._rows[row]["id"])

    def status_text(self, r: dict[str, Any]) -> str:
        if not r["finished"]:
            if r["id"] == self.active_run:
                return RUNNING_STATUS
            return f"{RUNNING_STATUS} in another process" if r.get("recorded_by") else "interrupted"
        return str(r["status"])

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == RUN_ID_ROLE:
            return r["id"]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == SORT_ROLE:
            executor = r.get("executor_label") or r["executor"] or ""
            return (r["started_at"], r["workload"] or "", executor, r["tasks"] or 0, r["workers"] or 0,
                    r["wall_seconds"] if r["wall_seconds"] is not None else -1.0, self.status_text(r))[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            speed = f", speedup {speedup(r['speedup'])}" if r.get("speedup") else ""
            started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"] or 0))
            going = f", still recorded by process {r['recorded_by']}" if r.get("recorded_by") else ""
            return f"Run {r['id']}, started {started}{speed}{going}. Double-click or Enter opens it."
        return None

    def _display(self, r: dict[str, Any], col: int) -> str:
        if col == 0:
            return when(r["started_at"] or 0)
        if col == 1:
            return r["workload"] or ""
        if col == 2:
            return r.get("executor_label") or r["executor"] or ""
        if col == 3:
            return f"{r['tasks']:,}"
        if col == 4:
            return "" if r["workers"] is None else f"{r['workers']:,}"
        if col == 5:
            return "" if r["wall_seconds"] is None or not r["finished"] else seconds(r["wall_seconds"])
        return self.status_text(r)


def when(started_at: float, now: float | None = None) -> str:
    """A run's start as short as it can be told apart: the time today, the day this year, else the date."""
    t, today = time.localtime(started_at), time.localtime(now)
    if t[:3] == today[:3]:
        return time.strftime("%H:%M:%S", t)
    return time.strftime("%b %d %H:%M" if t.tm_year == today.tm_year else "%Y-%m-%d", t)


class HistoryView(QWidget):
    """Past runs in a table; open, delete, save to and load from the engine's JSON run files."""

    #: a run the window should show in every view
    open_requested = Signal(int)
    #: several runs the window should show side by side in Compare (ids, earliest first)
    compare_requested = Signal(list)

    def __init__(self, store: HistoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self.store = store
        self.last_folder = str(Path.home())

        self.model = HistoryModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)

        self.notice = QLabel(self)  # e.g. the history file was damaged and replaced
        self.notice.setObjectName("historyNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(bool(store.notice))
        self.notice.setText(store.notice or "")

        self.table = QTableView(self)
        self.table.setObjectName("historyTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        enter = QAction("Open run", self.table)
        enter.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        enter.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        enter.triggered.connect(self.open_selected)
        self.table.addAction(enter)
        delete = QAction("Delete runs", self.table)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.delete_selected)
        self.table.addAction(delete)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.open_button = self._button("Open", "Show the selected run in every view; several selected: side by "
                                        "side in the Compare tab, the earliest as the baseline", self.open_selected)
        self.delete_button = self._button("Delete", "Delete the selected runs from the history", self.delete_selected)
        self.save_button = self._button("Save as JSON…", "Save the selected runs as a ConcGUI run file",
                                        self.save_selected)
        self.load_button = self._button("Open JSON…", "Add runs from a ConcGUI run file to the history and show them",
                                        self.open_file)
        for b in (self.open_button, self.delete_button, self.save_button, self.load_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.refresh()

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setToolTip(tip)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # --- data --------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the run list from the store, keeping the selection where it can."""
        keep = set(self.selected_ids())
        self.model.set_rows(self.store.list_runs())
        if keep:
            self.select_ids(keep)
        self._update_buttons()

    def add(self, result) -> int:
        """Save a finished run into the store, list it and select it; returns its id."""
        run_id = self.store.save(result)
        self.refresh()
        self.select_ids({run_id})
        return run_id

    def set_active_run(self, run_id: int | None) -> None:
        """The run being recorded incrementally now (shown as running, not interrupted)."""
        self.model.active_run = run_id
        self.refresh()

    # --- selection ---------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return [int(self.proxy.data(i, RUN_ID_ROLE)) for i in sorted(rows, key=lambda i: i.row())]

    def select_ids(self, ids: set[int]) -> None:
        sel = self.table.selectionModel()
        sel.clearSelection()
        first = None
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if int(self.proxy.data(index, RUN_ID_ROLE)) in ids:
                sel.select(index, sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
                first = first or index
        if first is not None:
            sel.setCurrentIndex(first, sel.SelectionFlag.NoUpdate)
            self.table.scrollTo(first)

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        self.open_button.setEnabled(n > 0)
        self.delete_button.setEnabled(n > 0)
        self.save_button.setEnabled(n > 0)

    # --- actions -----------------------------------------------------------------
    def open_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) > 1:
            self.compare_requested.emit(sorted(ids))
        elif ids:
            self.open_requested.emit(ids[0])

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        what = "this run" if len(ids) == 1 else f"these {len(ids)} runs"
        answer = QMessageBox.question(self, "Delete runs", f"Delete {what} from the history? This cannot be undone.",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_runs(ids)

    def delete_runs(self, ids: list[int]) -> None:
        """Delete without asking (the confirmation is the caller's); a run the history cannot drop says why."""
        try:
            for run_id in ids:
                self.store.delete(run_id)
        except HistoryError as exc:  # locked, read-only, or a past run shown from a read-only copy
            QMessageBox.warning(self, "Cannot delete", f"Could not delete: {exc}.")
        self.refresh()

    def save_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        first = self.model_row(ids[0])
        name = f"concgui-run-{ids[0]}-{first.get('workload')}-{first.get('executor')}.json" if len(ids) == 1 \
            else f"concgui-{len(ids)}-runs.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save runs as JSON", str(Path(self.last_folder) / name),
                                              "ConcGUI run files (*.json)")
        if not path:
            return
        try:
            self.save_json(path, ids)
        except (OSError, ValueError, KeyError) as exc:
            QMessageBox.warning(self, "Cannot save", f"Could not save {Path(path).name}: {exc}")

    def save_json(self, path: str | Path, ids: list[int]) -> None:
        """One run as a run file, several in the compare format ``{"runs": [...]}``."""
        results = [self.store.load(i) for i in ids]
        if len(results) == 1:
            save_result(path, results[0])
        else:
            save_results(path, results)
        self.last_folder = str(Path(path).parent)

    def open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a ConcGUI run file", self.last_folder,
                                              "ConcGUI run files (*.json);;All files (*)")
        if path:
            self.open_json(path)

    def open_json(self, path: str | Path) -> list[int]:
        """Load a run file into the history and open its runs; a bad file is explained, not raised."""
        try:  # off the UI thread, with progress and Cancel, as File ▸ Open
            results = load_with_progress(self, path)
        except LoadCancelled:
            return []
        except (OSError, ValueError) as exc:
            name = Path(path).name
            text = str(exc) if name in str(exc) else f"{name}: {exc}"
            QMessageBox.warning(self, "Cannot open this file", text)
            return []
        self.last_folder = str(Path(path).parent)
        ids = [self.store.save(r) for r in results]
        self.refresh()
        self.select_ids(set(ids))
        if len(ids) > 1:  # a comparison's file: side by side again
            self.compare_requested.emit(ids)
        elif ids:
            self.open_requested.emit(ids[0])
        return ids

    def model_row(self, run_id: int) -> dict[str, Any]:
        for row in range(self.model.rowCount()):
            if self.model.run_id(row) == run_id:
                return self.model._rows[row]
        return {}
