"""The access matrix: who can do what with each key, read from the key policies alone.

Three modules, one job each:
- `keypolicy.matrix.model`: `AccessMatrix` (one `KeyAccess` table per key), `Permission` (one
  cell) and the default `COLUMNS`;
- `keypolicy.matrix.build`: `build_matrix({key label: (key ARN or None, policy)},
  {row label: principal ARN})`, and `permission(...)` for one cell;
- `keypolicy.matrix.render`: `render_table(matrix) -> str` and `to_json(matrix) -> dict`.

Which rows to ask about is the caller's choice; this project's rows, and its stack's
template outputs, are in `kms_sign_encrypt.access_rows`.
"""

from ..errors import PolicyError
from .build import build_matrix, permission
from .model import COLUMNS, OTHER_ACTIONS, AccessMatrix, KeyAccess, Permission
from .render import LEGEND, render_table, to_json

__all__ = [
    "COLUMNS",
    "LEGEND",
    "OTHER_ACTIONS",
    "AccessMatrix",
    "KeyAccess",
    "Permission",
    "PolicyError",
    "build_matrix",
    "permission",
    "render_table",
    "to_json",
]
