"""Print the declared minimum versions of inr's dependencies (and given extras) as ``==`` pins.

``python .ci/floors.py pyproject.toml shapes > floors.txt``: a pip constraints
file, so that the release check installs exactly the floors ``pyproject.toml``
declares (the test suite itself runs with the newest versions).
"""

import re
import sys

text = open(sys.argv[1]).read()


def listed(name: str) -> list[str]:
    """The quoted requirements of the TOML array ``name = [...]``."""
    body = re.search(rf"^{re.escape(name)} = \[(.*?)\]\s*$", text, re.S | re.M)[1]
    return re.findall(r'"([^"]+)"', body)


for requirement in listed("dependencies") + [r for e in sys.argv[2:] for r in listed(e)]:
    floor = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[.*\])?>=([^,;]+)", requirement.replace(" ", ""))
    if floor:
        print(f"{floor[1]}=={floor[2]}")
