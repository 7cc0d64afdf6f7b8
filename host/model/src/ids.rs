//! How ids and names sort: as people read them.

/// `cis-1.10` after `cis-1.9`: digit runs compare as numbers.
pub fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    key.push((text, 0));
    key
}

#[cfg(test)]
mod tests {
    use super::natural_key;

    #[test]
    fn digit_runs_sort_as_numbers() {
        let mut names = vec!["cis-1.10", "cis-1.9", "1.2.10", "1.2.9", "cis-1.8"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["1.2.9", "1.2.10", "cis-1.8", "cis-1.9", "cis-1.10"]);
    }
}
