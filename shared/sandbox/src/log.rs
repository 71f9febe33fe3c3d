//! The audit's combined output, bounded: a runaway build cannot exhaust the server's memory
//! through its log, and the end of the output (where errors are) is always kept.

use std::collections::VecDeque;

/// The most log bytes stored per run (plus a one-line truncation note).
pub const LOG_CAP_BYTES: usize = 1 << 20;
/// The most bytes of `BuildReport::log_tail`.
pub const LOG_TAIL_BYTES: usize = 8 << 10;

const HEAD_CAP: usize = LOG_CAP_BYTES - LOG_TAIL_BYTES;

/// Keeps the first `HEAD_CAP` bytes and the last `LOG_TAIL_BYTES` bytes of a stream.
#[derive(Debug, Default)]
pub(crate) struct LogSink {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl LogSink {
    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.head.len() < HEAD_CAP {
            let take = bytes.len().min(HEAD_CAP - self.head.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        if bytes.len() >= LOG_TAIL_BYTES {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - LOG_TAIL_BYTES..]);
            return;
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(LOG_TAIL_BYTES);
        self.tail.drain(..overflow);
        self.tail.extend(bytes);
    }

    /// Appends a line from the sandbox itself (timeouts, kills), set apart from the audit's output.
    pub(crate) fn note(&mut self, message: &str) {
        self.push(format!("\n[gantry sandbox] {message}\n").as_bytes());
    }

    /// The stored log: everything, or the head, a note of what was left out, and the tail.
    pub(crate) fn into_log(self) -> Vec<u8> {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let mut log = self.head;
        if self.total > kept {
            let omitted = self.total - kept;
            log.extend_from_slice(
                format!("\n[gantry sandbox] log truncated: {omitted} bytes omitted\n").as_bytes(),
            );
        }
        log.extend(self.tail);
        log
    }
}

/// The last `LOG_TAIL_BYTES` of `log` as text: it starts on a character boundary where the
/// log is UTF-8, invalid bytes become U+FFFD, and the result never exceeds the bound.
pub(crate) fn tail_text(log: &[u8]) -> String {
    let mut start = log.len().saturating_sub(LOG_TAIL_BYTES);
    let mut skipped = 0;
    while start < log.len() && skipped < 3 && log[start] & 0b1100_0000 == 0b1000_0000 {
        start += 1;
        skipped += 1;
    }
    let text = String::from_utf8_lossy(&log[start..]);
    if text.len() <= LOG_TAIL_BYTES {
        return text.into_owned();
    }
    let mut cut = text.len() - LOG_TAIL_BYTES;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    text[cut..].to_owned()
}

/// Phrases runtimes print when an allocation fails (Python, glibc, Node/V8, C++, Rust, shells).
const OOM_EVIDENCE: &[&str] = &[
    "memoryerror",
    "cannot allocate memory",
    "out of memory",
    "allocation failed",
    "bad_alloc",
    "memory allocation of",
    "enomem",
];

pub(crate) fn shows_memory_exhaustion(log: &[u8]) -> bool {
    let text = String::from_utf8_lossy(log).to_lowercase();
    OOM_EVIDENCE.iter().any(|phrase| text.contains(phrase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_logs_are_kept_whole() {
        let mut sink = LogSink::default();
        sink.push(b"hello ");
        sink.push(b"world");
        assert_eq!(sink.into_log(), b"hello world");
    }

    #[test]
    fn large_logs_keep_head_and_tail_within_the_cap() {
        let mut sink = LogSink::default();
        let chunk = vec![b'a'; 100_000];
        for _ in 0..30 {
            sink.push(&chunk);
        }
        sink.push(b"THE END");
        let log = sink.into_log();
        assert!(log.len() <= LOG_CAP_BYTES + 100, "{}", log.len());
        assert!(log.ends_with(b"THE END"));
        let text = String::from_utf8_lossy(&log);
        let omitted = 30 * 100_000 + 7 - LOG_CAP_BYTES;
        assert!(
            text.contains(&format!("log truncated: {omitted} bytes omitted")),
            "{}",
            &text[HEAD_CAP..HEAD_CAP + 80]
        );
    }

    #[test]
    fn a_log_exactly_at_the_cap_is_not_truncated() {
        let mut sink = LogSink::default();
        sink.push(&vec![b'x'; LOG_CAP_BYTES]);
        let log = sink.into_log();
        assert_eq!(log.len(), LOG_CAP_BYTES);
    }

    #[test]
    fn tail_is_bounded_and_starts_on_a_char_boundary() {
        let mut log = "é".repeat(LOG_TAIL_BYTES).into_bytes();
        log.extend_from_slice(b"!");
        let tail = tail_text(&log);
        assert!(tail.len() <= LOG_TAIL_BYTES);
        assert!(tail.starts_with('é') && tail.ends_with('!'));
    }

    #[test]
    fn tail_of_invalid_bytes_stays_bounded() {
        let tail = tail_text(&vec![0xff; 3 * LOG_TAIL_BYTES]);
        assert!(tail.len() <= LOG_TAIL_BYTES && tail.starts_with('\u{fffd}'));
    }

    #[test]
    fn memory_exhaustion_is_recognised_only_from_its_evidence() {
        assert!(shows_memory_exhaustion(b"Traceback...\nMemoryError\n"));
        assert!(shows_memory_exhaustion(b"FATAL ERROR: Reached heap limit Allocation failed"));
        assert!(!shows_memory_exhaustion(b"AssertionError: expected 3, got 4"));
    }
}
