//! Any bytes as an invocation payload: the pure pipeline (clean, parse, classify, render) must
//! not panic, and any alert it renders must keep SNS's and the mail clients' rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailwatch::preview::render_offline;
use trailwatch::render::SNS_MAX_PAYLOAD_BYTES;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(alert)) = render_offline(data) {
        let subject = &alert.subject;
        assert!((1..=99).contains(&subject.len()), "{subject:?}");
        assert!(subject.bytes().all(|b| (0x20..0x7f).contains(&b)), "{subject:?}");
        assert!(!subject.contains("=?"), "{subject:?}");
        assert!(alert.message.len() <= SNS_MAX_PAYLOAD_BYTES);
        let message: serde_json::Value =
            serde_json::from_str(&alert.message).expect("the message is JSON");
        assert!(message["default"].is_string());
        for (name, value) in &alert.attributes {
            assert!(
                !value.is_empty() && value.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "{name}: {value:?}"
            );
        }
    }
});
