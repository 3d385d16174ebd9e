"""`make publish`: publish the warehouse as it stands, in a Dagster run (shown in the UI).

The release asset refuses when the latest verdict of any blocking check is a failure, so this
publishes only a good build. `make run` publishes at the end of every good run anyway.
"""

from __future__ import annotations

import sys
import warnings

import dagster as dg

from orchestration.lib import settings


def main() -> int:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    settings.export_environment()
    from orchestration.definitions import defs
    from orchestration.lib.run_summary import release_lines

    result = defs.resolve_job_def("publish_release").execute_in_process(
        instance=dg.DagsterInstance.get(), raise_on_error=False
    )
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error.cause is not None:  # the step's own error, not Dagster's wrapper
                error = error.cause
            print(f"Publishing failed: {error.message.strip()}", file=sys.stderr)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            data = event.event_specific_data
            print(
                f"Release check failed: {data.check_name}\n{data.metadata['problems'].value}", file=sys.stderr
            )
    for line in release_lines():
        print(line)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
