#!/usr/bin/env bash
# Usage: scripts/upload-storefront.sh STACK
#
# Puts the storefront on a deployed stack (after `sam deploy`; docs/DEPLOY.md):
#   1. reads the stack's outputs (ApiUrl, StorefrontUrl, StorefrontBucketName,
#      StorefrontDistributionId, AuthDomain, StorefrontClientId);
#   2. uploads every file of the site directory to the bucket with its content type, set here by
#      extension (an extension not listed stops the upload before anything is sent: a module
#      served as application/octet-stream would not run), and a cache header: HTML no-cache,
#      everything else five minutes (the files have no hash in their names);
#   3. writes /config.json, no-cache, naming the API and the Cognito hosted UI the page signs in
#      with, and /openapi.json (docs/openapi.json), which the API explorer at /docs reads;
#   4. deletes the bucket's objects the directory no longer has;
#   5. invalidates the distribution's cache, so the edge serves the new files at once.
#
# STOREFRONT_SITE is the directory to upload (default crates/storefront/site). Every AWS call is
# the `aws` CLI's (v2, or v1 from 1.29), so AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL apply
# as usual; the end-to-end test points AWS_ENDPOINT_URL at ministack.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: scripts/upload-storefront.sh STACK" >&2; exit 2; }
stack=$1
root=$(cd "$(dirname "$0")/.." && pwd)
site=${STOREFRONT_SITE:-$root/crates/storefront/site}
[[ -f $site/index.html ]] || { echo "upload-storefront: no index.html in $site" >&2; exit 1; }
command -v aws >/dev/null || { echo "upload-storefront: the aws CLI is not on PATH" >&2; exit 1; }

output() {
  local v
  v=$(aws cloudformation describe-stacks --stack-name "$stack" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue")
  [[ -n $v && $v != None ]] || { echo "upload-storefront: stack $stack has no output $1" >&2; exit 1; }
  # Every value goes into JSON below as it is: none may hold a quote, a backslash or a space.
  [[ $v =~ ^[A-Za-z0-9:/._-]+$ ]] || { echo "upload-storefront: unexpected $1: $v" >&2; exit 1; }
  printf '%s' "$v"
}
api_url=$(output ApiUrl)
api_url=${api_url%/}
origin=$(output StorefrontUrl)
bucket=$(output StorefrontBucketName)
distribution=$(output StorefrontDistributionId)
auth_domain=$(output AuthDomain)
client_id=$(output StorefrontClientId)

# Content type by extension; the page is plain HTML, CSS and ES modules with their images and fonts.
type_of() {
  # A vendored library's LICENSE and VERSION go out with it, as text.
  case ${1##*/} in
    LICENSE | VERSION) echo "text/plain; charset=utf-8"; return ;;
  esac
  case ${1##*.} in
    html) echo "text/html; charset=utf-8" ;;
    js | mjs) echo "text/javascript; charset=utf-8" ;;
    css) echo "text/css; charset=utf-8" ;;
    json) echo "application/json" ;;
    webmanifest) echo "application/manifest+json" ;;
    svg) echo "image/svg+xml" ;;
    png) echo "image/png" ;;
    jpg | jpeg) echo "image/jpeg" ;;
    webp) echo "image/webp" ;;
    ico) echo "image/x-icon" ;;
    woff2) echo "font/woff2" ;;
    txt) echo "text/plain; charset=utf-8" ;;
    *) return 1 ;;
  esac
}
cache_of() {
  case $1 in
    *.html) echo "no-cache" ;;
    *) echo "public, max-age=300" ;;
  esac
}

mapfile -t files < <(cd "$site" && find . -type f ! -name config.json ! -name '.*' | sed 's|^\./||' | LC_ALL=C sort)
unknown=()
for f in "${files[@]}"; do type_of "$f" >/dev/null || unknown+=("$f"); done
if ((${#unknown[@]})); then
  echo "upload-storefront: no content type for: ${unknown[*]} (add the extension to type_of)" >&2
  exit 1
fi

for f in "${files[@]}"; do
  aws s3 cp --only-show-errors "$site/$f" "s3://$bucket/$f" \
    --content-type "$(type_of "$f")" --cache-control "$(cache_of "$f")"
done

config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat >"$config" <<EOF
{"apiUrl": "$api_url", "auth": {"kind": "cognito", "domain": "$auth_domain", "clientId": "$client_id", "redirectUri": "$origin/", "logoutUri": "$origin/", "scopes": ["openid", "email"]}}
EOF
aws s3 cp --only-show-errors "$config" "s3://$bucket/config.json" \
  --content-type "application/json" --cache-control "no-cache"

# The API explorer (/docs) reads the OpenAPI document from the site's origin, as on the runner.
aws s3 cp --only-show-errors "$root/docs/openapi.json" "s3://$bucket/openapi.json" \
  --content-type "application/json" --cache-control "no-cache"

# What the bucket holds that the directory no longer has (config.json and openapi.json are written above).
mapfile -t held < <(aws s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].Key' --output text | tr '\t' '\n')
for key in "${held[@]}"; do
  [[ -z $key || $key == None || $key == config.json || $key == openapi.json ]] && continue
  [[ -f $site/$key ]] || aws s3 rm --only-show-errors "s3://$bucket/$key"
done

invalidation=$(aws cloudfront create-invalidation --distribution-id "$distribution" --paths '/*' \
  --query Invalidation.Id --output text)
echo "uploaded ${#files[@]} files, config.json and openapi.json to s3://$bucket; invalidation $invalidation; open $origin/"
