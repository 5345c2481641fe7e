//! A TCP proxy that can be cut: what `bench db-faults` puts between the service and PostgreSQL
//! to make the database unreachable without touching the server that others share.
//!
//! Cut, it closes every connection it carries and stops listening, so that new connections are
//! refused as by a server that is down; restored, it listens on the same port again.

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running proxy to one upstream address.
pub struct Proxy {
    pub port: u16,
    upstream: String,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the proxy")?;
        let proxy = Self {
            port: listener.local_addr()?.port(),
            upstream,
            connections: Arc::default(),
            listener: Mutex::new(None),
        };
        proxy.serve(listener);
        Ok(proxy)
    }

    fn serve(&self, listener: TcpListener) {
        let (upstream, held) = (self.upstream.clone(), self.connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut held = held.lock().expect("proxy lock");
                held.retain(|t| !t.is_finished());
                held.push(task);
            }
        });
        *self.listener.lock().expect("proxy lock") = Some(task);
    }

    /// Closes every connection and stops listening: new connections are refused.
    pub fn cut(&self) {
        if let Some(listener) = self.listener.lock().expect("proxy lock").take() {
            listener.abort();
        }
        for task in self.connections.lock().expect("proxy lock").drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restore(&self) -> anyhow::Result<()> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .context("listening again on the proxy's port")?;
        self.serve(listener);
        Ok(())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// `url` (`postgres://user@host:port/db…`) pointed at `127.0.0.1:port` instead, and the
/// `host:port` it named.
pub fn redirect(url: &str, port: u16) -> anyhow::Result<(String, String)> {
    let (scheme, rest) = url.split_once("://").context("a URL with a scheme")?;
    let (userinfo, rest) = match rest.split_once('@') {
        Some((user, rest)) => (format!("{user}@"), rest),
        None => (String::new(), rest),
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let upstream = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:5432")
    };
    Ok((
        format!("{scheme}://{userinfo}127.0.0.1:{port}{path}"),
        upstream,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redirected() {
        let (url, upstream) = redirect("postgres://postgres@127.0.0.1:5432/x?a=b", 9).unwrap();
        assert_eq!(url, "postgres://postgres@127.0.0.1:9/x?a=b");
        assert_eq!(upstream, "127.0.0.1:5432");
        let (url, upstream) = redirect("postgres://db/x", 7).unwrap();
        assert_eq!(
            (url.as_str(), upstream.as_str()),
            ("postgres://127.0.0.1:7/x", "db:5432")
        );
        assert!(redirect("no-scheme", 1).is_err());
    }
}
