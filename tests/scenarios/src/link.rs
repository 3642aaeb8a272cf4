//! The store's internet link, as a TCP relay on loopback that a scenario can cut and restore:
//! devices talk to the server and to SEFAZ through it. Cutting resets every open connection
//! (a request in flight fails mid-way, as when the router drops) and refuses new ones.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A relay from a local port to `target`.
pub struct Link {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped on every cut; open connections watch it and drop when it changes.
    generation: watch::Sender<u64>,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Link {
    /// Starts relaying; the link starts up.
    pub async fn start(target: SocketAddr) -> std::io::Result<Link> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = watch::channel(0u64);
        let accepted = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(relay(
            listener,
            target,
            up.clone(),
            generation.clone(),
            accepted.clone(),
        ));
        Ok(Link {
            addr,
            up,
            generation,
            accepted,
            task,
        })
    }

    /// Where devices connect instead of `target`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// Drops the link: open connections are reset, new ones refused at once.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Connections relayed so far (to check that traffic really went through the link).
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

async fn relay(
    listener: TcpListener,
    target: SocketAddr,
    up: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
    accepted: Arc<AtomicU64>,
) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        if !up.load(Ordering::SeqCst) {
            // Refuse like an unreachable network: close without a byte.
            let _ = inbound.set_zero_linger();
            drop(inbound);
            continue;
        }
        accepted.fetch_add(1, Ordering::SeqCst);
        let mut cut = generation.subscribe();
        tokio::spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = cut.changed() => {
                    let _ = inbound.set_zero_linger();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await?;
        Ok(buf.to_vec())
    }

    #[tokio::test]
    async fn relays_then_cuts_open_connections_and_refuses_new_ones() {
        let link = Link::start(echo_server().await).await.expect("start");
        assert_eq!(round_trip(link.addr()).await.expect("up"), b"ping");

        let mut open = TcpStream::connect(link.addr()).await.expect("connect");
        open.write_all(b"x").await.expect("write");
        let mut one = [0u8; 1];
        open.read_exact(&mut one).await.expect("echo while up");
        link.cut();
        // The open connection dies (reset or EOF), as when the link drops mid-request.
        let mut rest = [0u8; 1];
        let r = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            let _ = open.write_all(b"y").await;
            open.read(&mut rest).await
        })
        .await
        .expect("cut is immediate, not a hang");
        assert!(
            matches!(r, Ok(0) | Err(_)),
            "no byte passes a cut link: {r:?}"
        );
        assert!(
            round_trip(link.addr()).await.is_err(),
            "new connections are refused while cut"
        );

        link.restore();
        assert_eq!(round_trip(link.addr()).await.expect("restored"), b"ping");
        assert_eq!(
            link.connections(),
            3,
            "the refused connection is not counted"
        );
    }
}
