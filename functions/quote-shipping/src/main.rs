//! POST /shipping/quote: what shipping would cost (zone, chargeable weight, speed, discount).
//! Pure domain: no table, nothing to warm.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::QuoteShipping)
}
