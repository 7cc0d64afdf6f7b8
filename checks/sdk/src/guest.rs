//! The component side: WIT bindings, outcomes and the `check!` macro.

/// Bindings generated from `wit/check.wit`.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "check",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "kubecis_sdk::bindings",
    });
}

pub use bindings::kubecis::check::node;
pub use bindings::{Outcome, Status};

use serde::de::DeserializeOwned;
use std::fmt;

/// A check component: settings in, judgement out.
pub trait Check {
    /// The item's settings, as the bundle writes them.
    type Settings: DeserializeOwned;
    fn judge(settings: Self::Settings) -> Outcome;
}

/// Decode settings and judge; malformed settings are an `error` outcome.
pub fn run<C: Check>(settings: &str) -> Outcome {
    match serde_json::from_str::<C::Settings>(settings) {
        Ok(s) => C::judge(s),
        Err(e) => outcome(Status::Error, "", "", format!("invalid settings: {e}")),
    }
}

/// Build an outcome.
pub fn outcome(
    status: Status,
    expected: impl Into<String>,
    actual: impl Into<String>,
    reason: impl Into<String>,
) -> Outcome {
    Outcome {
        status,
        expected: expected.into(),
        actual: actual.into(),
        reason: reason.into(),
    }
}

/// A host error in words: `denied: /etc/shadow is outside the grant`.
pub struct Why<'a>(pub &'a node::Error);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            node::Error::NotFound(m) => write!(f, "not found: {m}"),
            node::Error::Denied(m) => write!(f, "denied: {m}"),
            node::Error::Invalid(m) => write!(f, "invalid: {m}"),
            node::Error::TooLarge(m) => write!(f, "too large: {m}"),
        }
    }
}

/// Export a [`Check`] as the component's `run`.
#[macro_export]
macro_rules! check {
    ($check:ty) => {
        struct Component;
        impl $crate::bindings::Guest for Component {
            fn run(settings: String) -> $crate::Outcome {
                $crate::run::<$check>(&settings)
            }
        }
        $crate::bindings::export!(Component with_types_in $crate::bindings);
    };
}
