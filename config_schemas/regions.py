"""The AWS regions that exist, so that ``account.region`` is refused when AWS has no such region, with the
closest ones named when it looks like a typo (at most two letters typed, dropped, changed or swapped).

The regions are those of every partition in botocore's partitions data (``botocore/data/partitions.json``,
pseudo-regions such as ``aws-global`` left out), copied here rather than read at run time: validate-config
runs without botocore, and the Lambda runtime's botocore may be older than the one a deploy used, which would
refuse at cold start a region that validated. A test compares this table with the installed botocore's.
"""

from __future__ import annotations

# botocore 1.44.8: partition -> regions
AWS_REGIONS: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "me-west-1",
        "mx-central-1",
        "sa-east-1",
        "sa-west-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-eusc": ("eusc-de-east-1",),
    "aws-iso": ("us-iso-east-1", "us-iso-west-1"),
    "aws-iso-b": ("us-isob-east-1", "us-isob-west-1"),
    "aws-iso-e": ("eu-isoe-west-1",),
    "aws-iso-f": ("us-isof-east-1", "us-isof-south-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
BOTOCORE_VERSION = "1.44.8"
_REGIONS = frozenset(region for regions in AWS_REGIONS.values() for region in regions)
# How many edits (a letter typed, dropped, changed, or two swapped) a typo may be away from a region
_TYPO_EDITS = 2


def region_problem(name: str) -> str | None:
    """Why ``name`` is not an AWS region, naming the closest regions when there are any, or None."""
    if name in _REGIONS:
        return None
    problem = f"no AWS partition has this region (as of botocore {BOTOCORE_VERSION})"
    closest = _closest(name.lower())
    if closest:
        shown = [f'"{region}"' for region in closest]
        either = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        problem += f"; did you mean {either}?"
    return problem


def _closest(name: str) -> list[str]:
    """The regions fewest edits away from ``name``, if that is a typo's few, sorted."""
    distances = {region: _edits(name, region) for region in _REGIONS}
    fewest = min(distances.values())
    if fewest > _TYPO_EDITS:
        return []
    return sorted(region for region, distance in distances.items() if distance == fewest)


def _edits(first: str, second: str) -> int:
    """Letters typed, dropped or changed, and neighbours swapped, to turn one string into the other
    (Damerau-Levenshtein, optimal string alignment)."""
    previous: list[int] = []
    row = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        before, previous, row = previous, row, [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]
