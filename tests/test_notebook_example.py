"""examples/seed_notebook.ipynb, executed by a real Jupyter kernel (nbclient + ipykernel) of this Python."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "seed_notebook.ipynb"


@pytest.mark.timeout(240)
def test_the_seed_notebook_runs_and_shows_6_and_2_seconds(tmp_path, child_env, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's warning about its old paths
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))  # which Python ran it
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": tmp_path}})
    client.execute(env=child_env())  # raises CellExecutionError naming the cell that failed

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") + "".join(map(str, o.get("data", {}).values())) for o in outputs)
    assert sum("image/svg+xml" in o.get("data", {}) for o in outputs) >= 3  # the pictures
    tables = [o.data["text/plain"] for o in outputs if "text/html" in o.get("data", {})]
    seed = next(t for t in tables if "thread-pool" in t)  # the seed's three cells' table, as the CLI prints it
    walls = {row.split()[0]: float(row.split()[2]) for row in seed.splitlines()[1:4]}
    assert walls["sequential"] == pytest.approx(6.0, abs=0.3)
    assert walls["threads"] == pytest.approx(2.0, abs=0.3) and walls["thread-pool"] == pytest.approx(2.0, abs=0.3)
    assert re.search(r"wall 6\.\d+ s", text) and re.search(r"wall 2\.\d+ s", text)  # the pictures' markers
    assert "Task 2 finished" in text and "All tasks done" in text  # the seed's printed lines
    ran_by = nb.cells[-1].outputs[0]["text"].strip()
    assert os.path.realpath(ran_by) == os.path.realpath(sys.executable)
