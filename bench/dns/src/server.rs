//! The server: hickory-server on 127.0.0.1 (UDP and TCP, one port), in a
//! thread of its own with its own tokio runtime, answering from a
//! [`Zone`] after an optional delay, counting what it is asked. Stopped
//! and joined when dropped.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_server::authority::MessageResponseBuilder;
use hickory_server::proto::op::{Header, Message, ResponseCode};
use hickory_server::proto::rr::rdata::SOA;
use hickory_server::proto::rr::{Name, RData, Record};
use hickory_server::proto::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::ServerFuture;
use tokio::net::{TcpListener, UdpSocket};

use crate::stats::Stats;
use crate::zone::Zone;

struct Handler {
    zone: Zone,
    delay: Duration,
    stats: Arc<Stats>,
    soa: Record,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let mut header = Header::response_from_request(request.header());
        header.set_authoritative(true);
        let Ok(info) = request.request_info() else {
            header.set_response_code(ResponseCode::FormErr);
            let reply =
                MessageResponseBuilder::from_message_request(request).build_no_records(header);
            return response.send_response(reply).await.unwrap_or(header.into());
        };
        let name: Name = info.query.name().into();
        let _busy = self.stats.busy(&name.to_ascii());
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let asked = info.query.query_type();
        let Some((code, answers)) = self.zone.answer(&name.to_ascii()).reply(&name, asked) else {
            return header.into(); // silent: nothing is sent
        };
        header.set_response_code(code);
        let negative =
            answers.is_empty() && matches!(code, ResponseCode::NoError | ResponseCode::NXDomain);
        let soa: &[Record] = if negative {
            std::slice::from_ref(&self.soa)
        } else {
            &[]
        };
        if too_long_for(request, &answers, soa) {
            // As a real server does: TC set and no records, the client
            // asks again over TCP.
            header.set_truncated(true);
            let reply =
                MessageResponseBuilder::from_message_request(request).build_no_records(header);
            return response.send_response(reply).await.unwrap_or(header.into());
        }
        let reply = MessageResponseBuilder::from_message_request(request).build(
            header,
            answers.iter(),
            [].iter(),
            soa.iter(),
            [].iter(),
        );
        response.send_response(reply).await.unwrap_or(header.into())
    }
}

/// Whether a reply with `answers` and `soa` is longer than `request`'s
/// transport carries: over UDP, 512 octets or the payload its EDNS
/// offers. (hickory-server itself would send up to 4,096 octets to a
/// client that offered 512, which that client cannot read, and no TC bit.)
fn too_long_for(request: &Request, answers: &[Record], soa: &[Record]) -> bool {
    if request.protocol() != Protocol::Udp {
        return false;
    }
    let mut message = Message::new();
    message.add_queries(request.queries().iter().map(|q| q.original().clone()));
    message.add_answers(answers.iter().cloned());
    message.add_name_servers(soa.iter().cloned());
    message.to_vec().map_or(true, |bytes| {
        bytes.len() > usize::from(request.max_payload())
    })
}

/// A running server; stopped and joined when dropped.
///
/// ```
/// use std::time::Duration;
/// use hilo_bench_dns::{Answer, DnsServer, Zone};
///
/// let zone = Zone::new().with("a.test", Answer::NoData);
/// let server = DnsServer::start(zone, Duration::ZERO).unwrap();
/// assert!(server.addr().ip().is_loopback());
/// assert_eq!(server.asked("a.test"), 0);
/// ```
pub struct DnsServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Starts serving `zone` on 127.0.0.1, on a port the system picks
    /// (the same for UDP and TCP), each reply sent `delay` after its
    /// question arrived.
    ///
    /// # Errors
    /// The sockets or the runtime could not be made.
    pub fn start(zone: Zone, delay: Duration) -> io::Result<DnsServer> {
        let stats = Arc::new(Stats::default());
        let handler = Handler {
            zone,
            delay,
            stats: Arc::clone(&stats),
            soa: soa_record(),
        };
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hilo-bench-dns".into())
            .spawn(move || serve(handler, ready_tx, stopped))?;
        let addr = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the DNS server thread ended before it was ready"))??;
        Ok(DnsServer {
            addr,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many questions about `name` it was asked (every type).
    pub fn asked(&self, name: &str) -> usize {
        self.stats.asked(name)
    }

    /// How many questions it was asked in all.
    pub fn asked_in_all(&self) -> usize {
        self.stats.asked_in_all()
    }

    /// The most questions it was answering at once (with a delay, how many
    /// clients' questions overlapped).
    pub fn max_in_flight(&self) -> usize {
        self.stats.max_in_flight()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The server thread: binds, says where, serves until told to stop.
fn serve(
    handler: Handler,
    ready: mpsc::Sender<io::Result<SocketAddr>>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    runtime.block_on(async move {
        let (udp, tcp) = match bind().await {
            Ok(sockets) => sockets,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let addr = udp.local_addr();
        let mut server = ServerFuture::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5));
        let _ = ready.send(addr);
        // Either a stop or the DnsServer dropped without one: end.
        let _ = stopped.await;
        let _ = server.shutdown_gracefully().await;
    });
}

/// A UDP socket and a TCP listener on one port of 127.0.0.1: the UDP
/// port is picked by the system, and tried again if its TCP twin is
/// taken.
async fn bind() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free port")))
}

/// The SOA of negative answers (so resolvers trust them, as they would a
/// real zone's).
fn soa_record() -> Record {
    let name = |s: &str| Name::from_ascii(s).unwrap_or_else(|_| Name::root());
    let soa = SOA::new(
        name("ns.test."),
        name("hostmaster.test."),
        1,
        3600,
        600,
        86400,
        60,
    );
    Record::from_rdata(name("test."), 60, RData::SOA(soa))
}
