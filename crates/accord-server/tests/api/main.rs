//! The API tested from outside: each test starts the real server on 127.0.0.1:0 with a
//! fresh SQLite database in a temporary directory, and talks HTTP to it.

#![allow(clippy::unwrap_used)]

mod auth;
mod availability;
mod burn;
mod cases;
mod config;
mod email;
mod errors;
mod events;
mod helpers;
mod notify;
mod ops;
mod restart;
