"""The kinds the tool scales, one module per mechanism, and the registry that names them all.

Pure: no I/O, no clock. Imports only the foundation (``model``, ``constants``, ``errors``).
"""
