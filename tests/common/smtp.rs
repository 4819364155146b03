//! An SMTP server on 127.0.0.1 that accepts every mail and keeps it (no TLS: the transport
//! is configured as `smtp://127.0.0.1:PORT`), so tests check what arrived.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Mail {
    pub recipients: Vec<String>,
    /// The message as sent (headers and body, lines joined with `\n`).
    pub data: String,
}

impl Mail {
    /// The subject and every part's text, decoded (RFC 2047 words, base64 bodies).
    pub fn text(&self) -> String {
        use base64::Engine;
        let b64 = |s: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(s.split_whitespace().collect::<String>())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        let mut out = String::new();
        for word in self
            .header("Subject")
            .unwrap_or_default()
            .split_whitespace()
        {
            match word
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
            {
                Some(encoded) => out.push_str(&b64(encoded)),
                None => {
                    out.push(' ');
                    out.push_str(word);
                    out.push(' ');
                }
            }
        }
        out.push('\n');
        for part in self.data.split("\n--") {
            let Some((head, body)) = part.split_once("\n\n") else {
                continue;
            };
            if head.contains("Content-Transfer-Encoding: base64") {
                out.push_str(&b64(body));
            } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
                out.push_str(&quoted_printable(body));
            } else if head.contains("Content-Type: text/") {
                out.push_str(body);
            }
            out.push('\n');
        }
        out
    }

    /// A header's raw value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\n\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.lines() {
            if let Some(v) = &mut value {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

/// RFC 2045 quoted-printable: soft line breaks joined, `=XX` bytes decoded.
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = mails.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut out) = stream else { continue };
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let Ok(read) = out.try_clone() else { return };
                    let mut lines = BufReader::new(read);
                    let _ = out.write_all(b"220 sink.test ESMTP\r\n");
                    let mut recipients = Vec::new();
                    loop {
                        let mut line = String::new();
                        if lines.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") {
                            b"250-sink.test\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            recipients.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            let _ = out.write_all(b"354 go on\r\n");
                            let mut data = String::new();
                            loop {
                                let mut l = String::new();
                                if lines.read_line(&mut l).unwrap_or(0) == 0 {
                                    return;
                                }
                                let l = l.trim_end_matches(['\r', '\n']);
                                if l == "." {
                                    break;
                                }
                                data.push_str(l.strip_prefix('.').unwrap_or(l));
                                data.push('\n');
                            }
                            kept.lock().unwrap().push(Mail {
                                recipients: std::mem::take(&mut recipients),
                                data,
                            });
                            b"250 kept\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = out.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = out.write_all(reply);
                    }
                });
            }
        });
        Self { url, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until the mails satisfy `done`.
    pub fn wait_for(&self, what: &str, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let got = self.mails();
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited 30 s for {what}; have {got:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
