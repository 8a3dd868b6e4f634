//! The function's log lines: what Lambda's log-level filtering needs to keep them.
//!
//! lambda_runtime's default subscriber writes JSON without a time (`.without_time()`), and
//! Lambda's application log-level filtering treats a JSON line without a valid RFC 3339
//! `timestamp` as INFO: at `ApplicationLogLevel` WARN or ERROR every line the function wrote, its
//! errors included, was dropped. This subscriber is the default one with the time kept: JSON
//! lines carry `timestamp` and `level` when Lambda asks for JSON (`AWS_LAMBDA_LOG_FORMAT`), the
//! usual text otherwise; the level comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` (whose
//! directives may name targets), else INFO.

use std::str::FromStr;

use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter};
use lambda_runtime::tracing::subscriber::fmt::time::SystemTime;
use lambda_runtime::tracing::subscriber::fmt::MakeWriter;

/// Installs the subscriber, writing to `writer`.
pub fn init<W>(writer: W)
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    // Lambda's ApplicationLogLevel wins over RUST_LOG: a line below it would be dropped anyway.
    let filter = match std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| LevelFilter::from_str(&level).ok())
    {
        Some(level) => EnvFilter::builder()
            .with_default_directive(level.into())
            .parse_lossy(""),
        None => EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .from_env_lossy(),
    };
    let builder = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        builder.json().with_timer(SystemTime).init();
    } else {
        builder.without_time().init();
    }
}
