//! A check built against `kubecis:check@1.0.0` (its own copy of that WIT,
//! without the SDK, as a third party's older component would be): it passes
//! when the kubelet runs and says which argument it saw first.

wit_bindgen::generate!({ path: "wit", world: "check" });

use kubecis::check::node;

struct Legacy;

impl Guest for Legacy {
    fn run(_settings: String) -> Outcome {
        let (status, actual, reason) = match node::processes("kubelet") {
            Ok(list) if list.is_empty() => {
                (Status::NotApplicable, String::new(), "no kubelet".into())
            }
            Ok(list) => (
                Status::Pass,
                format!(
                    "kubelet pid {} with {} arguments",
                    list[0].pid,
                    list[0].args.len()
                ),
                String::new(),
            ),
            Err(e) => (Status::Error, String::new(), format!("{e:?}")),
        };
        Outcome {
            status,
            expected: "a kubelet runs (seen through kubecis:check@1.0.0)".into(),
            actual,
            reason,
        }
    }
}

export!(Legacy);
