//! The runner serves the storefront (crates/storefront/site/) on the API's own origin: the page
//! and its files with their security headers, its configuration, whom "sign in as" offers; and
//! none of it shadows the API or turns an unknown path into a page.

use system_tests::Reply;

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn the_page_and_its_files_are_served_with_a_policy_that_allows_no_inline_script() {
    let r = system_tests::start().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/js/app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
        ("/docs", "text/html; charset=utf-8"),
        ("/docs/init.js", "text/javascript; charset=utf-8"),
        ("/vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ] {
        let reply = r.send_anonymous("GET", path, &[], None).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(header(&reply, "content-type"), content_type, "{path}");
        let csp = header(&reply, "content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(header(&reply, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&reply, "cache-control"), "no-cache", "{path}");
    }
    let page = String::from_utf8(r.send_anonymous("GET", "/", &[], None).await.raw).expect("utf-8");
    assert!(page.contains(r#"<script type="module" src="/js/app.js">"#));
    assert!(!page.contains("<script>"), "no inline script in the page");
}

#[tokio::test]
async fn the_config_names_the_same_origin_and_local_sign_in() {
    let r = system_tests::start().await;
    let reply = r.send_anonymous("GET", "/config.json", &[], None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, serde_json::json!({"apiUrl": "", "auth": {"kind": "local"}}));
    // Nothing seeded in this runner: nobody to offer but a new customer and the operator.
    let ids = r.send_anonymous("GET", "/_local/identities", &[], None).await;
    assert_eq!(ids.body, serde_json::json!({"customers": []}));
}

#[tokio::test]
async fn the_api_keeps_its_paths_and_an_unknown_path_is_still_a_problem() {
    let r = system_tests::start().await;
    let products = r.send_anonymous("GET", "/products", &[], None).await;
    assert_eq!(products.status, 200);
    assert_eq!(header(&products, "content-type"), "application/json");
    let missing = r.send_anonymous("GET", "/nope.html", &[], None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["type"], "https://shop-saga.dev/problems/route-not-found");
    let post = r.send_anonymous("POST", "/index.html", &[], None).await;
    assert_eq!(post.status, 404, "the site answers GET and HEAD only");
}
