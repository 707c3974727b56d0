"""The CDK side of the kit: reusable constructs (three patterns, data, observability) and the stack."""
