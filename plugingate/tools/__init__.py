"""External tools (syft, grype, cosign) behind one runner.

Every tool plugingate runs goes through ``ToolRunner``: never a shell, a timeout, a scrubbed
environment, a working folder and HOME outside any bundle, and the tool's version recorded, so that
nothing a bundle carries (a ``.grype.yaml``, a ``.syft.yaml``) can change how a tool behaves.
"""

from __future__ import annotations

from plugingate.tools.locate import Helper, Tool, ToolInfo, locate
from plugingate.tools.runner import ToolRun, ToolRunner

__all__ = ["Helper", "Tool", "ToolInfo", "ToolRun", "ToolRunner", "locate"]
