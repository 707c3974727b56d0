"""Process-wide test environment: fake AWS credentials and Powertools settings, and hypothesis's profile.

Set at import, before any handler module is imported, because handlers read their environment once
at cold start (module level), exactly as in Lambda.

Every property test runs under the ``ci`` profile unless it says otherwise: derandomized (the same
examples on every run and machine), no example database (nothing written under ``.hypothesis`` to
decide a later run), no deadline (a cold handler is not a failure), few examples (the fuzz suite,
tests/fuzz, stays under a minute on two cores). ``HYPOTHESIS_PROFILE=fuzz-deep`` searches far longer,
at random, for a run by hand.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_DEFAULTS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # botocore >= 1.37 derives endpoints from the account id; moto's DynamoDB streams need it off.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "WorkflowKit",
    "POWERTOOLS_SERVICE_NAME": "workflowkit-tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
for _key, _value in _DEFAULTS.items():
    os.environ.setdefault(_key, _value)

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz-deep", parent=settings.get_profile("ci"), derandomize=False, max_examples=2000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
