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
    out = execute_report("probe", RunParameters(), tmp_path / "out.ipynb", notebooks_dir=tmp_path)

    executed = json.loads(out.read_text())
    text = "".join(executed["cells"][-1]["outputs"][0]["text"])
    transport, ip = text.split()
    assert transport == "ipc"
    assert Path(ip).parent.name.startswith("crimeplan-kernel-")
    # this kernel's socket folder is gone (other kernels may run beside it under pytest-xdist,
    # so the temp folder as a whole is not compared)
    assert Path(ip).parent.parent == Path(tempfile.gettempdir())
    assert not Path(ip).parent.exists()
