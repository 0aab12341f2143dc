"""crimeplan: quarterly evidence for a Police and Crime Commissioner from police open data."""

import sys

# nbformat validates notebooks with jsonschema, which imports the optional rfc3987-syntax
# package when it is installed (JupyterLab's event schemas pull it in) and compiles about 40
# grammars for IRI formats at import: ~1.3 s in every process that imports papermill or
# nbformat (each pack worker, each test worker). No notebook schema uses those formats, so the
# optional module is marked absent; jsonschema then skips those format checks.
sys.modules.setdefault("rfc3987_syntax", None)
