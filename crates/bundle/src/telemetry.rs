//! Logging on Lambda: JSON lines through tracing, one per event, with the fields of the enclosing
//! spans (request id from the Lambda runtime, correlation and causation ids from the saga steps).
//!
//! No personal data reaches a log: our code logs ids, never names, emails or addresses, and the
//! runtime crates, which log raw request and event bodies at TRACE and DEBUG, are capped at INFO
//! whatever level the function runs at.

use tracing_subscriber::EnvFilter;

/// The runtime crates that log raw payloads below INFO.
const PAYLOAD_LOGGERS: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// The filter for a configured level: Lambda's levels (`TRACE` to `FATAL`, any case; `FATAL` is
/// tracing's `error`), or a `RUST_LOG`-style directive list; anything unreadable is `info`. The
/// payload loggers stay at `info` or above in every case.
pub fn filter(configured: Option<&str>) -> EnvFilter {
    let level = configured.map(str::trim).filter(|l| !l.is_empty()).unwrap_or("info").to_lowercase();
    let capped: Vec<String> = PAYLOAD_LOGGERS.iter().map(|c| format!("{c}=info")).collect();
    let directives = match level.as_str() {
        "fatal" => "error".to_owned(),
        // At or below INFO already: the payload loggers are quiet enough.
        "info" | "warn" | "error" | "off" => level,
        // TRACE, DEBUG or a directive list (`RUST_LOG=shop=debug,...`): that, with the payload
        // loggers capped.
        other if matches!(other, "trace" | "debug") || other.contains('=') => format!("{other},{}", capped.join(",")),
        // Not a level: the default rather than a filter that matches nothing.
        _ => "info".to_owned(),
    };
    EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the JSON subscriber once per process. The level comes from `AWS_LAMBDA_LOG_LEVEL`
/// (set by Lambda's logging configuration) or `RUST_LOG`, defaulting to `info`.
pub fn init_json() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter(level.as_deref()))
        .with_current_span(true)
        .with_span_list(true)
        .with_target(false)
        .try_init();
}

/// The namespace of the bundle's own metrics in CloudWatch.
pub const METRICS_NAMESPACE: &str = "ShopSaga";

/// The CloudWatch Embedded Metric Format recorder behind the `metrics` facade, for `function`:
/// every metric of `app::measure` carries a `Function` dimension, and [`flush_metrics`] writes
/// them to stdout as one JSON document, which CloudWatch Logs turns into metrics with no API
/// call. Installed once per process; `None` if a recorder is already installed.
pub fn init_metrics(function: &str) -> Option<&'static metrics_cloudwatch_embedded::Collector> {
    metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(METRICS_NAMESPACE)
        .with_dimension("Function", function.to_owned())
        .init()
        .inspect_err(|e| tracing::warn!(error = %e, "metrics are off: no recorder"))
        .ok()
}

/// Writes what was measured since the last flush (once per invocation, after it).
pub fn flush_metrics(collector: Option<&'static metrics_cloudwatch_embedded::Collector>) {
    if let Some(c) = collector {
        if let Err(e) = c.flush(std::io::stdout().lock()) {
            tracing::warn!(error = %e, "metrics could not be written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn fatal_is_error_and_does_not_silence_every_line() {
        assert_eq!(filter(Some("FATAL")).max_level_hint(), Some(LevelFilter::ERROR));
        assert_eq!(filter(Some("warn")).max_level_hint(), Some(LevelFilter::WARN));
        assert_eq!(filter(None).max_level_hint(), Some(LevelFilter::INFO));
        assert_eq!(filter(Some("no such level!")).max_level_hint(), Some(LevelFilter::INFO));
    }

    #[test]
    fn the_runtime_never_logs_payloads_even_at_trace() {
        let text = filter(Some("TRACE")).to_string();
        for c in PAYLOAD_LOGGERS {
            assert!(text.contains(&format!("{c}=info")), "{text}");
        }
        assert_eq!(filter(Some("off")).max_level_hint(), Some(LevelFilter::OFF));
    }
}
