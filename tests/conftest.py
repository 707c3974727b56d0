"""Process-wide test environment: fake AWS credentials and Powertools settings.

Set at import, before any handler module is imported, because handlers read their environment once
at cold start (module level), exactly as in Lambda.
"""

from __future__ import annotations

import os

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
