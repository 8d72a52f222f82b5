//! The console: an interactive terminal UI over tenants, lifecycle Jobs, runs and live
//! multiplexed logs. Data flows one way — watches and log streams → [`data::DataEvent`] →
//! [`app::update`] → [`views`] — and key presses become [`keys::Action`]s whose cluster effects
//! run in [`runtime`] tasks and come back as events.

pub mod app;
pub mod data;
pub mod input;
pub mod keys;
pub mod runtime;
pub mod terminal;
pub mod theme;
pub mod views;

#[cfg(test)]
pub(crate) mod fixtures;
