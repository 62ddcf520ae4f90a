"""scripts/backfill's calls, held to their bounds: they grow with the folders, never with the objects."""

from __future__ import annotations

from benchmarks import backfill


def test_a_small_backfill_makes_no_call_over_its_bound() -> None:
    run = backfill.measure(hours=60, objects_per_hour=3)

    assert run.over == {}
    assert dict(run.calls) == run.bounds  # exactly: ListObjectsV2 one a folder above the hours
    assert run.bounds == {
        "ListObjectsV2": 1 + 1 + 1 + 3,  # flows/, 2024/, 2024/01/, three days
        "GetTable": 1,
        "BatchGetPartition": 1,
        "BatchCreatePartition": 1,
    }


def test_more_objects_a_folder_make_no_more_calls() -> None:
    few = backfill.measure(hours=30, objects_per_hour=1)
    many = backfill.measure(hours=30, objects_per_hour=40)

    assert many.calls == few.calls
