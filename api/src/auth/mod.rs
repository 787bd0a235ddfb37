//! Authentication: passwords, JWT access tokens, refresh tokens, and the request's `Principal`.

pub mod jwt;
pub mod keys;
pub mod password;
pub mod refresh;

pub use jwt::JwtKeys;
