"""Sphinx configuration of tacker_rpc's documentation (``tox -e docs``)."""

import tacker_rpc

project = "tacker_rpc"
copyright = "tacker_rpc authors; Apache-2.0"
release = tacker_rpc.__version__
version = release

extensions = ["sphinx.ext.autodoc"]

# Pages that are not part of the built documentation.
exclude_patterns = ["build"]

# The API reference follows the source order of each module, so that it
# reads like the module's own docstring.
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}

html_theme = "alabaster"
html_static_path = []
