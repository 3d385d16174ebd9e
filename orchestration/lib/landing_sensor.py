"""A sensor that notices new or re-delivered files in the landing folder.

The cursor remembers each file's mtime and size. A new or changed file requests a run of its
feed's load asset and everything downstream, for the month of its folder (monthly feeds) or
unpartitioned (snapshot feeds, whose run rebuilds every month of the incremental models, since
a new reference release can change any month's attribution). A re-delivered month therefore
replaces the earlier load.
"""

import json
from collections.abc import Sequence

import dagster as dg

from orchestration.lib import landing
from orchestration.lib.feed_spec import FeedSpec
from orchestration.lib.schedules import feed_selection


def changed_files(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """Relative paths that are new or whose mtime/size changed since the previous tick."""
    return sorted(path for path, state in current.items() if previous.get(path) != state)


def _state_of_month(current: dict[str, str], changed: list[str], month: str) -> str:
    """The mtime:size of a month's changed files: a re-delivery gives a new run key."""
    return "|".join(current[p] for p in changed if p.startswith(month))


def build_landing_sensor(feeds: Sequence[FeedSpec], name: str = "landing_sensor") -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=300,
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests a load (and downstream rebuild) when a file lands or is re-delivered.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        cursor = json.loads(context.cursor) if context.cursor else {}
        new_cursor, requests = {}, []
        for spec in feeds:
            current = landing.landing_state(spec)
            new_cursor[spec.name] = current
            changed = changed_files(cursor.get(spec.name, {}), current)
            keys = sorted(feed_selection(spec, feeds).resolve(context.repository_def.asset_graph))
            if spec.cadence == "monthly":
                for month in sorted({path.split("/")[0] for path in changed}):
                    requests.append(
                        dg.RunRequest(
                            run_key=f"{spec.name}:{month}:{_state_of_month(current, changed, month)}",
                            partition_key=f"{month}-01",
                            asset_selection=keys,
                            tags={"landing/feed": spec.name, "landing/month": month},
                        )
                    )
            elif changed:
                requests.append(
                    dg.RunRequest(
                        run_key=f"{spec.name}:{'|'.join(current[p] for p in changed)}",
                        asset_selection=keys,
                        tags={"landing/feed": spec.name},
                    )
                )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(new_cursor))

    return _sensor
