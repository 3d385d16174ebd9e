"""Why a landing file was not loaded: one exception class per kind of refusal.

Every message names the file (and, where it matters, the feed, the month, the column or the
line) and what was expected, so the person who receives it can act without reading code.
"""

from __future__ import annotations


class FeedLoadError(Exception):
    """A landing file could not be loaded; the message says which file and why."""


class UnknownSchemaVariant(FeedLoadError):
    """The header is none of the feed's known layouts."""


class EmptyFeedFile(FeedLoadError):
    """0 bytes, or a header with no data rows."""


class TooManyRejectedRows(FeedLoadError):
    """More of the file could not be read or typed than the feed allows."""


class MissingSubmission(FeedLoadError):
    """No file for a month that was expected."""


class MisfiledDelivery(FeedLoadError):
    """A feed's files in a folder that is not named as a month."""


class TruncatedFile(FeedLoadError):
    """The file ends mid-record: cut short in transfer."""


class UnbalancedQuote(FeedLoadError):
    """A quote opened and never closed: the rest of the file would read as one value."""


class ShrunkDelivery(FeedLoadError):
    """A re-delivery far smaller than the delivery it would replace."""


class DeliveryRefused(FeedLoadError):
    """The feed's blocking checks refused the staged month; the previous data stay."""


class BadArchive(FeedLoadError):
    """A zip archive that cannot be read as shipped: corrupt, truncated, encrypted, or in a
    compression method Python cannot read."""


class UnsafeArchiveMember(BadArchive):
    """A zip member whose name climbs out of its folder, is absolute, or is a symbolic link."""


class ArchiveTooLarge(BadArchive):
    """A zip member that inflates past the configured limits (a zip bomb, or headers that lie)."""


class NotTextFile(FeedLoadError):
    """A file that is not delimited text: binary, NUL-filled, or UTF-16."""


class UnsafeLandingPath(FeedLoadError):
    """A symbolic link in the landing folder that leads out of it."""
