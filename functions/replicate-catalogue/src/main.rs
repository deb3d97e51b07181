//! Replica on ProductAdded: the orders context's own catalogue entry of the product, which
//! create-order checks and prices new orders against (orders table only).

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::ReplicateCatalogue)
}
