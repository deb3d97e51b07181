//! The storefront's hosting and sign-in, as template.yaml declares them: what ministack does not
//! enforce (public access blocks, HTTPS between CloudFront and S3, the hosted UI) held here, what
//! it does (the distribution's headers, CORS, the upload) checked on it by tests/e2e_ministack.rs.

use std::path::PathBuf;

use sam_template::Template;
use serde_json::{json, Value};

fn template() -> Template {
    Template::load(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")).expect("template.yaml")
}

fn resource(t: &Template, id: &str) -> Value {
    let r = t.root["Resources"][id].clone();
    assert!(r.is_object(), "no resource {id}");
    r["Properties"].clone()
}

/// The storefront's origin as the template writes it wherever it is used.
const ORIGIN: &str = "https://${StorefrontDistribution.DomainName}";

#[test]
fn the_bucket_is_private_encrypted_and_read_over_tls_by_the_distribution_alone() {
    let t = template();
    let b = resource(&t, "StorefrontBucket");
    assert_eq!(
        b["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    assert_eq!(b["OwnershipControls"]["Rules"], json!([{"ObjectOwnership": "BucketOwnerEnforced"}]));
    let sse = &b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"];
    assert_eq!(sse["SSEAlgorithm"], "AES256");

    let statements = resource(&t, "StorefrontBucketPolicy")["PolicyDocument"]["Statement"].clone();
    let statements = statements.as_array().expect("statements");
    let allows: Vec<&Value> = statements.iter().filter(|s| s["Effect"] == "Allow").collect();
    assert_eq!(allows.len(), 1, "{statements:?}");
    let allow = allows[0];
    assert_eq!(allow["Principal"], json!({"Service": "cloudfront.amazonaws.com"}));
    assert_eq!(allow["Action"], "s3:GetObject");
    let source = allow["Condition"]["StringEquals"]["AWS:SourceArn"].as_str().unwrap_or_default();
    assert!(source.ends_with(":distribution/${StorefrontDistribution}"), "this distribution only: {source}");
    let tls = statements.iter().find(|s| s["Sid"] == "TlsOnly").expect("a TLS-only statement");
    assert_eq!((tls["Effect"].as_str(), tls["Principal"].as_str()), (Some("Deny"), Some("*")));
    assert_eq!(tls["Condition"], json!({"Bool": {"aws:SecureTransport": "false"}}));
    let denied: Vec<&str> = tls["Action"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for action in ["s3:GetObject", "s3:PutObject", "s3:ListBucket"] {
        assert!(denied.contains(&action), "{action} over plain HTTP: {denied:?}");
    }
}

#[test]
fn the_distribution_serves_https_only_with_the_security_headers() {
    let t = template();
    let d = resource(&t, "StorefrontDistribution")["DistributionConfig"].clone();
    assert_eq!(d["DefaultRootObject"], "index.html");
    let origin = &d["Origins"][0];
    assert_eq!(origin["OriginAccessControlId"], "StorefrontOriginAccessControl.Id");
    assert_eq!(origin["S3OriginConfig"]["OriginAccessIdentity"], "", "OAC, not the legacy OAI");
    let behaviour = &d["DefaultCacheBehavior"];
    assert_eq!(behaviour["ViewerProtocolPolicy"], "https-only");
    assert_eq!(behaviour["AllowedMethods"], json!(["GET", "HEAD"]));
    assert_eq!(behaviour["ResponseHeadersPolicyId"], "StorefrontResponseHeadersPolicy");
    let oac = resource(&t, "StorefrontOriginAccessControl")["OriginAccessControlConfig"].clone();
    assert_eq!((oac["SigningBehavior"].as_str(), oac["SigningProtocol"].as_str()), (Some("always"), Some("sigv4")));

    let h =
        resource(&t, "StorefrontResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"].clone();
    let csp = h["ContentSecurityPolicy"]["ContentSecurityPolicy"][0].as_str().expect("a CSP");
    let directive =
        |name: &str| csp.split(';').map(str::trim).find(|d| d.split(' ').next() == Some(name)).unwrap_or("").to_owned();
    assert_eq!(directive("script-src"), "script-src 'self'", "no inline script, no other origin: {csp}");
    assert_eq!(directive("default-src"), "default-src 'none'");
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
    // Swagger UI (/docs) sets `style` attributes; scripts stay 'self' only (above), as in the runner.
    assert_eq!(directive("style-src"), "style-src 'self' 'unsafe-inline'", "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    for header in
        ["ContentSecurityPolicy", "StrictTransportSecurity", "ContentTypeOptions", "FrameOptions", "ReferrerPolicy"]
    {
        assert_eq!(h[header]["Override"], true, "{header} replaces whatever the origin says");
    }
    assert!(h["StrictTransportSecurity"]["AccessControlMaxAgeSec"].as_i64() >= Some(31_536_000));
}

#[test]
fn the_storefront_client_is_public_code_only_and_the_authorizer_takes_both_clients() {
    let t = template();
    let c = resource(&t, "StorefrontClient");
    assert_eq!(c["GenerateSecret"], false, "a page keeps no secret: PKCE proves the code is its own");
    assert_eq!(c["AllowedOAuthFlows"], json!(["code"]), "no implicit grant");
    assert_eq!(c["AllowedOAuthScopes"], json!(["openid", "email"]));
    assert_eq!(c["ExplicitAuthFlows"], json!(["ALLOW_REFRESH_TOKEN_AUTH"]), "no password flows for the browser");
    let storefront_url = |v: &Value| v[0][2].as_str().unwrap_or_default().to_owned();
    assert_eq!(storefront_url(&c["CallbackURLs"]), format!("{ORIGIN}/"));
    assert_eq!(storefront_url(&c["LogoutURLs"]), format!("{ORIGIN}/"));
    assert_eq!(resource(&t, "UserPoolDomain")["UserPoolId"], "UserPool");

    let api = resource(&t, "HttpApi");
    let audience = &api["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]["audience"];
    let clients: Vec<&str> = audience.as_array().expect("audience").iter().filter_map(|a| a[1].as_str()).collect();
    assert_eq!(clients, ["UserPoolClient", "StorefrontClient"], "{audience}");

    let cors = &api["CorsConfiguration"];
    assert_eq!(cors["AllowOrigins"].as_array().map(Vec::len), Some(1), "one origin: {cors}");
    assert_eq!(cors["AllowOrigins"][0], json!(["HasStorefrontOrigin", "StorefrontOrigin", ORIGIN]));
    assert_eq!(cors["AllowCredentials"], false);
    let outputs = &t.root["Outputs"];
    assert_eq!(outputs["StorefrontUrl"]["Value"], cors["AllowOrigins"][0], "the upload's origin is the CORS origin");
    for o in ["StorefrontBucketName", "StorefrontDistributionId", "AuthDomain", "StorefrontClientId", "ApiUrl"] {
        assert!(
            outputs[o]["Value"].is_string() || outputs[o]["Value"].is_array(),
            "scripts/upload-storefront.sh reads {o}"
        );
    }
}
