//! The lookup's cache: a name (or "unknown") per number until it expires, at most a
//! fixed number of numbers, so memory stays bounded whatever calls in.

use std::collections::HashMap;
use std::time::Instant;

pub struct Cache {
    entries: HashMap<String, (Option<String>, Instant)>,
    capacity: usize,
}

impl Cache {
    pub fn new(capacity: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// The cached answer for a number, while it has not expired.
    pub fn get(&mut self, number: &str, now: Instant) -> Option<Option<String>> {
        match self.entries.get(number) {
            Some((name, until)) if *until > now => Some(name.clone()),
            Some(_) => {
                self.entries.remove(number);
                None
            }
            None => None,
        }
    }

    /// Keeps an answer until `until`. When full, expired entries go first, then those
    /// that expire soonest, down to three quarters of the capacity (so a flood of new
    /// numbers costs one sweep per quarter, not one per call).
    pub fn put(&mut self, number: &str, name: Option<String>, until: Instant) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(number) {
            let now = Instant::now();
            self.entries.retain(|_, (_, u)| *u > now);
            let keep = self.capacity * 3 / 4;
            if self.entries.len() > keep {
                let mut expiries: Vec<Instant> = self.entries.values().map(|(_, u)| *u).collect();
                expiries.sort_unstable();
                let cut = expiries[self.entries.len() - keep - 1];
                self.entries.retain(|_, (_, u)| *u > cut);
            }
        }
        self.entries.insert(number.to_owned(), (name, until));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_answer_is_served_until_it_expires_and_unknown_is_an_answer_too() {
        let mut cache = Cache::new(10);
        let now = Instant::now();
        cache.put("+1", Some("Ann".into()), now + Duration::from_secs(60));
        cache.put("+2", None, now + Duration::from_secs(5));
        assert_eq!(cache.get("+1", now), Some(Some("Ann".into())));
        assert_eq!(cache.get("+2", now), Some(None));
        assert_eq!(cache.get("+2", now + Duration::from_secs(6)), None);
        assert_eq!(cache.get("+3", now), None);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_drops_what_expires_soonest_down_to_three_quarters() {
        let mut cache = Cache::new(8);
        let now = Instant::now();
        for i in 0..8u64 {
            cache.put(&format!("+{i}"), None, now + Duration::from_secs(100 + i));
        }
        cache.put("+new", None, now + Duration::from_secs(50));
        // 6 kept (+2..+7), then the new one.
        assert_eq!(cache.len(), 7);
        assert_eq!(cache.get("+0", now), None);
        assert_eq!(cache.get("+1", now), None);
        assert_eq!(cache.get("+2", now), Some(None));
        assert_eq!(cache.get("+new", now), Some(None));
    }
}
