"""Deploys the SAM build to ministack and answers questions about the deployment.

Run with the ministack venv's python, under scripts/with-ministack.sh (AWS_ENDPOINT_URL, dummy
credentials and region come from there; boto3 and sam honour AWS_ENDPOINT_URL):

  deploy STACK          package .aws-sam/build, create the stack, wire the HTTP routes and the
                        JWT authorizer; prints {"apiUrl", "functions": {binary: name}, "tables",
                        "bus", "userPool", "client"} as JSON
  token STACK EMAIL [admin]
                        creates a user in the stack's Cognito user pool (in the admin group if
                        asked), signs it in, prints {"accessToken"}
  invoke STACK BINARY FILE
                        invokes a function synchronously with the JSON in FILE; prints its answer
  logs STACK [TEXT]     prints {binary: number of log events (containing TEXT)} for every function
  tap STACK             a queue receiving every event on the stack's bus; prints {"queueUrl"}
  drain URL             prints every event in that queue (and empties it)
  grep STACK TEXT       prints {binary: [log lines containing TEXT]} for every function
  down STACK CONTEXT on|off
                        on: every function that reads CONTEXT's table (customers, products or
                        orders) reaches DynamoDB at a closed local port: the context is down for
                        them; off: as deployed again. The drills (tests/drills.rs) use it
  outage STACK on|off   on: the outbox relay can no longer reach EventBridge (its endpoint a
                        closed local port), and its stream event sources give up on a failing
                        batch after 5 s instead of the template's hour (AWS's minimum is 60 s;
                        the test would wait minutes); off: as deployed again
  protected STACK       tries to delete each of the stack's tables; prints {"tables": {id: the
                        error, or "deleted"}, "userPool": its DeletionProtection}
  docs STACK API_URL    runs docs/DEPLOY.md's blocks marked `run by the e2e against ministack`, as
                        written, in one bash (STACK, REGION, the `aws` CLI of the awscli venv on
                        PATH; API_URL set to ministack's address after the block that reads it;
                        the storefront site a fixture while crates/storefront/site is missing),
                        after putting in the bucket an object the site does not have; prints
                        {"status", "stdout", "stderr", "unmatched": [its `# →` lines no output
                        line matched, in order]}
  storefront STACK      prints {"objects": {key: {"contentType", "cacheControl"}}, "config",
                        "invalidations", "site": [the uploaded directory's files], "stale"}
  edge-over-tls STACK   ministack fetches a CloudFront origin in-process, which its policy evaluator
                        takes for plain HTTP, so the bucket's TLS-only statement refuses the
                        distribution (on AWS, CloudFront reaches S3 over HTTPS): this drops that one
                        statement from the deployed bucket policy; prints {"statements": [Sids left]}
  hosted-ui STACK EMAIL signs a new user in through the hosted UI as the storefront does: the
                        authorization code grant with PKCE (S256) for StorefrontClient, redirected
                        to the storefront's origin; also tries a foreign redirect URI and a wrong
                        code verifier; prints {"page", "foreignRedirect", "wrongVerifier",
                        "redirect", "accessToken"}
  rules STACK           creates stacks of template.yaml's Parameters and Rules (with the SAM
                        transform, one placeholder resource) with JwtIssuer/JwtAudience set or
                        not; prints {case: "created" or "refused: <message>"}

Nothing here deletes the stack: ministack, and all it holds, stops when the tests end
(scripts/with-ministack.sh), so the tables' and the user pool's deletion protection never stands
in the way of a teardown.

ministack ignores the OpenAPI body SAM generates for an HttpApi, so the API has no routes and no
authorizer after the deploy: the harness creates what API Gateway would have created from it,
one AWS_PROXY integration (payload 2.0) and one route per HttpApi event of the template, the
template's JWT authorizer (issuer: the stack's user pool, audience: its two app clients) on every
route whose event does not opt out with `Auth: Authorizer: NONE`, and the HttpApi's
CorsConfiguration with its origin resolved (the stack's StorefrontUrl output). ministack's API Gateway then verifies
real Cognito tokens as AWS does. That is the only workaround, and it lives here, in the harness.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build" / "template.yaml"
SCRATCH = ROOT / ".scratch"


def client(service):
    return boto3.client(service, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def stack_resources(stack):
    cfn = client("cloudformation")
    out, token = {}, None
    while True:
        kw = {"StackName": stack, **({"NextToken": token} if token else {})}
        page = cfn.list_stack_resources(**kw)
        for r in page["StackResourceSummaries"]:
            out[r["LogicalResourceId"]] = r
        token = page.get("NextToken")
        if not token:
            return out


def functions_of_template(functions_only=True):
    """(logical id, binary, [(method, path, public)]) of every function in the built template."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    text = BUILD.read_text()
    # The built template is YAML with CloudFormation tags; the tags don't matter for what is read
    # here, so they are read as plain values.
    import yaml  # aws-sam-translator depends on PyYAML

    class Loader(yaml.SafeLoader):
        pass

    def any_tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    Loader.add_multi_constructor("!", any_tag)
    doc = yaml.load(text, Loader=Loader)
    if not functions_only:
        return doc
    out = []
    for logical, r in doc["Resources"].items():
        if r.get("Type") != "AWS::Serverless::Function":
            continue
        binary = r.get("Metadata", {}).get("BuildProperties", {}).get("Binary") or logical
        routes = [
            (e["Properties"]["Method"].upper(), e["Properties"]["Path"],
             (e["Properties"].get("Auth") or {}).get("Authorizer") == "NONE")
            for e in (r["Properties"].get("Events") or {}).values()
            if e.get("Type") == "HttpApi"
        ]
        out.append((logical, binary, routes))
    return out


def deploy(stack):
    if not BUILD.exists():
        sys.exit(f"{BUILD} is missing: run scripts/sam-build.sh first (./scripts/test.sh does)")
    SCRATCH.mkdir(exist_ok=True)
    bucket = f"{stack}-artifacts".lower()
    client("s3").create_bucket(Bucket=bucket)
    packaged = SCRATCH / f"{stack}-packaged.yaml"
    # sam through the venv's python, not its `sam` script, whose first line names the path the
    # venv was built at (a venv moved or reached through a link keeps working).
    sam = [str(ROOT / ".venv" / "tools" / "bin" / "python"), "-m", "samcli"]
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    subprocess.run(
        [*sam, "package", "--template-file", str(BUILD), "--s3-bucket", bucket,
         "--output-template-file", str(packaged), "--no-progressbar"],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )
    # The template is over CloudFormation's 51,200-byte inline limit: hand it over through S3.
    client("s3").upload_file(str(packaged), bucket, "template.yaml")
    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    cfn = client("cloudformation")
    cfn.create_stack(
        StackName=stack,
        TemplateURL=f"{endpoint}/{bucket}/template.yaml",
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        Parameters=[{"ParameterKey": "Architecture", "ParameterValue": "x86_64"}],
    )
    deadline = time.time() + 300
    while True:
        s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if s["StackStatus"] == "CREATE_COMPLETE":
            break
        if s["StackStatus"].endswith("FAILED") or "ROLLBACK" in s["StackStatus"] or time.time() > deadline:
            events = cfn.describe_stack_events(StackName=stack)["StackEvents"][:10]
            sys.exit(f"stack {stack}: {s['StackStatus']}: {[e.get('ResourceStatusReason') for e in events]}")
        time.sleep(0.5)

    resources = stack_resources(stack)
    lam = client("lambda")
    api = client("apigatewayv2")
    api_id = resources["HttpApi"]["PhysicalResourceId"]
    pool = resources["UserPool"]["PhysicalResourceId"]
    app_client = resources["UserPoolClient"]["PhysicalResourceId"]
    web_client = resources["StorefrontClient"]["PhysicalResourceId"]
    region = os.environ.get("AWS_REGION", "us-east-1")
    authorizer = api.create_authorizer(
        ApiId=api_id, Name="JwtAuthorizer", AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": f"https://cognito-idp.{region}.amazonaws.com/{pool}",
                          "Audience": [app_client, web_client]},
    )["AuthorizerId"]
    # CORS as the template declares it, the origin being what CloudFormation resolved it to.
    outputs = stack_outputs(stack)
    cors = functions_of_template(functions_only=False)["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    api.update_api(ApiId=api_id, CorsConfiguration={**cors, "AllowOrigins": [outputs["StorefrontUrl"]]})
    functions = {}
    for logical, binary, routes in functions_of_template():
        name = resources[logical]["PhysicalResourceId"]
        functions[binary] = name
        if not routes:
            continue
        arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        integration = api.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
        )["IntegrationId"]
        for method, path, public in routes:
            auth = {} if public else {"AuthorizationType": "JWT", "AuthorizerId": authorizer}
            api.create_route(ApiId=api_id, RouteKey=f"{method} {path}", Target=f"integrations/{integration}", **auth)
    print(json.dumps({
        "apiUrl": f"{endpoint}/_aws/execute-api/{api_id}/$default",
        "functions": functions,
        "tables": {k: resources[k]["PhysicalResourceId"] for k in ("CustomersTable", "ProductsTable", "OrdersTable")},
        "bus": resources["EventBus"]["PhysicalResourceId"],
        "userPool": pool,
        "client": app_client,
        "outputs": outputs,
    }))


def stack_outputs(stack):
    s = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])}


GUIDE = ROOT / "docs" / "DEPLOY.md"
GUIDE_MARK = "run by the e2e against ministack"
EXPECT = "# → "


def guide_blocks():
    """The sh blocks of docs/DEPLOY.md whose first line says the e2e runs them."""
    blocks, current = [], None
    for line in GUIDE.read_text().splitlines():
        if current is None and line.startswith("```sh"):
            current = []
        elif current is not None and line.startswith("```"):
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return [b for b in blocks if b and GUIDE_MARK in b[0]]


def site_dir():
    """The storefront's files; a small fixture while the storefront is not in the tree."""
    site = ROOT / "crates" / "storefront" / "site"
    if (site / "index.html").exists():
        return site
    fixture = SCRATCH / "storefront-fixture"
    for name, text in {
        "index.html": '<!doctype html><title>shop</title><script type="module" src="app.js"></script>',
        "app.js": "const config = await (await fetch('/config.json')).json();\n",
        "style.css": "body { font-family: sans-serif; }\n",
        "img/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>',
    }.items():
        (fixture / name).parent.mkdir(parents=True, exist_ok=True)
        (fixture / name).write_text(text)
    return fixture


def docs(stack, api_url):
    awscli = subprocess.run([str(ROOT / "scripts" / "venv.sh"), "awscli"], check=True,
                            capture_output=True, text=True).stdout.strip()
    bucket = stack_outputs(stack)["StorefrontBucketName"]
    client("s3").put_object(Bucket=bucket, Key="stale.js", Body=b"// gone from the site")
    script, expected = ["set -euo pipefail"], []
    for block in guide_blocks():
        script += block
        expected += [l.strip()[len(EXPECT):] for l in block if l.strip().startswith(EXPECT)]
        if any(l.startswith("API_URL=") for l in block):
            script.append(f"API_URL='{api_url}'  # where ministack serves the API")
    env = {**os.environ, "STACK": stack, "REGION": os.environ.get("AWS_REGION", "us-east-1"),
           "PATH": f"{awscli}/bin:{os.environ['PATH']}", "STOREFRONT_SITE": str(site_dir())}
    r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    # As scripts/run-docs.py reads `# →` lines: in order, each a whole output line, `…` any text.
    lines, at, unmatched = r.stdout.splitlines(), 0, []
    for want in expected:
        pattern = re.compile(".*".join(re.escape(part) for part in want.split("…")))
        found = next((i for i in range(at, len(lines)) if pattern.fullmatch(lines[i].strip())), None)
        if found is None:
            unmatched.append(want)
        else:
            at = found + 1
    print(json.dumps({"status": r.returncode, "stdout": r.stdout, "stderr": r.stderr, "unmatched": unmatched,
                      "blocks": len(guide_blocks())}))


def edge_over_tls(stack):
    bucket, s3 = stack_outputs(stack)["StorefrontBucketName"], client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"] = [st for st in policy["Statement"] if st.get("Sid") != "TlsOnly"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    print(json.dumps({"statements": [st.get("Sid") for st in policy["Statement"]]}))


def hosted_ui(stack, email):
    import base64, hashlib, secrets, urllib.error, urllib.parse, urllib.request

    outputs, resources = stack_outputs(stack), stack_resources(stack)
    pool, web = resources["UserPool"]["PhysicalResourceId"], outputs["StorefrontClientId"]
    redirect = outputs["StorefrontUrl"] + "/"
    password = "Correct-Horse-Battery-9"
    idp = client("cognito-idp")
    idp.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    # ministack serves the hosted UI on its gateway, not on the pool domain's host.
    base = os.environ["AWS_ENDPOINT_URL"].rstrip("/")

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None  # the redirect is the answer

    opener = urllib.request.build_opener(Keep)

    def call(path, form=None, query=None):
        url = f"{base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            r = opener.open(urllib.request.Request(url, data=data), timeout=30)
            return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def code(verifier, redirect_uri=redirect):
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        q = {"response_type": "code", "client_id": web, "redirect_uri": redirect_uri, "scope": "openid email",
             "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"}
        page = call("/oauth2/authorize", query=q)
        if page[0] != 200:
            return page[0], None
        status, headers, _ = call("/login", form={**q, "nonce": "", "username": email, "password": password})
        location = headers.get("Location") or headers.get("location") or ""
        return status, location

    def token(c, verifier):
        return call("/oauth2/token", form={"grant_type": "authorization_code", "client_id": web, "code": c,
                                           "redirect_uri": redirect, "code_verifier": verifier})

    out = {"page": call("/oauth2/authorize", query={"response_type": "code", "client_id": web, "redirect_uri": redirect,
                                                     "scope": "openid email", "code_challenge": "x" * 43,
                                                     "code_challenge_method": "S256"})[0]}
    out["foreignRedirect"] = code(secrets.token_urlsafe(48), "https://evil.example.com/")[0]
    verifier = secrets.token_urlsafe(48)
    status, location = code(verifier)
    c = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code", [""])[0]
    out["wrongVerifier"] = token(c, secrets.token_urlsafe(48))[0]
    verifier = secrets.token_urlsafe(48)
    status, location = code(verifier)
    out["redirect"] = location.split("?")[0]
    c = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code", [""])[0]
    status, _, body = token(c, verifier)
    out["tokenStatus"] = status
    out["accessToken"] = json.loads(body).get("access_token") if status == 200 else body
    print(json.dumps(out))


def storefront(stack):
    outputs = stack_outputs(stack)
    bucket, s3 = outputs["StorefrontBucketName"], client("s3")
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            head = s3.head_object(Bucket=bucket, Key=o["Key"])
            objects[o["Key"]] = {"contentType": head.get("ContentType"), "cacheControl": head.get("CacheControl")}
    config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
    invalidations = client("cloudfront").list_invalidations(DistributionId=outputs["StorefrontDistributionId"])
    site = site_dir()
    print(json.dumps({
        "objects": objects, "config": config, "outputs": outputs,
        "invalidations": invalidations["InvalidationList"].get("Quantity", 0),
        "site": sorted(str(f.relative_to(site)) for f in site.rglob("*") if f.is_file()),
    }))


def token(stack, email, admin="no"):
    resources = stack_resources(stack)
    pool = resources["UserPool"]["PhysicalResourceId"]
    app_client = resources["UserPoolClient"]["PhysicalResourceId"]
    idp = client("cognito-idp")
    password = "Correct-Horse-Battery-9"
    idp.admin_create_user(
        UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
    )
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    if admin == "admin":
        idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="admin")
    auth = idp.admin_initiate_auth(
        UserPoolId=pool, ClientId=app_client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    print(json.dumps({"accessToken": auth["AuthenticationResult"]["AccessToken"]}))


def invoke(stack, binary, file):
    name = {b: stack_resources(stack)[l]["PhysicalResourceId"] for l, b, _ in functions_of_template()}[binary]
    r = client("lambda").invoke(FunctionName=name, Payload=Path(file).read_bytes())
    body = r["Payload"].read().decode()
    print(json.dumps({"status": r["StatusCode"], "error": r.get("FunctionError"), "payload": body}))


def log_lines(stack, text=None):
    """{binary: [message, ...]} of every function, only the lines containing `text` if given."""
    resources = stack_resources(stack)
    cwl = client("logs")
    out = {}
    for logical, binary, _ in functions_of_template():
        group = f"/aws/lambda/{resources[logical]['PhysicalResourceId']}"
        try:
            events = cwl.filter_log_events(logGroupName=group).get("events", [])
        except cwl.exceptions.ResourceNotFoundException:
            events = []
        out[binary] = [e["message"] for e in events if text is None or text in e["message"]]
    return out


def logs(stack, text=None):
    print(json.dumps({b: len(lines) for b, lines in log_lines(stack, text).items()}))


def grep(stack, text):
    """Every log line of every function that contains `text`: {binary: [message, ...]}."""
    print(json.dumps(log_lines(stack, text)))


def tap(stack):
    """A queue that receives every event on the stack's bus (a catch-all rule on `shop.*`)."""
    bus = stack_resources(stack)["EventBus"]["PhysicalResourceId"]
    sqs, events = client("sqs"), client("events")
    url = sqs.create_queue(QueueName=f"{stack}-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"{stack}-tap", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "shop."}]}))
    events.put_targets(Rule=f"{stack}-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    print(json.dumps({"queueUrl": url}))


def drain(url):
    """Every event the tap queue holds, as the bus delivered it."""
    sqs = client("sqs")
    out = []
    while True:
        page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not page:
            break
        for m in page:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    print(json.dumps(out))


def outage(stack, state):
    resources = stack_resources(stack)
    lam = client("lambda")
    relay = resources["OutboxRelayFunction"]["PhysicalResourceId"]
    env = lam.get_function_configuration(FunctionName=relay).get("Environment", {}).get("Variables", {})
    if state == "on":
        env["AWS_ENDPOINT_URL_EVENTBRIDGE"] = "http://127.0.0.1:9"  # nothing listens there
        age = 5
    else:
        env.pop("AWS_ENDPOINT_URL_EVENTBRIDGE", None)
        age = 3600
    lam.update_function_configuration(FunctionName=relay, Environment={"Variables": env})
    mappings = lam.list_event_source_mappings(FunctionName=relay)["EventSourceMappings"]
    for m in mappings:
        lam.update_event_source_mapping(UUID=m["UUID"], MaximumRecordAgeInSeconds=age)
    print(json.dumps({"relay": relay, "mappings": len(mappings), "maximumRecordAgeInSeconds": age}))


def down(stack, context, state):
    var = {"customers": "CUSTOMERS_TABLE", "products": "PRODUCTS_TABLE", "orders": "ORDERS_TABLE"}[context]
    lam = client("lambda")
    changed = []
    for r in stack_resources(stack).values():
        if r["ResourceType"] != "AWS::Lambda::Function":
            continue
        name = r["PhysicalResourceId"]
        env = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        if var not in env:
            continue
        if state == "on":
            env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:9"  # nothing listens there
        else:
            env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": env})
        changed.append(name)
    print(json.dumps({"context": context, "state": state, "functions": sorted(changed)}))


def protected(stack):
    """The deployed tables refuse DeleteTable; the user pool says it is protected (ministack
    stores a pool's DeletionProtection but does not enforce it on DeleteUserPool)."""
    resources = stack_resources(stack)
    ddb = client("dynamodb")
    tables = {}
    for logical in ("CustomersTable", "ProductsTable", "OrdersTable"):
        try:
            ddb.delete_table(TableName=resources[logical]["PhysicalResourceId"])
            tables[logical] = "deleted"
        except ddb.exceptions.ClientError as e:
            tables[logical] = f"{e.response['Error']['Code']}: {e.response['Error']['Message']}"
    pool = client("cognito-idp").describe_user_pool(UserPoolId=resources["UserPool"]["PhysicalResourceId"])
    print(json.dumps({"tables": tables, "userPool": pool["UserPool"].get("DeletionProtection")}))


def rules(stack):
    """template.yaml's Rules, as CloudFormation evaluates them at CreateStack (after the SAM
    transform, which must keep them)."""
    from samtranslator.yaml_helper import yaml_parse  # short-form tags to their long form

    doc = yaml_parse((ROOT / "template.yaml").read_text())
    probe = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": doc["Transform"],
        "Parameters": doc["Parameters"],
        "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    }
    if "Rules" in doc:
        probe["Rules"] = doc["Rules"]
    cfn = client("cloudformation")
    cases = {
        "issuer without audience": {"JwtIssuer": "https://issuer.example.com", "JwtAudience": ""},
        "issuer with audience": {"JwtIssuer": "https://issuer.example.com", "JwtAudience": "client-1"},
        "neither (the stack's user pool)": {},
    }
    out = {}
    for n, (case, params) in enumerate(cases.items()):
        try:
            cfn.create_stack(
                StackName=f"{stack}-rules-{n}", TemplateBody=json.dumps(probe),
                Capabilities=["CAPABILITY_AUTO_EXPAND"],
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            )
            out[case] = "created"
        except cfn.exceptions.ClientError as e:
            out[case] = f"refused: {e.response['Error']['Message']}"
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"deploy": deploy, "invoke": invoke, "logs": logs, "token": token, "outage": outage, "down": down, "grep": grep,
     "tap": tap, "drain": drain, "protected": protected, "rules": rules, "docs": docs, "storefront": storefront,
     "edge-over-tls": edge_over_tls, "hosted-ui": hosted_ui}[cmd](*args)
