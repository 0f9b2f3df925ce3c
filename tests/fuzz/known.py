"""Bugs the fuzzer has found that are reported but not fixed yet.

A finding whose every problem matches an entry here is listed in the summary as known
instead of failing the run; its regression file in `crashers/` is named `bug-<id>--...` and
is an expected failure. When the bug is fixed, that test fails to say so: then drop the
file's `bug-<id>--` prefix and delete the entry here.

Fixed so far (their files stay in crashers/ as plain regression inputs): Pillow's object
reprs in error sentences (png-signature-only.png, jpeg-sof-0x32.jpg), JPEG variants taller
than libjpeg's 65500 (png-gray-1x65501-jpeg-side-limit.png), exceptions escaping render,
a tRNS chunk longer than the palette (png-palette2-trns257.png), an ICC header whose
colour space is not ASCII (jpeg-gray-icc-space-c3.jpg), and the memory of a 1×100,000,000
strip (png-gray-1x100000000.png, now refused by the 100,000 px side limit), and GIFs whose
first frame is far larger than the screen, which Pillow's reader allocates while opening
(gif-first-frame-91647x93695-disposal-fill.gif, gif-frame-at-10000x1-size-65535x65535-1000-
frames.gif: 1.8 and 4.2 GB; now refused from the raw bytes by render/prescan.py).
"""

from __future__ import annotations

import re

# id -> a pattern that the problems it causes match
KNOWN: dict[str, str] = {}


def known_bug(kind: str, problems: list[str], verdict: dict | None = None) -> str | None:
    """The ids of the known bugs that explain every problem of a finding, or None.

    Crashes and hangs are never explained away: their text says nothing about the cause.
    """
    if kind in ("crash", "hang") or not problems:
        return None
    ids = []
    for problem in problems:
        bug = next((bug for bug, pattern in KNOWN.items() if re.search(pattern, problem)), None)
        if bug is None:
            return None
        if bug not in ids:
            ids.append(bug)
    return ", ".join(ids)
