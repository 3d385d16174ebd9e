"""dbt-duckdb plugin: every dbt connection gets the stats macros (profiles.yml `plugins:`).

On the warehouse they persist in the `stats` schema, so BI tools reading the warehouse can call
`stats.wilson_lower(...)` too; on the `:memory:` lint target they exist for the session.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.stats.install import install


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        install(conn)
