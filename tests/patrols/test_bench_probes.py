"""The upload benchmark's phase clock wraps functions of the upload path by name.

When issue 12 renamed `parse_track` to `parse_upload`, every "ours" run of `bench/run.py`
failed with an AttributeError and the benchmark table had no rows of ours. This keeps the
probe names in step with the code they time.
"""

from __future__ import annotations

import geo_patrol.patrols.upload as upload
from bench.upload import PHASES, PhaseClock


def test_every_probed_function_is_called_by_name_in_the_upload_module() -> None:
    missing = [name for name in PHASES if not callable(getattr(upload, name, None))]
    assert missing == []


def test_the_clock_installs_on_a_copy_of_the_module() -> None:
    class Module:
        pass

    copy = Module()
    for name in PHASES:
        setattr(copy, name, getattr(upload, name))
    clock = PhaseClock()
    clock.install(copy)  # type: ignore[arg-type]
    assert all(getattr(copy, name) is not getattr(upload, name) for name in PHASES)
