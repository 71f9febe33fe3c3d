//! An in-memory sliding-window rate limiter for one server process.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use gantry_ports::{PortError, PortResult, RateLimiter};

#[derive(Default)]
pub struct MemoryRateLimiter {
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_window<T>(
        &self,
        key: &str,
        window: Duration,
        f: impl FnOnce(&mut VecDeque<Instant>, Instant) -> T,
    ) -> PortResult<T> {
        let mut events = self.events.lock().map_err(|_| PortError::Failed("rate limiter poisoned".into()))?;
        let now = Instant::now();
        let entry = events.entry(key.to_owned()).or_default();
        while entry.front().is_some_and(|t| now.duration_since(*t) >= window) {
            entry.pop_front();
        }
        let result = f(entry, now);
        if entry.is_empty() {
            events.remove(key);
        }
        Ok(result)
    }
}

/// How long until the oldest event leaves the window (at least one second, as `Retry-After` counts seconds).
fn retry_after(entry: &VecDeque<Instant>, now: Instant, window: Duration) -> Duration {
    let oldest = entry.front().copied().unwrap_or(now);
    let wait = window.saturating_sub(now.duration_since(oldest));
    wait.max(Duration::from_secs(1))
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> PortResult<Result<(), Duration>> {
        self.with_window(key, window, |entry, now| {
            if entry.len() >= limit as usize {
                Err(retry_after(entry, now, window))
            } else {
                entry.push_back(now);
                Ok(())
            }
        })
    }

    async fn exceeded(&self, key: &str, limit: u32, window: Duration) -> PortResult<Option<Duration>> {
        self.with_window(key, window, |entry, now| {
            (entry.len() >= limit as usize).then(|| retry_after(entry, now, window))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_past_the_limit_and_names_a_wait() {
        let limiter = MemoryRateLimiter::new();
        let window = Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.hit("k", 3, window).await.unwrap(), Ok(()));
        }
        let wait = limiter.hit("k", 3, window).await.unwrap().unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= window);
        assert!(limiter.exceeded("k", 3, window).await.unwrap().is_some());
        assert_eq!(limiter.hit("other", 3, window).await.unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn the_window_slides() {
        let limiter = MemoryRateLimiter::new();
        let window = Duration::from_millis(50);
        assert_eq!(limiter.hit("k", 1, window).await.unwrap(), Ok(()));
        assert!(limiter.hit("k", 1, window).await.unwrap().is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(limiter.hit("k", 1, window).await.unwrap(), Ok(()));
    }
}
