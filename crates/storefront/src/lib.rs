//! The storefront and the operator console: plain HTML, CSS and ES modules in `site/`, embedded
//! here so the local runner serves them with nothing else installed, and uploaded as they are to
//! the hosting bucket on AWS (docs/STOREFRONT.md). No build step: what is in `site/` is what runs.
//!
//! The page reads `/config.json` at start; [`local_config`] is the runner's (same-origin API,
//! the development identity provider). On AWS the upload writes one naming the API and Cognito.

/// Every file of `site/`, by its URL path (`/index.html`, `/js/app.js`, …).
static SITE: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// The content type a file is served with, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "text/plain; charset=utf-8",
    }
}

/// The file served at a URL path, and its content type. A folder's path (`/`, `/docs`, `/docs/`)
/// serves its `index.html`; anything not in `site/` is `None`.
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    if !path.starts_with('/') {
        return None;
    }
    let path = if path.ends_with('/') {
        format!("{path}index.html")
    } else if SITE.iter().any(|(p, _)| p.strip_prefix(path).is_some_and(|rest| rest == "/index.html")) {
        format!("{path}/index.html")
    } else {
        path.to_owned()
    };
    SITE.iter().find(|(p, _)| *p == path).map(|(p, bytes)| (*bytes, content_type(p)))
}

/// `/config.json` as the local runner serves it: the API on the page's own origin, signed in
/// through the runner's development identity provider.
pub fn local_config() -> &'static str {
    r#"{"apiUrl": "", "auth": {"kind": "local"}}"#
}

/// The Content-Security-Policy of every page: scripts and styles from the page's origin only (no
/// inline script, no eval), data only from the API (`connect_src`, on top of `'self'`), no
/// framing, no plugins. Swagger UI sets `style` attributes, hence styles' `'unsafe-inline'`
/// (styles only; never scripts).
pub fn content_security_policy(connect_src: &str) -> String {
    let connect = if connect_src.is_empty() { "'self'".to_owned() } else { format!("'self' {connect_src}") };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         font-src 'self'; connect-src {connect}; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_and_a_folder_serve_their_index() {
        let (root, ct) = asset("/").expect("the site has an index");
        assert_eq!(ct, "text/html; charset=utf-8");
        assert_eq!(asset("/index.html").map(|a| a.0), Some(root));
        assert!(asset("/docs").is_some_and(|(b, _)| b != root), "/docs is the API explorer");
        assert_eq!(asset("/docs").map(|a| a.0), asset("/docs/").map(|a| a.0));
    }

    #[test]
    fn scripts_are_served_as_javascript_and_unknown_paths_are_none() {
        assert_eq!(asset("/js/app.js").map(|a| a.1), Some("text/javascript; charset=utf-8"));
        assert!(asset("/js/nope.js").is_none());
        assert!(asset("/../Cargo.toml").is_none());
        assert!(asset("").is_none());
    }

    #[test]
    fn the_policy_allows_no_inline_script() {
        let csp = content_security_policy("");
        let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).expect("a script-src");
        assert_eq!(scripts.trim(), "script-src 'self'");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(content_security_policy("https://api.example").contains("connect-src 'self' https://api.example;"));
    }

    #[test]
    fn the_local_config_is_same_origin_with_local_sign_in() {
        assert_eq!(local_config(), r#"{"apiUrl": "", "auth": {"kind": "local"}}"#);
    }
}
