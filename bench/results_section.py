"""Replacing one "## ..." section of bench/RESULTS.md, shared by the report scripts."""
import os
import re

READING = "### Reading these figures"


def write_section(results, heading, section):
    """Puts `section` (which starts with `heading`) in place of the old one, or at the end; the other sections stay,
    and so does the old section's hand-written "Reading these figures" subsection."""
    text = open(results).read() if os.path.exists(results) else ""
    start = text.find(heading + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = re.search(r"^## ", text[start + len(heading):], re.M)
        end = start + len(heading) + nxt.start() if nxt else len(text)
        old = text[start:end]
        keep = old[old.find(READING):].rstrip("\n") + "\n" if READING in old else ""
        text = text[:start] + section + ("\n" + keep if keep else "") + ("\n" + text[end:] if nxt else "")
    open(results, "w").write(text.rstrip("\n") + "\n")
