//! Frames on the socket between a process pool and one of its workers.
//!
//! A frame is a little-endian `u32` length followed by that many bytes of a
//! postcard-encoded message. This module owns the encoding and its limits;
//! it never trusts a length or a byte it reads: a frame that is too large,
//! cut short or not a valid message is an error, never a panic, a huge
//! allocation or a hang.

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::TaskError;

/// The largest frame either side accepts by default (64 MiB).
pub(crate) const MAX_FRAME: usize = 64 << 20;

/// Pool → worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ToWorker {
    /// Run the registered task `task` once per entry of `args` (each the
    /// postcard bytes of one call's arguments): one call, or a chunk of a
    /// chunked map.
    Run {
        id: u64,
        task: String,
        args: Vec<Vec<u8>>,
    },
    /// Finish and exit with status 0.
    Exit,
}

/// `ToWorker::Run` by reference, for the pool's side: encodes to the same
/// bytes without copying the arguments.
#[derive(Serialize)]
pub(crate) enum ToWorkerRef<'a> {
    Run {
        id: u64,
        task: &'a str,
        args: &'a [Vec<u8>],
    },
}

/// `ToWorker` as the worker decodes it, borrowing from the frame.
#[derive(Debug, Deserialize)]
pub(crate) enum ToWorkerIn<'a> {
    Run {
        id: u64,
        #[serde(borrow)]
        task: &'a str,
        #[serde(borrow)]
        args: Vec<&'a [u8]>,
    },
    Exit,
}

/// `FromWorker` as the pool decodes it, borrowing from the frame. Only
/// `Done` is expected here (the handshake reads the owned type); the other
/// variants keep the layout identical.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) enum FromWorkerIn<'a> {
    Ready {
        pid: u32,
    },
    SetupFailed {
        reason: String,
    },
    Done {
        id: u64,
        #[serde(borrow)]
        outcomes: Vec<WireOutcomeIn<'a>>,
    },
}

/// `WireOutcome` borrowing its value from the frame.
#[derive(Debug, Deserialize)]
pub(crate) enum WireOutcomeIn<'a> {
    Value(#[serde(borrow)] &'a [u8]),
    Panicked(String),
    UnknownTask(String),
    Failed(String),
}

/// Worker → pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FromWorker {
    /// Sent once, when `hilo::init()` has turned the process into a worker.
    Ready { pid: u32 },
    /// Sent instead of `Ready` when the worker cannot serve (its limits
    /// could not be set or its initializer failed); it then exits.
    SetupFailed { reason: String },
    /// The outcomes of run `id`, one per entry of its `args`, in order.
    Done { id: u64, outcomes: Vec<WireOutcome> },
}

/// How a task ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum WireOutcome {
    /// The task returned; its value, postcard-encoded.
    Value(Vec<u8>),
    /// The task panicked with this message.
    Panicked(String),
    /// No task of this name is registered in the worker.
    UnknownTask(String),
    /// The arguments or the result could not be (de)serialised.
    Failed(String),
}

/// What can go wrong reading or writing a frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The other side closed the connection cleanly, between frames.
    #[error("the connection was closed")]
    Closed,
    /// The connection ended in the middle of a frame.
    #[error("the connection ended in the middle of a frame")]
    Truncated,
    /// A frame announced more bytes than allowed.
    #[error("a frame of {len} bytes is larger than the limit of {max} bytes")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not a valid message.
    #[error("a frame could not be decoded: {0}")]
    Decode(String),
    /// Reading or writing failed.
    #[error("i/o error on the worker connection: {0}")]
    Io(#[from] io::Error),
}

/// Encodes `msg` as one frame (length prefix included).
pub(crate) fn encode<M: Serialize>(msg: &M) -> Result<Vec<u8>, FrameError> {
    // Encode straight after a placeholder for the length: one buffer, no copy.
    let mut out =
        postcard::to_extend(msg, vec![0u8; 4]).map_err(|e| FrameError::Decode(e.to_string()))?;
    let len = out.len() - 4;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge {
            len,
            max: MAX_FRAME,
        });
    }
    // Cannot truncate: MAX_FRAME fits in a u32.
    out[..4].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(out)
}

/// Writes `msg` as one frame and flushes.
pub(crate) fn write_frame<W: Write, M: Serialize>(w: &mut W, msg: &M) -> Result<(), FrameError> {
    w.write_all(&encode(msg)?)?;
    w.flush()?;
    Ok(())
}

/// Decodes one message from the start of `bytes`, which must hold one whole
/// frame; returns the message and the bytes the frame used.
///
/// This is the decoder the fuzz target and property tests drive: for any
/// input it returns a message or an error.
pub fn decode_frame<'de, M: Deserialize<'de>>(
    bytes: &'de [u8],
    max: usize,
) -> Result<(M, usize), FrameError> {
    let Some(head) = bytes.get(..4) else {
        return Err(if bytes.is_empty() {
            FrameError::Closed
        } else {
            FrameError::Truncated
        });
    };
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let body = bytes.get(4..4 + len).ok_or(FrameError::Truncated)?;
    Ok((decode_body(body)?, 4 + len))
}

pub(crate) fn decode_body<'de, M: Deserialize<'de>>(body: &'de [u8]) -> Result<M, FrameError> {
    let (msg, rest) =
        postcard::take_from_bytes(body).map_err(|e| FrameError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Decode(format!(
            "{} unexpected bytes after the message",
            rest.len()
        )));
    }
    Ok(msg)
}

/// Reads one frame from `r` and decodes it.
pub(crate) fn read_frame<R: Read, M: DeserializeOwned>(
    r: &mut R,
    max: usize,
) -> Result<M, FrameError> {
    decode_body(&read_body(r, max)?)
}

/// Reads one frame from `r` and returns its body, to decode with borrowed
/// types (no allocation per argument or value).
pub(crate) fn read_body<R: Read>(r: &mut R, max: usize) -> Result<Vec<u8>, FrameError> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u32::from_le_bytes(head) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    Ok(body)
}

/// Waits a few microseconds, without sleeping, for `sock` to have data to
/// read (or to be closed). The answer to a small task, or the next task,
/// usually arrives that fast, and a blocking read would cost two context
/// switches per round trip. Purely an optimisation: the caller then reads
/// (blocking, with its timeout) as before.
pub(crate) fn spin_for_data(sock: &std::os::unix::net::UnixStream) {
    use rustix::net::RecvFlags;
    let backoff = crossbeam_utils::Backoff::new();
    let mut probe = [0u8; 1];
    while !backoff.is_completed() {
        match rustix::net::recv(sock, &mut probe, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
            Err(rustix::io::Errno::AGAIN) => backoff.snooze(),
            _ => return, // data, end of stream or an error: let the read see it
        }
    }
}

/// Serialises task arguments or a task's value.
pub(crate) fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(value).map_err(|e| e.to_string())
}

/// Deserialises task arguments or a task's value; trailing bytes are an error.
pub(crate) fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    decode_body(bytes).map_err(|e| match e {
        FrameError::Decode(m) => m,
        other => other.to_string(),
    })
}

/// A task's value decoded as `R`, where it is used (a pool's supervisor, or
/// a thread running the call in place): bytes of another type fail that
/// task, they never panic.
pub(crate) fn decode_value<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, TaskError> {
    from_bytes(bytes).map_err(|e| TaskError::Failed {
        message: format!("cannot decode the task's result: {e}"),
    })
}

/// How a call whose arguments could not be encoded fails.
pub(crate) fn args_not_encoded(message: &str) -> TaskError {
    TaskError::Failed {
        message: format!("cannot encode the task's arguments: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> ToWorker {
        ToWorker::Run {
            id: 7,
            task: "crate::square".into(),
            args: vec![vec![1, 2, 3], vec![]],
        }
    }

    #[test]
    fn a_frame_round_trips_through_a_pipe() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &sample()).unwrap();
        write_frame(&mut buf, &ToWorker::Exit).unwrap();
        let mut r = &buf[..];
        assert_eq!(
            read_frame::<_, ToWorker>(&mut r, MAX_FRAME).unwrap(),
            sample()
        );
        assert_eq!(
            read_frame::<_, ToWorker>(&mut r, MAX_FRAME).unwrap(),
            ToWorker::Exit
        );
        assert!(matches!(
            read_frame::<_, ToWorker>(&mut r, MAX_FRAME),
            Err(FrameError::Closed)
        ));
    }

    #[test]
    fn the_borrowed_run_encodes_like_the_owned_one() {
        let args = vec![vec![1, 2, 3], vec![]];
        let by_ref = ToWorkerRef::Run {
            id: 7,
            task: "crate::square",
            args: &args,
        };
        assert_eq!(encode(&by_ref).unwrap(), encode(&sample()).unwrap());
    }

    #[test]
    fn the_borrowed_decoders_read_what_the_owned_types_wrote() {
        let frame = encode(&sample()).unwrap();
        match decode_body::<ToWorkerIn<'_>>(&frame[4..]).unwrap() {
            ToWorkerIn::Run { id, task, args } => {
                assert_eq!((id, task), (7, "crate::square"));
                assert_eq!(args, vec![&[1u8, 2, 3][..], &[][..]]);
            }
            other => panic!("{other:?}"),
        }
        let done = FromWorker::Done {
            id: 9,
            outcomes: vec![
                WireOutcome::Value(vec![4, 5]),
                WireOutcome::Panicked("p".into()),
                WireOutcome::UnknownTask("u".into()),
                WireOutcome::Failed("f".into()),
            ],
        };
        let frame = encode(&done).unwrap();
        match decode_body::<FromWorkerIn<'_>>(&frame[4..]).unwrap() {
            FromWorkerIn::Done { id, outcomes } => {
                assert_eq!(id, 9);
                assert!(matches!(outcomes[0], WireOutcomeIn::Value(&[4, 5])));
                assert!(matches!(&outcomes[1], WireOutcomeIn::Panicked(m) if m == "p"));
                assert!(matches!(&outcomes[2], WireOutcomeIn::UnknownTask(m) if m == "u"));
                assert!(matches!(&outcomes[3], WireOutcomeIn::Failed(m) if m == "f"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_truncated_frame_is_an_error() {
        let frame = encode(&sample()).unwrap();
        for cut in 1..frame.len() {
            let mut r = &frame[..cut];
            assert!(matches!(
                read_frame::<_, ToWorker>(&mut r, MAX_FRAME),
                Err(FrameError::Truncated)
            ));
            assert!(decode_frame::<ToWorker>(&frame[..cut], MAX_FRAME).is_err());
        }
    }

    #[test]
    fn an_oversized_length_is_refused_before_allocating() {
        let bytes = [0xff, 0xff, 0xff, 0x7f];
        let mut r = &bytes[..];
        assert!(matches!(
            read_frame::<_, ToWorker>(&mut r, MAX_FRAME),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn trailing_bytes_inside_a_frame_are_an_error() {
        let mut frame = encode(&ToWorker::Exit).unwrap();
        frame.push(0);
        let len = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&len.to_le_bytes());
        assert!(matches!(
            decode_frame::<ToWorker>(&frame, MAX_FRAME),
            Err(FrameError::Decode(_))
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            // The decoders the worker, the pool and the handshake use.
            let _ = decode_frame::<ToWorkerIn<'_>>(&bytes, MAX_FRAME);
            let _ = decode_frame::<FromWorkerIn<'_>>(&bytes, MAX_FRAME);
            let _ = decode_frame::<FromWorker>(&bytes, MAX_FRAME);
            let mut r = &bytes[..];
            let _ = read_frame::<_, FromWorker>(&mut r, 1024);
        }

        #[test]
        fn any_message_round_trips(id in any::<u64>(), task in ".{0,40}", args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 0..8)) {
            let msg = ToWorker::Run { id, task, args };
            let frame = encode(&msg).unwrap();
            let (back, used) = decode_frame::<ToWorker>(&frame, MAX_FRAME).unwrap();
            prop_assert_eq!(back, msg);
            prop_assert_eq!(used, frame.len());
        }
    }
}
