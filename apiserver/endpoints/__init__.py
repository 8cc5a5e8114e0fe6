"""The REST endpoints of stored resources: one dispatcher, a handler per verb, watch streams.

``ResourceEndpoints`` (``dispatch``) routes a parsed resource request; ``verbs`` and
``watch`` answer it; ``params`` checks query parameters; ``render`` shapes answers for
the Accept header (Table, PartialObjectMetadata); ``responses`` writes bodies and
Status errors straight to ASGI.
"""

from .dispatch import NOT_FOUND, ResourceEndpoints
from .responses import send_bytes, send_status, status_of, warning_headers

__all__ = ["NOT_FOUND", "ResourceEndpoints", "send_bytes", "send_status", "status_of", "warning_headers"]
