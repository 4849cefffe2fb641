//! What travels through Redis: the task envelope a client queues and the
//! reply a worker sends back, both postcard, both capped in size and
//! decoded without panics (they come from the network).

use std::time::Duration;

use hilo::TaskError;
use serde::{Deserialize, Serialize};

/// The largest envelope or reply, in bytes (64 MiB, as a process pool's
/// message): a task's arguments (or a chunk's) and its values must fit.
/// Larger ones are refused on the way in and never decoded on the way
/// out.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// The envelope's format; a worker refuses any other.
const FORMAT: u8 = 1;

/// A queued task: which task to run on what, and where its reply goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) format: u8,
    /// The submitting client's inbox.
    pub(crate) reply: String,
    /// The client's number for the future.
    pub(crate) tag: u64,
    /// The registered task's name.
    pub(crate) task: String,
    /// Each call's encoded arguments: one for a call, several for a chunk.
    pub(crate) args: Vec<Vec<u8>>,
    /// Kill a run that takes longer.
    pub(crate) timeout_ms: Option<u64>,
    /// After this many deliveries the task is given up.
    pub(crate) max_deliveries: u32,
}

/// A finished task, back to its client: one outcome per call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub(crate) tag: u64,
    pub(crate) outcomes: Vec<Result<Vec<u8>, WireError>>,
}

/// What a worker says of itself in its heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// Its consumer name, unique in the broker.
    pub name: String,
    /// The machine it runs on.
    pub host: String,
    pub pid: u32,
    /// How many tasks it runs at once.
    pub slots: u32,
    /// How many it holds now.
    pub running: u32,
    /// Results it has written.
    pub done: u64,
    /// Results it dropped: the task was cancelled, or another worker had
    /// taken it over.
    pub dropped: u64,
}

impl WorkerInfo {
    pub(crate) fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<WorkerInfo> {
        decode(bytes).ok()
    }
}

/// [`TaskError`] as it crosses the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum WireError {
    Panicked(String),
    Cancelled,
    WorkerDied {
        code: Option<i32>,
        signal: Option<i32>,
    },
    TimedOut {
        ms: u64,
    },
    UnknownTask(String),
    GaveUp {
        deliveries: u32,
    },
    Failed(String),
}

impl From<&TaskError> for WireError {
    fn from(e: &TaskError) -> Self {
        match e {
            TaskError::Panicked { message } => WireError::Panicked(message.clone()),
            TaskError::Cancelled => WireError::Cancelled,
            &TaskError::WorkerDied { code, signal } => WireError::WorkerDied { code, signal },
            TaskError::TimedOut { after } => WireError::TimedOut {
                ms: after.as_millis() as u64,
            },
            TaskError::UnknownTask { name } => WireError::UnknownTask(name.clone()),
            &TaskError::GaveUp { deliveries } => WireError::GaveUp { deliveries },
            TaskError::Failed { message } => WireError::Failed(message.clone()),
            other => WireError::Failed(other.to_string()),
        }
    }
}

impl From<WireError> for TaskError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Panicked(message) => TaskError::Panicked { message },
            WireError::Cancelled => TaskError::Cancelled,
            WireError::WorkerDied { code, signal } => TaskError::WorkerDied { code, signal },
            WireError::TimedOut { ms } => TaskError::TimedOut {
                after: Duration::from_millis(ms),
            },
            WireError::UnknownTask(name) => TaskError::UnknownTask { name },
            WireError::GaveUp { deliveries } => TaskError::GaveUp { deliveries },
            WireError::Failed(message) => TaskError::Failed { message },
        }
    }
}

/// Why bytes are not an envelope or a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WireFault {
    #[error("{0} bytes, more than the {MAX_PAYLOAD} a task or its result may take")]
    TooLarge(usize),
    #[error("not a hilo task: {0}")]
    Garbled(String),
    #[error("a task of format {0}; this worker reads format {FORMAT}")]
    Format(u8),
}

impl Envelope {
    pub(crate) fn new(
        reply: &str,
        tag: u64,
        task: &str,
        args: Vec<Vec<u8>>,
        timeout: Option<Duration>,
        max_deliveries: u32,
    ) -> Envelope {
        Envelope {
            format: FORMAT,
            reply: reply.to_owned(),
            tag,
            task: task.to_owned(),
            args,
            timeout_ms: timeout.map(|t| t.as_millis().min(u64::MAX as u128) as u64),
            max_deliveries,
        }
    }

    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout_ms.map(Duration::from_millis)
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, WireFault> {
        encode(self)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Envelope, WireFault> {
        let envelope: Envelope = decode(bytes)?;
        if envelope.format != FORMAT {
            return Err(WireFault::Format(envelope.format));
        }
        Ok(envelope)
    }
}

impl Reply {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, WireFault> {
        encode(self)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Reply, WireFault> {
        decode(bytes)
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, WireFault> {
    let bytes = postcard::to_stdvec(value).map_err(|e| WireFault::Garbled(e.to_string()))?;
    if bytes.len() > MAX_PAYLOAD {
        return Err(WireFault::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, WireFault> {
    if bytes.len() > MAX_PAYLOAD {
        return Err(WireFault::TooLarge(bytes.len()));
    }
    let (value, rest) =
        postcard::take_from_bytes(bytes).map_err(|e| WireFault::Garbled(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireFault::Garbled(format!(
            "{} bytes after the end",
            rest.len()
        )));
    }
    Ok(value)
}

/// For the fuzz target: decode untrusted bytes as an envelope and as a
/// reply; true if either parsed.
#[doc(hidden)]
pub fn fuzz_decode(bytes: &[u8]) -> bool {
    let envelope = Envelope::decode(bytes).is_ok();
    let reply = Reply::decode(bytes).is_ok();
    envelope || reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope::new(
            "c-1",
            7,
            "crate::square",
            vec![vec![1, 2], vec![]],
            Some(Duration::from_millis(1500)),
            3,
        )
    }

    #[test]
    fn an_envelope_comes_back_as_it_went() {
        let bytes = sample().encode().unwrap();
        assert_eq!(Envelope::decode(&bytes).unwrap(), sample());
        assert_eq!(sample().timeout(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn every_task_error_crosses_as_itself() {
        let errors = [
            TaskError::Panicked {
                message: "p".into(),
            },
            TaskError::Cancelled,
            TaskError::WorkerDied {
                code: Some(3),
                signal: None,
            },
            TaskError::WorkerDied {
                code: None,
                signal: Some(9),
            },
            TaskError::TimedOut {
                after: Duration::from_millis(250),
            },
            TaskError::UnknownTask {
                name: "x::y".into(),
            },
            TaskError::GaveUp { deliveries: 4 },
            TaskError::Failed {
                message: "f".into(),
            },
        ];
        let reply = Reply {
            tag: 1,
            outcomes: errors.iter().map(|e| Err(WireError::from(e))).collect(),
        };
        let back = Reply::decode(&reply.encode().unwrap()).unwrap();
        let back: Vec<TaskError> = back
            .outcomes
            .into_iter()
            .map(|o| TaskError::from(o.unwrap_err()))
            .collect();
        assert_eq!(back, errors);
        // Errors with no wire form of their own keep their message.
        let other = WireError::from(&TaskError::Abandoned);
        assert_eq!(other, WireError::Failed(TaskError::Abandoned.to_string()));
    }

    #[test]
    fn bad_bytes_are_errors_never_panics() {
        let good = sample().encode().unwrap();
        for cut in 0..good.len() {
            assert!(Envelope::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(matches!(
            Envelope::decode(&longer),
            Err(WireFault::Garbled(_))
        ));
        let mut other_format = good.clone();
        other_format[0] = 2;
        assert_eq!(Envelope::decode(&other_format), Err(WireFault::Format(2)));
        // A length prefix claiming far more than is there.
        let huge = [1u8, 3, b'c', b'-', b'1', 7, 0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(Envelope::decode(&huge).is_err());
        let too_large = vec![0u8; MAX_PAYLOAD + 1];
        assert_eq!(
            Envelope::decode(&too_large),
            Err(WireFault::TooLarge(MAX_PAYLOAD + 1))
        );
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = fuzz_decode(&bytes);
        }

        #[test]
        fn a_mangled_envelope_never_panics(flip in 0usize..64, to in proptest::num::u8::ANY) {
            let mut bytes = sample().encode().unwrap();
            let at = flip % bytes.len();
            bytes[at] = to;
            let _ = Envelope::decode(&bytes);
        }
    }

    #[test]
    fn an_envelope_over_the_cap_is_refused_when_made() {
        let mut big = sample();
        big.args = vec![vec![0; MAX_PAYLOAD]];
        assert!(matches!(big.encode(), Err(WireFault::TooLarge(n)) if n > MAX_PAYLOAD));
    }
}
