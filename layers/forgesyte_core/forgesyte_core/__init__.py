"""ForgeSyte Serverless shared library: the domain logic behind every function.

Submodules are imported explicitly by callers; this package imports nothing heavy so that a zip
function pays only for what it uses.
"""

__version__ = "0.1.0"
