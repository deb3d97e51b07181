//! Saga step on StockReservationFailed / CreditReservationFailed: rejects the order.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::RejectOrder)
}
