"""Sphinx configuration for the nsshutdown documentation. Build with ``make docs``.

Everything builds offline: no intersphinx, no remote images, no diagram binary. Reference pages are
generated from the code by the local extension in ``_ext/nsshutdown_docs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]

from nsshutdown import __version__  # noqa: E402 - needs the path above

project = "nsshutdown"
author = "The nsshutdown authors"
project_copyright = "The nsshutdown authors"
release = __version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "nsshutdown_docs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# MyST: ::: fences for admonitions, definition lists, and anchors for ## and ### headings so pages
# can link to each other's sections with [text](page.md#anchor).
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

# Python API (autodoc). Docstrings are reStructuredText.
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autoclass_content = "class"

html_theme = "furo"
html_title = f"nsshutdown {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True}
pygments_style = "friendly"
pygments_dark_style = "monokai"

# Hand-written folder indexes whose folder's pages are listed automatically (see _ext).
nsshutdown_folder_indexes = ["runbooks/index", "deploy/index"]
