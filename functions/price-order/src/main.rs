//! Saga step on StockReserved: prices the order (lines, shipping, total).

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::PriceOrder)
}
