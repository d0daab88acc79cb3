"""A page audit: compile a LaTeX document with pdflatex and list what a reader would see as a flaw, every
Overfull or Underfull box (TeX's own report) and every equation tag that amsmath had to move to a line of its
own because the row was too wide for it (reported by a probe wrapped around amsmath's tag placement)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

# amsmath decides per row of an align whether the tag fits (\shift@tag\row@ is 1 when it does not) and sets
# it a line lower; a single-line display (equation) moves it with \emdf@Ra. The probe reports both.
TAG_PROBE = r"""\makeatletter
\let\auditpage@placetag\place@tag
\def\place@tag{\if1\shift@tag\row@\relax\typeout{Tag alone on its line: row \the\row@\space of the display
 ending at input line \the\inputlineno}\fi\auditpage@placetag}
\let\auditpage@emdfRa\emdf@Ra
\def\emdf@Ra{\typeout{Tag alone on its line: the display ending at input line \the\inputlineno}\auditpage@emdfRa}
\makeatother
"""

FLAW = re.compile(r"^(?:(?:Overfull|Underfull) \\[hv]box .*|Tag alone on its line: .*)$", re.M)


def probed(tex: str) -> str:
    """`tex` with the tag probe loaded just before \\begin{document}."""
    assert r"\begin{document}" in tex and r"\usepackage{amsmath}" in tex
    return tex.replace(r"\begin{document}", TAG_PROBE + r"\begin{document}", 1)


def page_flaws(tex: str, pdflatex: str, keep: Path | None = None) -> list[str]:
    """Every box TeX reports as over- or underfull, and every tag set alone on its line, in `tex`'s pages
    (after the second pass, with references resolved). `keep`: a folder to copy the log to."""
    with tempfile.TemporaryDirectory(prefix="derive-pages-") as folder:
        source = Path(folder) / "doc.tex"
        source.write_text(probed(tex), encoding="utf-8")
        for _ in range(2):
            run = subprocess.run([pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                                  source.name], cwd=folder, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
            assert run.returncode == 0, run.stdout.decode("utf-8", "replace")[-2000:]
        log = (Path(folder) / "doc.log").read_text(encoding="utf-8", errors="replace")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / "doc.log").write_text(log, encoding="utf-8")
    return [" ".join(flaw.split()) for flaw in FLAW.findall(_unwrapped(log))]


def _unwrapped(log: str) -> str:
    """TeX wraps log lines at 79 characters; join them back so that a message is one line."""
    return re.sub(r"(?m)^(.{79})\n", r"\1", log)
