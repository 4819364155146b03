//! E-mail: a notification whose type the user receives `immediate` becomes a mail at once; the
//! `daily` and `weekly` ones are gathered into one digest per period. Mails are written to an
//! outbox in the transaction that makes them (with the notifications they report marked
//! mailed), in the recipient's language (English, Korean, Traditional Chinese), as plain text
//! and HTML, with an unsubscribe link (and `List-Unsubscribe` for one-click unsubscribing,
//! RFC 8058). A sender thread per process sends them over SMTP under a lease, retrying a
//! failure on a schedule. Mail is built only from notifications, which are already limited to
//! what the recipient may read.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{self, TryRecvError};
use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::Transport;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use serde_json::Value;

use crate::config::Settings;
use crate::db::mail::{self as rows, MailRow, PreferencesRow};
use crate::db::notifications::NotificationRow;
use crate::db::{Db, DbConn};
use crate::domain::PublicId;
use crate::domain::stored::{Delivery, EventType, Language};
use crate::error::{AppError, AppResult};
use crate::service::now;

/// Waits before each retry of a mail the server refused or could not take.
const RETRIES: [i64; 5] = [60, 300, 1800, 7200, 21_600];
const LEASE_SECS: i64 = 120;
/// Notifications one digest reports (the rest wait for the next).
const DIGEST_MAX: i64 = 200;

/// What mail needs of the deployment.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// Whether an SMTP server is configured (no mail is queued without one).
    pub enabled: bool,
    pub base_url: String,
}

impl MailConfig {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            enabled: s.smtp_url.is_some(),
            base_url: s.public_base_url.trim_end_matches('/').to_owned(),
        }
    }
}

fn field(data: &Value, key: &str) -> String {
    match data.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// One line saying what happened, in `lang`.
pub fn line(lang: Language, t: EventType, title: &str, data: &Value) -> String {
    use EventType::*;
    use Language::*;
    let (state, amount, currency) = (
        field(data, "state"),
        field(data, "amount_minor"),
        field(data, "currency"),
    );
    let (due, renewal, alert) = (
        field(data, "due_date"),
        field(data, "renewal_date"),
        field(data, "alert_name"),
    );
    let reason = field(data, "disabled_reason");
    match (lang, t) {
        (En, NeedPublished) => format!("New need: {title}"),
        (Ko, NeedPublished) => format!("새 과제: {title}"),
        (ZhHant, NeedPublished) => format!("新需求：{title}"),
        (En, NeedUpdated) => format!("Need updated: {title}"),
        (Ko, NeedUpdated) => format!("과제 변경: {title}"),
        (ZhHant, NeedUpdated) => format!("需求已更新：{title}"),
        (En, NeedClosed) => format!("Need closed: {title}"),
        (Ko, NeedClosed) => format!("과제 종료: {title}"),
        (ZhHant, NeedClosed) => format!("需求已關閉：{title}"),
        (En, EngagementStateChanged) => format!("Engagement on “{title}” is now {state}"),
        (Ko, EngagementStateChanged) => format!("“{title}” 협력 상태: {state}"),
        (ZhHant, EngagementStateChanged) => format!("「{title}」合作狀態：{state}"),
        (En, InvitationReceived) => format!("Invitation to “{title}”"),
        (Ko, InvitationReceived) => format!("“{title}” 초대"),
        (ZhHant, InvitationReceived) => format!("「{title}」邀請"),
        (En, FundedProjectCreated) => format!("New funded project: {title}"),
        (Ko, FundedProjectCreated) => format!("새 연구비 과제: {title}"),
        (ZhHant, FundedProjectCreated) => format!("新資助計畫：{title}"),
        (En, PaymentReceived) => {
            format!("Payment received for {title}: {amount} {currency} (minor units)")
        }
        (Ko, PaymentReceived) => format!("{title} 입금 확인: {amount} {currency} (최소 단위)"),
        (ZhHant, PaymentReceived) => format!("{title} 已收款：{amount} {currency}（最小單位）"),
        (En, PaymentOverdue) => format!("Payment overdue for {title} (due {due})"),
        (Ko, PaymentOverdue) => format!("{title} 지급 기한 경과 (기한 {due})"),
        (ZhHant, PaymentOverdue) => format!("{title} 款項逾期（到期日 {due}）"),
        (En, CenterRenewalDue) => format!("Renewal of {title} due on {renewal}"),
        (Ko, CenterRenewalDue) => format!("{title} 갱신 기한: {renewal}"),
        (ZhHant, CenterRenewalDue) => format!("{title} 續約到期日：{renewal}"),
        (En, AllocationDecided) => format!("Compute allocation on {title} {state}"),
        (Ko, AllocationDecided) => format!("{title} 컴퓨팅 자원 배정: {state}"),
        (ZhHant, AllocationDecided) => format!("{title} 運算資源配置：{state}"),
        (lang, AlertMatched) => alert_line(lang, title, &alert, data),
        (En, WebhookDisabled) => format!("Webhook endpoint {title} was disabled: {reason}"),
        (Ko, WebhookDisabled) => format!("웹훅 엔드포인트 {title} 비활성화: {reason}"),
        (ZhHant, WebhookDisabled) => format!("Webhook 端點 {title} 已停用：{reason}"),
    }
}

/// An alert's hits of one step: the best one's title, and how many more.
fn alert_line(lang: Language, title: &str, alert: &str, data: &Value) -> String {
    // Events made before hits were grouped carry one record, as their title.
    let (first, count) = match data.get("records").and_then(Value::as_array) {
        Some(records) => (
            records
                .first()
                .map(|r| field(r, "title"))
                .unwrap_or_default(),
            data.get("count")
                .and_then(Value::as_u64)
                .unwrap_or(records.len() as u64),
        ),
        None => (title.to_owned(), 1),
    };
    let more = count.saturating_sub(1);
    match (lang, more) {
        (Language::En, 0) => format!("{first} fits your alert “{alert}”"),
        (Language::En, n) => format!("{first} and {n} more fit your alert “{alert}”"),
        (Language::Ko, 0) => format!("{first} — 저장한 알림 “{alert}”에 해당"),
        (Language::Ko, n) => format!("{first} 외 {n}건 — 저장한 알림 “{alert}”에 해당"),
        (Language::ZhHant, 0) => format!("{first} 符合您的提醒「{alert}」"),
        (Language::ZhHant, _) => format!("{first} 等 {count} 筆符合您的提醒「{alert}」"),
    }
}

struct Words {
    daily: fn(usize) -> String,
    weekly: fn(usize) -> String,
    all: &'static str,
    why: &'static str,
    stop: &'static str,
}

fn words(lang: Language) -> Words {
    match lang {
        Language::En => Words {
            daily: |n| format!("Liaison: {n} update(s) today"),
            weekly: |n| format!("Liaison: {n} update(s) this week"),
            all: "All your notifications",
            why: "You receive this e-mail because of your notification settings.",
            stop: "Stop these e-mails",
        },
        Language::Ko => Words {
            daily: |n| format!("Liaison: 오늘의 소식 {n}건"),
            weekly: |n| format!("Liaison: 이번 주 소식 {n}건"),
            all: "전체 알림 보기",
            why: "알림 설정에 따라 발송된 메일입니다.",
            stop: "이메일 수신 거부",
        },
        Language::ZhHant => Words {
            daily: |n| format!("Liaison：今日 {n} 則更新"),
            weekly: |n| format!("Liaison：本週 {n} 則更新"),
            all: "查看所有通知",
            why: "您因通知設定而收到此郵件。",
            stop: "取消訂閱電子郵件",
        },
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn unsubscribe_url(base: &str, token: &str) -> String {
    format!("{base}/api/v1/unsubscribe/{token}")
}

/// Subject, text and HTML of a mail reporting these notifications.
fn render(
    lang: Language,
    kind: Delivery,
    items: &[NotificationRow],
    config: &MailConfig,
    token: &str,
) -> (String, String, String) {
    let w = words(lang);
    let lines: Vec<String> = items
        .iter()
        .filter_map(|n| {
            let t = EventType::from_wire(&n.event_type)?;
            let data: Value = serde_json::from_str(&n.data).unwrap_or(Value::Null);
            Some(line(lang, t, &n.title, &data))
        })
        .collect();
    let subject = match kind {
        Delivery::Daily => (w.daily)(lines.len()),
        Delivery::Weekly => (w.weekly)(lines.len()),
        _ => format!("Liaison: {}", lines.first().cloned().unwrap_or_default()),
    };
    let all = format!("{}/api/v1/notifications", config.base_url);
    let stop = unsubscribe_url(&config.base_url, token);
    let mut text = String::new();
    for l in &lines {
        text.push_str(&format!("- {l}\n"));
    }
    text.push_str(&format!(
        "\n{}: {all}\n\n-- \n{}\n{}: {stop}\n",
        w.all, w.why, w.stop
    ));
    let mut html = format!("<!doctype html><html lang=\"{}\"><body><ul>", lang.as_str());
    for l in &lines {
        html.push_str(&format!("<li>{}</li>", escape(l)));
    }
    html.push_str(&format!(
        "</ul><p><a href=\"{}\">{}</a></p><hr><p><small>{} <a href=\"{}\">{}</a></small></p></body></html>",
        escape(&all),
        escape(w.all),
        escape(w.why),
        escape(&stop),
        escape(w.stop)
    ));
    (subject, text, html)
}

/// The user's mail preferences, made on first use (English, a fresh unsubscribe token).
pub(crate) fn preferences(conn: &mut DbConn, user_id: &str) -> AppResult<PreferencesRow> {
    if let Some(p) = rows::preferences(conn, user_id)? {
        return Ok(p);
    }
    let mut token = [0u8; 24];
    getrandom::fill(&mut token).map_err(AppError::internal)?;
    let p = PreferencesRow {
        user_id: user_id.to_owned(),
        language: Language::En,
        unsubscribe_token: base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token,
        ),
        daily_sent_at: None,
        weekly_sent_at: None,
    };
    rows::insert_preferences(conn, &p)?;
    Ok(p)
}

fn queue(
    conn: &mut DbConn,
    config: &MailConfig,
    user_id: &str,
    kind: Delivery,
    items: &[NotificationRow],
    at: NaiveDateTime,
) -> AppResult<()> {
    if items.is_empty() || rows::address_of(conn, user_id)?.is_none() {
        return Ok(());
    }
    let prefs = preferences(conn, user_id)?;
    let (subject, text, html) = render(
        prefs.language,
        kind,
        items,
        config,
        &prefs.unsubscribe_token,
    );
    rows::queue(
        conn,
        &rows::NewMail {
            id: &PublicId::generate(),
            user_id,
            kind: kind.as_str(),
            subject: &subject,
            text: &text,
            html: &html,
        },
        at,
    )?;
    let ids: Vec<String> = items.iter().map(|n| n.id.clone()).collect();
    rows::mark_mailed(conn, &ids, at)?;
    Ok(())
}

/// A mail for one notification just made (its type is delivered `immediate`).
pub(super) fn immediate(
    conn: &mut DbConn,
    config: &MailConfig,
    n: &NotificationRow,
) -> AppResult<()> {
    if !config.enabled {
        return Ok(());
    }
    queue(
        conn,
        config,
        &n.user_id,
        Delivery::Immediate,
        std::slice::from_ref(n),
        n.created_at,
    )
}

/// Queues the digests that are due: for each user with a daily (weekly) delivery, the
/// notifications of those types not yet mailed, at most one digest a day (a week).
pub(super) fn digests(
    conn: &mut DbConn,
    config: &MailConfig,
    at: NaiveDateTime,
) -> AppResult<usize> {
    if !config.enabled {
        return Ok(0);
    }
    let mut made = 0;
    for (kind, period) in [
        (Delivery::Daily, chrono::Duration::days(1)),
        (Delivery::Weekly, chrono::Duration::days(7)),
    ] {
        let mut types: HashMap<String, Vec<String>> = HashMap::new();
        for (user, t) in rows::digest_subscribers(conn, kind)? {
            types.entry(user).or_default().push(t);
        }
        for (user, types) in types {
            let prefs = preferences(conn, &user)?;
            let last = if kind == Delivery::Weekly {
                prefs.weekly_sent_at
            } else {
                prefs.daily_sent_at
            };
            if last.is_some_and(|l| at - l < period) {
                continue;
            }
            let items = rows::unmailed(conn, &user, &types, DIGEST_MAX)?;
            if items.is_empty() {
                continue;
            }
            queue(conn, config, &user, kind, &items, at)?;
            rows::digest_sent(conn, &user, kind == Delivery::Weekly, at)?;
            made += 1;
        }
    }
    Ok(made)
}

/// `POST /unsubscribe/{token}`: every type delivered by mail is delivered in the app only.
/// Unknown tokens are a 404 (they are random: nothing can be learnt by guessing).
pub async fn unsubscribe(db: &Db, token: String) -> AppResult<usize> {
    db.write(move |conn| {
        let prefs =
            rows::by_token(conn, &token)?.ok_or_else(|| AppError::not_found("Subscription"))?;
        Ok(rows::stop_mail(conn, &prefs.user_id)?)
    })
    .await
}

/// The handle `AppState` holds; dropping it stops the sender.
pub struct Mailer {
    _stop: std::sync::Mutex<mpsc::Sender<()>>,
}

impl Mailer {
    /// Starts the sender, if an SMTP server is configured.
    pub fn start(db: Db, settings: &Settings, runner: String) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(url) = &settings.smtp_url else {
            return Ok(None);
        };
        let transport = lettre::SmtpTransport::from_url(&url.0)
            .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail_from: {e}"))?;
        let (tx, rx) = mpsc::channel::<()>();
        let worker = MailWorker {
            db,
            transport,
            from,
            base_url: settings.public_base_url.trim_end_matches('/').to_owned(),
            runner,
        };
        std::thread::Builder::new()
            .name("liaison-mail".into())
            .spawn(move || worker.run(&rx))?;
        Ok(Some(Arc::new(Self {
            _stop: std::sync::Mutex::new(tx),
        })))
    }
}

struct MailWorker {
    db: Db,
    transport: lettre::SmtpTransport,
    from: Mailbox,
    base_url: String,
    runner: String,
}

impl MailWorker {
    fn run(&self, rx: &mpsc::Receiver<()>) {
        let changes = self.db.changes();
        loop {
            if matches!(rx.try_recv(), Err(TryRecvError::Disconnected)) {
                return;
            }
            let seen = changes.current();
            match self.step() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e.log_message(), "sending mail failed"),
            }
            changes.wait(seen, Duration::from_millis(500));
        }
    }

    fn step(&self) -> AppResult<bool> {
        let due = self
            .db
            .run_blocking(|c| Ok(rows::due(c, now(), &self.runner, 20)?))?;
        let mut sent = false;
        for id in due {
            let ts = now();
            let Some(m) = self.db.write_blocking(|c| {
                Ok(rows::claim(
                    c,
                    &id,
                    &self.runner,
                    ts,
                    ts + chrono::Duration::seconds(LEASE_SECS),
                )?)
            })?
            else {
                continue;
            };
            let result = self.send(&m);
            let at = now();
            let (state, next, error) = match result {
                Ok(()) => ("sent", None, None),
                Err(e) => {
                    tracing::warn!(mail = %m.id, error = %e, "a mail was not accepted");
                    match RETRIES.get(usize::try_from(m.attempts).unwrap_or(usize::MAX)) {
                        Some(w) => ("pending", Some(at + chrono::Duration::seconds(*w)), Some(e)),
                        None => ("failed", None, Some(e)),
                    }
                }
            };
            self.db.write_blocking(|c| {
                rows::record(c, &m, &self.runner, state, next, error.as_deref(), at)?;
                Ok(())
            })?;
            sent = true;
        }
        Ok(sent)
    }

    fn send(&self, m: &MailRow) -> Result<(), String> {
        let Some((email, name)) = self
            .db
            .run_blocking(|c| Ok(rows::address_of(c, &m.user_id)?))
            .map_err(|e| e.detail)?
        else {
            return Err("the account is gone or disabled".to_owned());
        };
        let prefs = self
            .db
            .run_blocking(|c| Ok(rows::preferences(c, &m.user_id)?))
            .map_err(|e| e.detail)?;
        let to: Mailbox = format!("{name} <{email}>")
            .parse()
            .or_else(|_| email.parse())
            .map_err(|e| format!("the account's address: {e}"))?;
        let mut message = lettre::Message::builder()
            // The outbox id: a mail sent again after a crash can be recognised as the same.
            .message_id(Some(format!("<{}@liaison>", m.id)))
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(m.text_body.clone()))
                    .singlepart(SinglePart::html(m.html_body.clone())),
            )
            .map_err(|e| e.to_string())?;
        if let Some(p) = prefs {
            let url = unsubscribe_url(&self.base_url, &p.unsubscribe_token);
            let headers = message.headers_mut();
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ));
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
        }
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
