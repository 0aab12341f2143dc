"""Execute one report notebook with Papermill (used by the pack runner and by the tests)."""

from __future__ import annotations

from pathlib import Path

from analysis.params import RunParameters
from analysis.paths import NOTEBOOKS_DIR

KERNEL_NAME = "python3"  # ipykernel's own spec: the interpreter running this process


def report_path(name: str, notebooks_dir: Path | None = None) -> Path:
    """Path of report notebook ``name`` (stem, e.g. ``"01_crime_by_area"``).

    ``notebooks_dir`` defaults to the project's ``notebooks/`` folder (tests may point elsewhere).
    """
    path = Path(notebooks_dir or NOTEBOOKS_DIR) / f"{name}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"no report notebook {path}")
    return path


def execute_report(
    name: str,
    params: RunParameters,
    output_path: Path,
    timeout: int = 900,
    notebooks_dir: Path | None = None,
) -> Path:
    """Run notebook ``name`` with ``params`` and write the executed copy to ``output_path``.

    Only the validated plain values of :class:`RunParameters` are injected. Raises
    ``papermill.PapermillExecutionError`` when a cell fails (the executed copy, with the error, is
    still written).
    """
    import papermill as pm

    source = report_path(name, notebooks_dir)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(source),
        str(output_path),
        parameters=params.as_papermill(),
        kernel_name=KERNEL_NAME,
        cwd=str(source.parent),
        progress_bar=False,
        execution_timeout=timeout,
        report_mode=False,
        kernel_manager_class="analysis.execute.LocalKernelManager",
    )
    return output_path


def _local_kernel_manager():
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Unicode, default

    class LocalKernelManager(AsyncKernelManager):
        """A kernel on local IPC sockets (not TCP ports): unreachable from the network, and no
        plain-text-over-TCP warning in every report run. Each kernel gets its own socket folder,
        so parallel reports never share a socket."""

        transport = Unicode("ipc")

        @default("ip")
        def _ip_default(self) -> str:
            return str(Path(tempfile.mkdtemp(prefix="crimeplan-kernel-")) / "kernel")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                Path(self.ip).parent.rmdir()  # empty once the IPC files are cleaned up

    return LocalKernelManager


LocalKernelManager = _local_kernel_manager()
