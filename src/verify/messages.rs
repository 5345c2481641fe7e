//! Human messages, in Chinese and English, for every check code. Codes are the stable part;
//! these texts may be reworded.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::hash_map::{Entry, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use serde::ser::SerializeStruct as _;
use serde::Serialize as _;
use serde_json::value::RawValue;

use super::Message;

thread_local! {
    /// Fixed messages already rendered as JSON, by the addresses of their two texts. Escaping
    /// the same Chinese texts for every answer was ~3 % of a verification request's CPU.
    static RENDERED: RefCell<Rendered> = RefCell::new(HashMap::default());
}

/// Fixed messages' JSON by the addresses of their two texts.
type Rendered = HashMap<(usize, usize), Box<RawValue>, BuildHasherDefault<AddressHasher>>;

/// Hashes the addresses of a fixed message's texts. They are the program's own constants, not
/// input, so a multiply per word spreads them well enough (SipHash cost ~1 % of a batch here).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Serialises a message as `{"zh": …, "en": …}`: a fixed one (both texts `'static`, as
/// [`message`] gives) from its JSON rendered once per thread, any other field by field.
pub fn serialize<S: serde::Serializer>(
    message: &Message,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if let (Cow::Borrowed(zh), Cow::Borrowed(en)) = (&message.zh, &message.en) {
        return with_rendered(zh, en, |raw| raw.serialize(serializer))
            .map_err(serde::ser::Error::custom)?;
    }
    let mut out = serializer.serialize_struct("Message", 2)?;
    out.serialize_field("zh", &message.zh)?;
    out.serialize_field("en", &message.en)?;
    out.end()
}

/// Appends a message as [`serialize`] writes it.
pub fn write(out: &mut Vec<u8>, message: &Message) {
    if let (Cow::Borrowed(zh), Cow::Borrowed(en)) = (&message.zh, &message.en) {
        if with_rendered(zh, en, |raw| out.extend_from_slice(raw.get().as_bytes())).is_ok() {
            return;
        }
    }
    out.extend_from_slice(br#"{"zh":"#);
    super::answer::string(out, &message.zh);
    out.extend_from_slice(br#","en":"#);
    super::answer::string(out, &message.en);
    out.push(b'}');
}

/// Calls `f` with the JSON of the fixed message `zh`/`en`, rendered on first use in this thread.
fn with_rendered<R>(
    zh: &'static str,
    en: &'static str,
    f: impl FnOnce(&RawValue) -> R,
) -> Result<R, serde_json::Error> {
    let key = (zh.as_ptr() as usize, en.as_ptr() as usize);
    let rendered = || RawValue::from_string(serde_json::json!({"zh": zh, "en": en}).to_string());
    RENDERED.with(|cache| {
        let mut cache = cache.borrow_mut();
        let raw = match cache.entry(key) {
            Entry::Occupied(found) => found.into_mut(),
            Entry::Vacant(slot) => slot.insert(rendered()?),
        };
        Ok(f(raw))
    })
}

/// The message for a check code; unknown codes get a generic one.
pub fn message(code: &str) -> Message {
    let (zh, en) = text(code);
    Message {
        zh: zh.into(),
        en: en.into(),
    }
}

fn text(code: &str) -> (&'static str, &'static str) {
    match code {
        "signature_valid" => ("签名有效", "The signature is valid"),
        "signature_invalid" => (
            "签名无效：证照内容已被改动或签名不符",
            "The signature does not verify: the credential was altered or not signed by this key",
        ),
        "proof_missing" => ("证照没有签名", "The credential has no proof"),
        "proof_purpose" => (
            "签名用途必须为 assertionMethod",
            "The proof purpose must be assertionMethod",
        ),
        "verification_method_unresolved" => (
            "无法从验证方法解析出公钥",
            "The verification method does not name an Ed25519 key",
        ),
        "key_valid" => (
            "签发机构密钥在签名时有效",
            "The issuer's key was valid when it signed",
        ),
        "issuer_unknown" => (
            "签发机构不是本平台登记的机构",
            "The issuer is not registered with this registry",
        ),
        "issuer_mismatch" => (
            "签名密钥不属于证照所载签发机构",
            "The signing key does not belong to the issuer the credential names",
        ),
        "key_unknown" => ("签发机构没有此密钥", "The issuer has no such key"),
        "proof_created_missing" => ("签名缺少创建时间", "The proof has no creation time"),
        "key_not_yet_valid" => (
            "签名时密钥尚未生效",
            "The key was not yet valid when it signed",
        ),
        "key_expired" => ("签名时密钥已过期", "The key had expired when it signed"),
        "key_revoked" => (
            "签名时密钥已被撤销",
            "The key had been revoked when it signed",
        ),
        "key_compromised" => (
            "密钥已泄露，该时间之后的签名一律无效",
            "The key is compromised: signatures made since then are void",
        ),
        "authorised" => (
            "签发机构在签发时获授权签发此类证照",
            "The issuer was authorised for this licence type and jurisdiction when it signed",
        ),
        "not_authorised" => (
            "签发机构在签发时未获授权签发此类证照",
            "No authorisation covered this issuer, type and jurisdiction when it signed",
        ),
        "authorisation_withdrawn" => (
            "授权在证照签发前已被撤回",
            "The authorisation was withdrawn before the licence was signed",
        ),
        "schema_valid" => (
            "证照内容符合证照类型的数据规范",
            "The licence matches its type's schema",
        ),
        "schema_invalid" => (
            "证照内容不符合证照类型的数据规范",
            "The credential subject does not match the type's schema",
        ),
        "type_unknown" => ("未知的证照类型", "Unknown licence type"),
        "schema_unknown" => (
            "证照类型没有此数据规范版本",
            "The licence type has no such schema version",
        ),
        "schema_unavailable" => (
            "无法取得该数据规范版本",
            "The schema version is not available to this verifier",
        ),
        "holder_category_mismatch" => (
            "持证主体类别与证照类型不符",
            "The holder is not of the type's holder category",
        ),
        "validity_out_of_range" => (
            "有效期长度超出证照类型允许范围",
            "The validity period is outside the type's range",
        ),
        "within_validity" => ("在有效期内", "Within the validity period"),
        "not_yet_valid" => ("证照尚未生效", "The licence is not yet valid"),
        "expired" => ("证照已过期", "The licence has expired"),
        "active" => ("证照状态正常", "The licence is active"),
        "suspended" => ("证照已被暂停使用", "The licence is suspended"),
        "revoked" => ("证照已被撤销", "The licence is revoked"),
        "superseded" => (
            "证照已有更新版本",
            "A newer version of this licence supersedes it",
        ),
        "registered" => (
            "证照已登记于透明日志",
            "The licence is recorded in the transparency log",
        ),
        "not_registered" => ("本平台未登记此证照", "The registry holds no such licence"),
        "digest_mismatch" => (
            "登记的证照与所出示的内容不同",
            "The registered licence with this identifier differs from the one presented",
        ),
        "head" => (
            "这是证照的最新版本",
            "This is the licence's current version",
        ),
        "receipt_invalid" => (
            "登记回执无效：不是登记处为此证照签发的回执",
            "The registration receipt is not the registry's receipt for this licence",
        ),
        "status_unknown" => (
            "离线无法确认证照状态：证照未指向已持有的状态列表",
            "The status cannot be known offline: no status list held covers this licence",
        ),
        "bundle_stale" => (
            "信任包已过期，撤销与状态信息可能已过时",
            "The trust bundle is past its nextUpdate: revocations and status may be out of date",
        ),
        "status_list_refused" => (
            "状态列表未被采用（签名、引用或时间不符）",
            "A status list was refused (signature, reference or age)",
        ),
        "unknown_as_of_bundle" => (
            "离线信任包不含此项信息，以信任包时间为准",
            "Not known from the offline trust bundle; as of the bundle's time",
        ),
        "not_checked" => (
            "因前置检查未通过而无法检查",
            "Could not be checked because an earlier check failed",
        ),
        _ => (
            "证照格式不符合要求",
            "The credential is not a well-formed licence",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_both_languages() {
        for code in [
            "signature_valid",
            "key_compromised",
            "superseded",
            "whatever",
        ] {
            let m = message(code);
            assert!(!m.zh.is_empty() && !m.en.is_empty(), "{code}");
        }
        assert_ne!(message("active").en, message("revoked").en);
    }
}
