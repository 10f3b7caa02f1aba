//! Client-side limits so a key is never pushed past its quota: calls in flight, requests per
//! minute and tokens per minute (GCRA: evenly spaced, with one second's worth of burst).

use std::time::Duration;

use tokio::sync::{Mutex, Semaphore, SemaphorePermit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The wait was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

/// A generic cell rate limiter.
#[derive(Debug)]
pub struct Gcra {
    /// Time one unit costs.
    interval: Duration,
    /// How far ahead of schedule a caller may go.
    burst: Duration,
    /// Theoretical arrival time of the next unit.
    tat: Mutex<Option<Instant>>,
}

impl Gcra {
    /// `per_minute` units per minute, with bursts of `burst_units`.
    pub fn new(per_minute: u32, burst_units: u32) -> Self {
        let interval = Duration::from_secs_f64(60.0 / f64::from(per_minute.max(1)));
        Self {
            interval,
            burst: interval * burst_units.max(1),
            tat: Mutex::new(None),
        }
    }

    /// Waits until `units` may be spent (the reservation is made at once, so callers are served
    /// in arrival order).
    pub async fn acquire(&self, units: u32, cancel: &CancellationToken) -> Result<(), Cancelled> {
        let wait_until = {
            let mut tat = self.tat.lock().await;
            let now = Instant::now();
            let start = tat.map_or(now, |t| t.max(now));
            let new_tat = start + self.interval * units.max(1);
            *tat = Some(new_tat);
            new_tat.checked_sub(self.burst).unwrap_or(now)
        };
        if wait_until > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(wait_until) => {}
                _ = cancel.cancelled() => return Err(Cancelled),
            }
        }
        Ok(())
    }
}

/// All limits of one AI key.
#[derive(Debug)]
pub struct Limits {
    concurrency: Semaphore,
    requests: Gcra,
    tokens: Gcra,
}

impl Limits {
    /// Limits from the configuration.
    pub fn new(max_concurrency: usize, rpm: u32, tpm: u32) -> Self {
        Self {
            concurrency: Semaphore::new(max_concurrency.max(1)),
            // Two seconds' worth of burst: a per-minute quota allows it, and it hides the
            // first calls' latency without ever exceeding the rate over a minute.
            requests: Gcra::new(rpm, (rpm / 30).max(1)),
            tokens: Gcra::new(tpm, (tpm / 60).max(1)),
        }
    }

    /// Waits for a free slot, a request and `tokens` estimated input tokens.
    pub async fn acquire(
        &self,
        tokens: u32,
        cancel: &CancellationToken,
    ) -> Result<SemaphorePermit<'_>, Cancelled> {
        let permit = tokio::select! {
            p = self.concurrency.acquire() => p.expect("the semaphore is never closed"),
            _ = cancel.cancelled() => return Err(Cancelled),
        };
        self.requests.acquire(1, cancel).await?;
        self.tokens.acquire(tokens, cancel).await?;
        Ok(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_after_the_burst() {
        let g = Gcra::new(600, 10); // one every 100 ms, ten at once
        let c = CancellationToken::new();
        let t0 = Instant::now();
        for _ in 0..10 {
            g.acquire(1, &c).await.unwrap();
        }
        assert!(t0.elapsed() < Duration::from_millis(5));
        for _ in 0..20 {
            g.acquire(1, &c).await.unwrap();
        }
        let e = t0.elapsed();
        assert!(
            e >= Duration::from_millis(2000) && e < Duration::from_millis(2100),
            "{e:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_stops_when_cancelled() {
        let g = Gcra::new(1, 1);
        let c = CancellationToken::new();
        g.acquire(1, &c).await.unwrap();
        c.cancel();
        assert_eq!(g.acquire(1, &c).await, Err(Cancelled));
    }
}
