//! A lean HTTP/1.1 load client for throughput benchmarks: one keep-alive connection per worker,
//! requests written from bytes prepared before the clock starts, responses read by
//! `Content-Length` without parsing their bodies.
//!
//! The load generator shares the machine's two cores with the server, so every microsecond it
//! spends is taken from the server; a general-purpose client (reqwest: connection pool, header
//! maps, body streams) costs several times what this does per request. It speaks only what the
//! benchmarks need: `POST` with a body, answers with `Content-Length` (actix sends it for every
//! sized body), no chunked transfer, no redirects.

use anyhow::{bail, Context as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Largest response head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// One keep-alive connection.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    /// Connects to `host:port` (from an `http://` URL).
    pub async fn open(base_url: &str) -> anyhow::Result<Self> {
        let authority = authority(base_url)?;
        let stream = TcpStream::connect(authority)
            .await
            .with_context(|| format!("connecting to {authority}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends one prepared request and reads the whole answer: its status and body length.
    pub async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<(u16, usize)> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            if self.buffer.len() > MAX_HEAD {
                bail!("a response head over {MAX_HEAD} bytes");
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end]).context("a non-UTF-8 head")?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status in the response")?;
        let length: usize = head
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .context("a response without Content-Length")?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        if self.buffer.len() > head_end + length {
            bail!("the server sent more than one response");
        }
        Ok((status, length))
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        self.buffer.reserve(64 * 1024);
        if self.stream.read_buf(&mut self.buffer).await? == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }
}

/// A complete `POST` request with a JSON body, ready to write on a keep-alive connection.
pub fn post_json(base_url: &str, path: &str, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let host = authority(base_url)?;
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    Ok(request)
}

/// `host:port` of an `http://` URL.
fn authority(base_url: &str) -> anyhow::Result<&str> {
    let rest = base_url
        .strip_prefix("http://")
        .context("the load client speaks plain http:// only")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    if !authority.contains(':') {
        bail!("give the port in the URL ({base_url})");
    }
    Ok(authority)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_complete() {
        let request = post_json("http://127.0.0.1:8080", "/v1/verify", b"{}").unwrap();
        assert_eq!(
            request,
            b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
        assert!(post_json("https://x:1", "/", b"").is_err());
        assert!(post_json("http://x", "/", b"").is_err());
    }

    #[tokio::test]
    async fn reads_answers_by_content_length() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = vec![0u8; 1024];
            for body in ["{\"verified\":true}", "{}"] {
                let _ = socket.read(&mut seen).await.unwrap();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                // Split the answer to exercise partial reads.
                let (a, b) = answer.as_bytes().split_at(10);
                socket.write_all(a).await.unwrap();
                socket.write_all(b).await.unwrap();
            }
        });
        let mut connection = Connection::open(&url).await.unwrap();
        let request = post_json(&url, "/", b"{}").unwrap();
        assert_eq!(connection.exchange(&request).await.unwrap(), (200, 17));
        assert_eq!(connection.exchange(&request).await.unwrap(), (200, 2));
        assert!(connection.exchange(&request).await.is_err());
    }
}
