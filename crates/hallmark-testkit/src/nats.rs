//! A private NATS server with JetStream for tests (issue 21): `nats-server` (Debian's
//! package) on a free loopback port with its own store directory, which a test can stop and
//! start again on the same port and store (a broker outage), and a client to read the
//! stream back.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running (or stopped) private `nats-server -js`.
pub struct NatsServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free port; panics when `nats-server` is not installed.
    pub async fn start() -> NatsServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = NatsServer {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.resume().await;
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: an outage, not a shutdown).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store; returns once it accepts connections.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is installed (Debian package nats-server)");
        self.child = Some(child);
        for _ in 0..200 {
            if async_nats::connect(self.url()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not start on port {}", self.port);
    }

    /// How many messages `stream` holds (0 while it does not exist).
    pub async fn count(&self, stream: &str) -> u64 {
        let Ok(client) = async_nats::connect(self.url()).await else {
            return 0;
        };
        let js = async_nats::jetstream::new(client);
        match js.get_stream(stream).await {
            Ok(mut s) => s.info().await.map_or(0, |i| i.state.messages),
            Err(_) => 0,
        }
    }

    /// Every message of `stream`, in stream order: (subject, `Nats-Msg-Id`, payload); none
    /// while the stream does not exist (yet).
    pub async fn messages(&self, stream: &str) -> Vec<(String, String, Vec<u8>)> {
        let client = async_nats::connect(self.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let Ok(mut s) = js.get_stream(stream).await else {
            return Vec::new();
        };
        let last = s.info().await.unwrap().state.last_sequence;
        let first = s.info().await.unwrap().state.first_sequence;
        let mut out = Vec::new();
        if last == 0 {
            return out;
        }
        for seq in first..=last {
            let m = s.get_raw_message(seq).await.unwrap();
            let id = m
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.to_string())
                .unwrap_or_default();
            out.push((m.subject.to_string(), id, m.payload.to_vec()));
        }
        out
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
