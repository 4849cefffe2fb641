//! The server `bench/io.sh` downloads from: `GET /f/N` is answered after
//! DELAY_MS with SIZE bytes that depend on N (so every file has its own
//! MD5); anything else is a 404. HTTP/1.1 with keep-alive, a thread per
//! connection, so that the server costs little next to its clients and
//! the clients, not it, are what is measured. Writes its port to PORTFILE
//! once it listens; runs until killed.
//!
//! Usage: hilo-bench-http PORTFILE DELAY_MS SIZE

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, port_file, delay, size] = args.as_slice() else {
        eprintln!("usage: hilo-bench-http PORTFILE DELAY_MS SIZE");
        std::process::exit(2);
    };
    let delay = Duration::from_millis(delay.parse().expect("DELAY_MS: a number"));
    let size: usize = size.parse().expect("SIZE: a number");
    let block: Arc<Vec<u8>> = Arc::new((0..size + 64).map(|i| (i % 251) as u8).collect());
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot listen on 127.0.0.1");
    let port = listener.local_addr().expect("a bound socket").port();
    let tmp = format!("{port_file}.tmp");
    std::fs::write(&tmp, port.to_string()).expect("cannot write PORTFILE");
    std::fs::rename(&tmp, port_file).expect("cannot write PORTFILE");
    for stream in listener.incoming().flatten() {
        let block = Arc::clone(&block);
        std::thread::spawn(move || {
            let _ = serve(stream, delay, size, &block);
        });
    }
}

/// Requests on one connection until the client closes it.
fn serve(stream: TcpStream, delay: Duration, size: usize, block: &[u8]) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let mut close = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
            let lower = header.to_ascii_lowercase();
            close |= lower.starts_with("connection:") && lower.contains("close");
        }
        std::thread::sleep(delay);
        let path = request.split_whitespace().nth(1).unwrap_or("/");
        let connection = if close { "close" } else { "keep-alive" };
        match path.strip_prefix("/f/") {
            Some(tag) => {
                // The tag, a newline, then the block: SIZE bytes in all.
                let mut body = Vec::with_capacity(size);
                body.extend_from_slice(tag.as_bytes());
                body.push(b'\n');
                body.extend_from_slice(&block[..size.saturating_sub(body.len())]);
                body.truncate(size);
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
                    body.len()
                )?;
                out.write_all(&body)?;
            }
            None => write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n"
            )?,
        }
        if close {
            return Ok(());
        }
    }
}
