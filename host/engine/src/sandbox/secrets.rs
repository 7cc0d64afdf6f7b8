//! What a check is never handed, whatever it was granted: private keys,
//! tokens, passwords. A check judges configuration; a secret's value is never
//! evidence, and anything a check receives may end up in a report.

use serde_json::Value;

/// What stands in for a withheld value.
pub const WITHHELD: &str = "(withheld: secret)";

/// Whether a key, flag or variable name names a secret by its last word:
/// `token`, `client-key-data`, `ETCD_PASSWORD`, `bearerToken`, `privateKey`, but not
/// `token-auth-file` or `tls-private-key-file` (paths, not secrets).
pub fn is_secret_name(name: &str) -> bool {
    // Most names hold none of the telling fragments: skip splitting them.
    let lower = name.to_ascii_lowercase();
    if ![
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "auth",
        "credential",
    ]
    .iter()
    .any(|f| lower.contains(f))
    {
        return false;
    }
    let words = words(name);
    // A name that is one of these words alone: docker's `auth` (base64 of
    // user:password), `pass`, `pwd`, `credentials`.
    if let [only] = words.as_slice()
        && SECRET_ALONE.contains(&only.as_str())
    {
        return true;
    }
    match words.as_slice() {
        // `registrytoken`, `clientsecret`, `password2`: the word ends the name.
        [.., last]
            if SECRET_WORDS.iter().any(|w| {
                last.trim_end_matches(|c: char| c.is_ascii_digit())
                    .ends_with(w)
            }) =>
        {
            true
        }
        [.., key, data] if key == "key" && data == "data" => true,
        [.., kind, key] => key == "key" && SECRET_KEY_KINDS.contains(&kind.as_str()),
        _ => false,
    }
}

const SECRET_ALONE: &[&str] = &[
    "auth",
    "pass",
    "pwd",
    "credential",
    "credentials",
    "identitytoken",
];

const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
];

/// `private-key`, `AWS_SECRET_ACCESS_KEY`: key material, unlike `client-key` (a path).
const SECRET_KEY_KINDS: &[&str] = &[
    "private",
    "access",
    "secret",
    "api",
    "signing",
    "encryption",
];

/// `clientKeyData`, `client-key-data`, `CLIENT_KEY_DATA` → client, key, data.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.trim_start_matches('-').chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut word));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words
}

/// Whether a value is secret material whatever its name: PEM blocks (keys,
/// certificates), base64 of PEM (kubeconfig `*-data`), JSON Web Tokens and
/// URLs with a password (`postgres://user:password@db`).
pub fn is_secret_value(value: &str) -> bool {
    let v = value.trim();
    v.contains("-----BEGIN") || v.starts_with("LS0tLS1CRUdJTi") || is_jwt(v) || has_url_password(v)
}

/// `scheme://user:password@host`: a URL carrying its credentials.
fn has_url_password(v: &str) -> bool {
    v.split("://").skip(1).any(|rest| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

/// `header.payload.signature`, base64url, the header a JSON object (`eyJ`).
fn is_jwt(v: &str) -> bool {
    v.starts_with("eyJ")
        && v.split('.').count() == 3
        && v.split('.').all(|p| {
            p.len() >= 4
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Replaces every secret inside a configuration value, by key or by value.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // `{name: DB_PASSWORD, value: …}`: an environment entry of a manifest.
            let named_secret = map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(is_secret_name);
            for (key, v) in map.iter_mut() {
                let secret = is_secret_name(key) || (named_secret && key == "value");
                if secret && !v.is_null() {
                    *v = Value::String(WITHHELD.into());
                } else {
                    redact(v);
                }
            }
        }
        // A command line in a manifest is redacted as a live one is.
        Value::Array(items) if items.iter().all(Value::is_string) && !items.is_empty() => {
            let args: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            *items = redact_args(&args).into_iter().map(Value::String).collect();
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) if is_secret_value(s) => *s = WITHHELD.into(),
        _ => {}
    }
}

/// A process's arguments with the values of secret flags withheld, in both
/// `--flag=value` and `--flag value` forms.
pub fn redact_args(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        // The value of a secret flag, whatever it looks like.
        if std::mem::take(&mut hide_next) {
            out.push(WITHHELD.to_owned());
            continue;
        }
        let redacted = match arg.split_once('=') {
            Some((flag, value))
                if flag.starts_with('-') && (is_secret_name(flag) || is_secret_value(value)) =>
            {
                format!("{flag}={WITHHELD}")
            }
            None if arg.starts_with('-') && is_secret_name(arg) => {
                hide_next = true;
                arg.clone()
            }
            _ if is_secret_value(arg) => WITHHELD.to_owned(),
            _ => arg.clone(),
        };
        out.push(redacted);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_by_name_but_not_paths_to_them() {
        for secret in [
            "token",
            "client-key-data",
            "clientKeyData",
            "ETCD_PASSWORD",
            "ETCD_INITIAL_CLUSTER_TOKEN",
            "--bootstrap-token",
            "id-token",
            "secret",
            "AWS_SECRET_ACCESS_KEY",
            "privateKey",
            "bearerToken",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for plain in [
            "--token-auth-file",
            "--tls-private-key-file",
            "--kubelet-client-key",
            "client-key",
            "tlsPrivateKeyFile",
            "--enable-bootstrap-token-auth",
            "--use-service-account-credentials",
            "ETCD_KEY_FILE",
            "authentication.anonymous.enabled",
            "--service-account-key-file",
        ] {
            assert!(!is_secret_name(plain), "{plain}");
        }
    }

    #[test]
    fn secrets_by_value() {
        assert!(is_secret_value(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(is_secret_value("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1J"));
        assert!(is_secret_value(
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06YWRtaW4ifQ.c2lnbmF0dXJlX2J5dGVz"
        ));
        assert!(!is_secret_value("/etc/kubernetes/pki/apiserver.key"));
        assert!(!is_secret_value("Webhook"));
        assert!(!is_secret_value("eyJ.not.a-token"));
    }

    #[test]
    fn nested_secrets_are_withheld_and_the_rest_kept() {
        let mut kubeconfig = json!({
            "users": [{"name": "admin", "user": {
                "client-certificate": "/etc/kubernetes/pki/admin.crt",
                "client-key-data": "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==",
                "token": "abc123"}}],
            "clusters": [{"cluster": {"server": "https://10.0.0.1:6443"}}]
        });
        redact(&mut kubeconfig);
        let user = &kubeconfig["users"][0]["user"];
        assert_eq!(user["client-key-data"], WITHHELD);
        assert_eq!(user["token"], WITHHELD);
        assert_eq!(user["client-certificate"], "/etc/kubernetes/pki/admin.crt");
        assert_eq!(
            kubeconfig["clusters"][0]["cluster"]["server"],
            "https://10.0.0.1:6443"
        );
    }

    #[test]
    fn secret_arguments_are_withheld_in_both_forms() {
        let args: Vec<String> = [
            "--token=abc",
            "--bootstrap-token",
            "abc",
            "--token-auth-file=/etc/tokens.csv",
            "--anonymous-auth=false",
            "--password",
            "--verbose",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            redact_args(&args),
            [
                format!("--token={WITHHELD}"),
                "--bootstrap-token".into(),
                WITHHELD.into(),
                "--token-auth-file=/etc/tokens.csv".into(),
                "--anonymous-auth=false".into(),
                "--password".into(),
                WITHHELD.into(),
            ]
        );
    }

    #[test]
    fn more_ways_a_secret_hides() {
        for secret in [
            "auth",
            "pwd",
            "password2",
            "registrytoken",
            "clientsecret",
            "identitytoken",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for plain in [
            "--anonymous-auth",
            "--use-service-account-credentials",
            "authorization-mode",
        ] {
            assert!(!is_secret_name(plain), "{plain}");
        }
        assert!(is_secret_value("postgres://k3s:hunter2@db:5432/k3s"));
        assert!(is_secret_value(
            "--datastore-endpoint=mysql://u:p@tcp(db:3306)/k3s"
        ));
        assert!(!is_secret_value("https://10.0.0.1:6443/api"));
        assert!(!is_secret_value("unix:///run/containerd/containerd.sock"));
        let mut manifest = json!({"spec": {"containers": [{
            "command": ["kube-apiserver", "--token-auth-file=/etc/t.csv", "--etcd-password=x1"],
            "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "MODE", "value": "on"}]
        }]}});
        redact(&mut manifest);
        let c = &manifest["spec"]["containers"][0];
        assert_eq!(c["command"][1], "--token-auth-file=/etc/t.csv");
        assert_eq!(c["command"][2], format!("--etcd-password={WITHHELD}"));
        assert_eq!(c["env"][0]["value"], WITHHELD);
        assert_eq!(c["env"][1]["value"], "on");
    }
}
