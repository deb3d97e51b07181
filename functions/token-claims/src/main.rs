//! The user pool's pre token generation trigger (event version 2): puts the user's email, once
//! the pool verified it, in their access token, where the API's JWT authorizer reads it.

fn main() -> std::process::ExitCode {
    bundle::lambda::main(bundle::Function::TokenClaims)
}
