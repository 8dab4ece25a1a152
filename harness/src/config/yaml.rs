//! YAML values in configs: their kinds (which value may replace a default),
//! their labels (variant directory names) and one-line text (messages,
//! `--set` options in scripts), and serde_yaml errors with their lines.

use std::path::Path;

use anyhow::anyhow;
use serde_yaml::Value;

/// Formats a serde_yaml error as `file:line: message`.
pub(super) fn yaml_error(path: &Path, e: &serde_yaml::Error) -> anyhow::Error {
    match e.location() {
        Some(l) => anyhow!("{}:{}: {e}", path.display(), l.line()),
        None => anyhow!("{}: {e}", path.display()),
    }
}

/// The 1-based line of the first occurrence of `needle` in `text` (for
/// errors about values that serde already accepted), else 1.
pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(1, |i| i + 1)
}

/// Whether `new` may replace `old` (same YAML kind; integers where floats are).
pub(super) fn same_kind(old: &Value, new: &Value) -> bool {
    match (old, new) {
        (Value::Null, _) | (_, Value::Null) => true,
        (Value::Bool(_), Value::Bool(_)) | (Value::String(_), Value::String(_)) => true,
        (Value::Number(a), Value::Number(b)) => a.is_f64() || !b.is_f64(),
        (Value::Sequence(_), Value::Sequence(_)) | (Value::Mapping(_), Value::Mapping(_)) => true,
        // A keyword or a list (bprior's `prior_obs: auto | [position, ...]`);
        // the agent's typed config decides which it accepts.
        (Value::String(_), Value::Sequence(_)) | (Value::Sequence(_), Value::String(_)) => true,
        // A keyword default that also takes a number (DCWM's `r_min: auto |
        // 0.0`); the typed config decides. A number's default stays a number.
        (Value::String(_), Value::Number(_)) => true,
        _ => false,
    }
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A compact label for a YAML value: a variant's directory name (lists
/// joined by `-`); messages use [`yaml_inline`].
pub fn yaml_label(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Sequence(s) => s.iter().map(yaml_label).collect::<Vec<_>>().join("-"),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .replace('\n', " "),
    }
}

/// A value as one line of flow YAML (`[64, 64]`, `{a: 1}`, `"1e-3"` for
/// that string) that reads back as the same value: for messages and for
/// `--set` options written into scripts.
pub fn yaml_inline(v: &Value) -> String {
    let join = |items: Vec<String>| items.join(", ");
    match v {
        Value::Sequence(s) => format!("[{}]", join(s.iter().map(yaml_inline).collect())),
        Value::Mapping(m) => format!(
            "{{{}}}",
            join(
                m.iter()
                    .map(|(k, x)| format!("{}: {}", yaml_inline(k), yaml_inline(x)))
                    .collect()
            )
        ),
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.contains([',', '[', ']', '{', '}', '#', ':', '"', '\'', '\n'])
                && serde_yaml::from_str::<Value>(s).is_ok_and(|back| &back == v);
            if plain {
                s.clone()
            } else {
                // A JSON string is a YAML double-quoted scalar.
                serde_json::to_string(s).unwrap_or_else(|_| s.clone())
            }
        }
        Value::Tagged(_) => serde_yaml::to_string(v)
            .unwrap_or_default()
            .trim()
            .replace('\n', " "),
        scalar => yaml_label(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_value_reads_back_as_itself() {
        for text in [
            "[64, 64]",
            "{a: [1, -2.5], b: null}",
            "auto",
            "'1e-3'",
            "'yes'",
            "'a: b'",
            "'[x]'",
            "''",
            "'two\\nlines'",
            "'-1'",
            "true",
            "0.5",
            "'{seed}/x'",
            "'---'",
            "'- a'",
            "'  padded '",
        ] {
            let v: Value = serde_yaml::from_str(text).unwrap();
            let inline = yaml_inline(&v);
            assert!(!inline.contains('\n'), "{inline}");
            let back: Value = serde_yaml::from_str(&inline).unwrap();
            assert_eq!(back, v, "{text} -> {inline}");
        }
    }
}
