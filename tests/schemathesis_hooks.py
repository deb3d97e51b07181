"""Schemathesis hooks for scripts/fuzz-api.sh (loaded through SCHEMATHESIS_HOOKS).

Each hook states a rule of the API that the OpenAPI document says in words because JSON Schema
cannot say it, so that generated data the document calls valid is valid.
"""

import schemathesis


@schemathesis.hook
def filter_body(context, body):
    # An order names each product on one line only (a second line for it is a 400 invalid-field,
    # as the `lines` description says): JSON Schema's uniqueItems compares whole items, not one
    # field of them.
    op = context.operation
    if op is None or op.method.upper() != "POST" or op.path != "/orders" or not isinstance(body, dict):
        return True
    lines = body.get("lines")
    if not isinstance(lines, list):
        return True
    ids = [str(line.get("productId")) for line in lines if isinstance(line, dict)]
    return len(ids) == len(set(ids))
