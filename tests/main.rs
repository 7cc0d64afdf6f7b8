//! Every integration test in one binary (one link of wasmtime, not one per
//! file). Each module tests one area; `support` starts what they need.

mod support;

mod alerts;
mod cli;
mod cluster;
mod conformance;
mod dashboard;
mod deploy;
mod distributions;
mod examples;
mod flags;
mod formats;
mod fuzz_config;
mod library;
mod live;
mod packages;
mod profiles;
mod sandbox;
mod scan;
mod server;
mod waivers;
