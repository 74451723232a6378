"""Requests for the in-context video editor services, their limits, schemas and cost.

``table`` (the services as data, dated), ``schemas/`` (one JSON Schema per service), ``bodies``
(pure body builders and limit checks), ``requests`` (plan -> request files), ``cost`` (dated
prices and the estimate).
"""

from .bodies import SegmentAnchor, SegmentInput, build_body, check_limits, validate_body
from .cost import CostEstimate, estimate
from .requests import (
    RequestFile,
    build_requests,
    parse_video_url,
    prepare_requests,
    services_profile,
    write_requests,
)
from .table import GEN4_SIZES, SERVICES, TABLE_READ, Service, parse_service

__all__ = [
    "GEN4_SIZES",
    "SERVICES",
    "TABLE_READ",
    "CostEstimate",
    "RequestFile",
    "SegmentAnchor",
    "SegmentInput",
    "Service",
    "build_body",
    "build_requests",
    "check_limits",
    "estimate",
    "parse_service",
    "parse_video_url",
    "prepare_requests",
    "services_profile",
    "validate_body",
    "write_requests",
]
