#!/usr/bin/env bash
# Usage: scripts/check-template.sh [TEMPLATE]   (default template.yaml)
#
# Lints template.yaml offline, every check timed, all of them run even when one fails; the exit
# status is non-zero if any failed (warnings count as failures: fix them or ignore one narrowly,
# with its reason, in the template):
#   cfn-lint            CloudFormation and SAM schema, intrinsics, references
#   cfn-lint-serverless the serverless-rules (DLQs, destinations, log retention, API logging...)
#   checkov             security checks; skips live in the template, each with a one-line reason
#   sam validate --lint SAM CLI's own validation
#   events/             every function has a sample event, every sample belongs to a function
#   after the transform the SAM translator's output: the only `Resource: "*"` left are the three
#                       managed policies docs/TESTING.md lists with their reasons; the roles the bus
#                       policy lets publish exist and carry its tag
#
# The checks run in parallel (about 15 s instead of 22 s on 2 cores); CHECK_TEMPLATE_SERIAL=1 runs
# them one after another, so that each one's time is its own.
#
# Nothing here contacts AWS: dummy credentials, a fixed region, no telemetry, no downloads.
# The tools come from the project's venvs (scripts/venv.sh tools | checkov | contracts), built on
# first use.
set -uo pipefail
template=$(realpath -- "${1:-$(dirname "$0")/../template.yaml}") || exit 2
cd "$(dirname "$0")/.."

export SAM_CLI_TELEMETRY=0 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_SESSION_TOKEN=offline \
  AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL

tools=$(scripts/venv.sh tools) || { echo "check-template: cannot build the tools venv" >&2; exit 1; }
checkov_venv=$(scripts/venv.sh checkov) || { echo "check-template: cannot build the checkov venv" >&2; exit 1; }
contracts=$(scripts/venv.sh contracts) || { echo "check-template: cannot build the contracts venv" >&2; exit 1; }

[[ -f $template ]] || { echo "check-template: no such file: $template" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names=()

# run_check N COMMAND...: runs one check; its output, exit status and duration go to $work/N.*.
run_check() {
  local n=$1 start
  shift
  start=$(date +%s.%N)
  "$@" >"$work/$n.out" 2>&1
  echo $? >"$work/$n.rc"
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }' >"$work/$n.secs"
}

# check NAME COMMAND...: the checks are independent, so they run in the background.
check() {
  local n=${#names[@]}
  names+=("$1")
  shift
  if [[ ${CHECK_TEMPLATE_SERIAL:-0} == 1 ]]; then
    run_check "$n" "$@"
  else
    run_check "$n" "$@" &
  fi
}

events_match_functions() {
  "$tools/bin/python" - "$template" <<'EOF'
import glob, json, os, sys
from cfnlint.decode import decode
template, matches = decode(sys.argv[1])
if template is None:
    sys.exit(f"cannot parse {sys.argv[1]}: {matches}")
names = {
    r["Metadata"]["BuildProperties"]["Binary"]
    for r in template["Resources"].values()
    if r.get("Type") == "AWS::Serverless::Function"
}
problems = []
for path in sorted(glob.glob("events/*.json")):
    fn = os.path.basename(path).split(".")[0]
    if fn not in names:
        problems.append(f"{path}: no function {fn} in the template")
    try:
        json.load(open(path))
    except ValueError as e:
        problems.append(f"{path}: not JSON: {e}")
for fn in sorted(names):
    if not os.path.exists(f"events/{fn}.json"):
        problems.append(f"function {fn} has no events/{fn}.json")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
}

# The template as CloudFormation gets it after the SAM transform (the translator's bundled managed
# policy map; no AWS call), checked for what SAM adds that the inline policies do not show.
after_transform() {
  "$tools/bin/python" - "$template" <<'EOF'
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map

doc = yaml_parse(open(sys.argv[1]).read())
for r in doc["Resources"].values():
    if r.get("Type") == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = "s3://bucket/code.zip"  # what `sam package` puts there


class Policies:
    def load(self):
        return get_bundled_managed_policy_map("aws")


out = transform(doc, {}, Policies())
# The reviewed exceptions (docs/TESTING.md, "Checks on the template"): managed policy -> roles.
allowed = {
    "AWSLambdaBasicExecutionRole": "every",
    "AWSXrayWriteOnlyAccess": "every",
    "AWSLambdaDynamoDBExecutionRole": {"OutboxRelayFunctionRole"},
    "AWSLambdaSQSQueueExecutionRole": {"RedriveOutboxFunctionRole"},
}
problems = []
for lid, r in out["Resources"].items():
    if r["Type"] != "AWS::IAM::Role":
        continue
    for p in r["Properties"].get("Policies", []):
        for st in p["PolicyDocument"]["Statement"]:
            res = st.get("Resource")
            if res == "*" or (isinstance(res, list) and "*" in res):
                problems.append(f"{lid}: inline statement {st.get('Action')} on *")
    for arn in r["Properties"].get("ManagedPolicyArns", []):
        name = str(arn).rsplit("/", 1)[-1]
        ok = allowed.get(name)
        if ok is None or (ok != "every" and lid not in ok):
            problems.append(f"{lid}: managed policy {name} is not a reviewed exception")
role = out["Resources"]["OutboxRelayFunctionRole"]["Properties"]
tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
if tags.get("shop-saga-publisher") != "outbox-relay":
    problems.append("the relay's role lacks the tag the bus policy lets publish")
policy = out["Resources"]["EventBus"]["Properties"].get("Policy")
bus = json.dumps(policy)
if "aws:PrincipalTag/shop-saga-publisher" not in bus or '"Deny"' not in bus:
    problems.append("the bus policy does not deny PutEvents to all but the tagged publisher")
# The roles the bus policy names by ARN are the roles SAM generated, each with the tag.
def getatts(v):
    if isinstance(v, dict):
        return [v["Fn::GetAtt"][0]] if "Fn::GetAtt" in v else [g for x in v.values() for g in getatts(x)]
    return [g for x in v for g in getatts(x)] if isinstance(v, list) else []
named = getatts(policy)
if "aws:PrincipalArn" not in bus or not named:
    problems.append("the bus policy does not deny PutEvents to all but the publishers' roles")
for lid in named:
    r = out["Resources"].get(lid, {})
    tags = {t["Key"]: t["Value"] for t in r.get("Properties", {}).get("Tags", [])}
    if r.get("Type") != "AWS::IAM::Role" or tags.get("shop-saga-publisher") != "outbox-relay":
        problems.append(f"the bus policy names {lid}, which is not a role with the publisher tag")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
}

check "cfn-lint" "$tools/bin/cfn-lint" "$template"
check "cfn-lint + serverless rules" "$tools/bin/cfn-lint" "$template" -a cfn_lint_serverless.rules
check "checkov" "$checkov_venv/bin/checkov" -f "$template" --framework cloudformation --skip-download \
  --quiet --compact
check "sam validate --lint" "$tools/bin/sam" validate --lint --template-file "$template" --region us-east-1
check "events/ samples match the functions" events_match_functions
check "after the SAM transform" after_transform
# The API's contract beside the template: docs/openapi.json (generated from the code, held to it by
# tests/openapi.rs) is a valid OpenAPI 3.1 document.
check "docs/openapi.json is valid OpenAPI 3.1" "$contracts/bin/openapi-spec-validator" docs/openapi.json

wait
failed=()
for n in "${!names[@]}"; do
  rc=$(cat "$work/$n.rc" 2>/dev/null || echo "none") secs=$(cat "$work/$n.secs" 2>/dev/null || echo "?")
  if [[ $rc == 0 ]]; then
    printf 'PASS  %5ss  %s\n' "$secs" "${names[$n]}"
  else
    printf 'FAIL  %5ss  %s (exit %s):\n' "$secs" "${names[$n]}" "$rc" >&2
    sed 's/^/    /' "$work/$n.out" >&2
    failed+=("${names[$n]}")
  fi
done
if ((${#failed[@]})); then
  echo "check-template: ${#failed[@]} check(s) FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "check-template: all checks passed"
