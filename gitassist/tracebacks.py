"""Where in the user's code an exception came from: the one frame an error message names."""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

Frame = tuple[str, int, str]  # file name, line number, source line

_GITASSIST_DIR = Path(__file__).resolve().parent
_LIBRARY_DIRS = tuple(
    Path(p).resolve() for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
)


def is_under(path: Path, dirs: Sequence[Path]) -> bool:
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return any(resolved.is_relative_to(d) for d in dirs)


def is_library_file(filename: str) -> bool:
    """Not user code: a generated frame, an installed package (also in a virtualenv inside the
    project), the standard library, or gitassist itself."""
    if filename.startswith("<"):
        return True
    parts = Path(filename).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return is_under(Path(filename), (_GITASSIST_DIR, *_LIBRARY_DIRS))


def user_frame(exc: BaseException, dirs: Sequence[Path], *, fallback: bool = True) -> Frame | None:
    """The innermost frame of ``exc`` in the user's ``dirs`` (a syntax error's own line
    counts); with ``fallback``, else the innermost frame that is not library code."""
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [(f.filename, f.lineno or 0, (f.line or "").strip()) for f in tb]
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append((exc.filename, exc.lineno or 0, (exc.text or "").strip()))
    for frame in reversed(frames):
        if is_under(Path(frame[0]), dirs) and not is_library_file(frame[0]):
            return frame
    if fallback:
        for frame in reversed(frames):
            if not is_library_file(frame[0]):
                return frame
    return None
