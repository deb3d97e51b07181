//! Replica on CustomerRegistered: the customer is known to the orders context, which takes
//! orders for known customers only (orders table only).

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ReplicateCustomers)
}
