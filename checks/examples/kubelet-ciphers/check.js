// kubelet-ciphers: the kubelet's TLS server offers no CBC or RC4 cipher
// suite. CBC suites in TLS 1.2 are the ones padding-oracle attacks (Lucky
// Thirteen and its successors) go after; RC4 is broken outright.
//
// Settings (JSON):
//   config: the kubelet's config file, `${kubelet.config}` (granted as content)
//
// The command line wins over the config file, as in the kubelet itself. When
// neither sets the suites, the kubelet offers Go's defaults, which still
// include ECDHE AES-CBC-SHA suites: that fails too.

import { processes, configValue } from "kubecis:check/node@1.1.0";

const EXPECTED = "--tls-cipher-suites (or tlsCipherSuites) set, with no CBC or RC4 suite";
const FLAG = "--tls-cipher-suites";

function outcome(status, actual, reason = "") {
  return { status, expected: EXPECTED, actual, reason };
}

// A host error (a ComponentError carrying the WIT variant) in words.
function why(e) {
  const p = e && e.payload;
  return p && p.tag ? `${p.tag}: ${p.val}` : String(e);
}

// The last value of a flag, as the kubelet's flag parser keeps it.
function flagValue(args) {
  let value;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith(FLAG + "=")) value = arg.slice(FLAG.length + 1);
    else if (arg === FLAG && i + 1 < args.length) value = args[++i];
  }
  return value;
}

function weak(suite) {
  return /_CBC_|_RC4_/.test(suite);
}

export function run(settingsJson) {
  let settings;
  try {
    settings = JSON.parse(settingsJson);
  } catch (e) {
    return outcome("error", "", `invalid settings: ${e}`);
  }
  let kubelets;
  try {
    kubelets = processes("kubelet");
  } catch (e) {
    return outcome("error", "", `listing kubelet processes: ${why(e)}`);
  }
  if (kubelets.length === 0) {
    return outcome("not-applicable", "no kubelet runs", "no kubelet process on this node");
  }

  let suites;
  let source;
  const flag = flagValue(kubelets[0].args);
  if (flag !== undefined) {
    suites = flag.split(",").map((s) => s.trim()).filter((s) => s);
    source = FLAG;
  } else if (settings.config) {
    try {
      suites = JSON.parse(configValue(settings.config, "tlsCipherSuites"));
      source = `tlsCipherSuites in ${settings.config}`;
    } catch (e) {
      if (!(e.payload && e.payload.tag === "not-found")) {
        return outcome("error", "", `reading ${settings.config}: ${why(e)}`);
      }
    }
  }
  if (suites === undefined) {
    return outcome(
      "fail",
      "unset",
      "the kubelet offers Go's default suites, which include ECDHE AES-CBC-SHA ones",
    );
  }
  if (!Array.isArray(suites) || suites.some((s) => typeof s !== "string")) {
    return outcome("error", JSON.stringify(suites), `${source} is not a list of suite names`);
  }
  const bad = suites.filter(weak);
  if (bad.length > 0) {
    return outcome("fail", `${source}: ${bad.join(",")}`, `${bad.length} of ${suites.length} suites are CBC or RC4`);
  }
  return outcome("pass", `${source}: ${suites.join(",")}`);
}
