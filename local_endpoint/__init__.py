"""A local AWS endpoint: moto's server, patched to behave like AWS for this project."""

from local_endpoint.endpoint import EndpointError, LocalEndpoint

__all__ = ["EndpointError", "LocalEndpoint"]
