"""Report kernels talk over local IPC sockets, one folder each, removed afterwards."""

import json
import tempfile
from pathlib import Path

import nbformat

from analysis.execute import execute_report
from analysis.params import RunParameters


def test_kernel_uses_ipc_and_leaves_no_socket_folder(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("force = 'x'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import json\nfrom ipykernel import get_connection_info\n"
            "info = json.loads(get_connection_info())\nprint(info['transport'], info['ip'])"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    (tmp_path / "probe.ipynb").write_text(nbformat.writes(nb))
    before = set(Path(tempfile.gettempdir()).glob("crimeplan-kernel-*"))

    out = execute_report("probe", RunParameters(), tmp_path / "out.ipynb", notebooks_dir=tmp_path)

    executed = json.loads(out.read_text())
    text = "".join(executed["cells"][-1]["outputs"][0]["text"])
    transport, ip = text.split()
    assert transport == "ipc"
    assert Path(ip).parent.name.startswith("crimeplan-kernel-")
    assert not Path(ip).parent.exists()
    assert set(Path(tempfile.gettempdir()).glob("crimeplan-kernel-*")) == before
