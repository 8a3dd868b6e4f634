//! What a set of event selectors records of management events, whichever way it arrived: as a
//! PutEventSelectors / UpdateEventDataStore request recorded by CloudTrail (JSON), or as a
//! GetEventSelectors answer (converted by `aws::cloudtrail`). One reading, so the alert's
//! weakening check and the trail's live state always agree.

use serde_json::Value;

use crate::prose::code;
use crate::resource::SelectorSummary;

/// A basic event selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicSelector {
    /// `All`, `ReadOnly`, `WriteOnly`; absent means All.
    pub read_write_type: Option<String>,
    /// Absent means true.
    pub include_management_events: Option<bool>,
    pub exclude_management_event_sources: Vec<String>,
}

/// One field condition of an advanced event selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub field: String,
    pub equals: Vec<String>,
    pub not_equals: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvancedSelector {
    pub fields: Vec<FieldSelector>,
}

/// What management events the selectors record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagementRecording {
    pub reads: bool,
    pub writes: bool,
    /// Sources whose management events are left out.
    pub excluded_sources: Vec<String>,
    /// When set, management events are recorded only from these sources.
    pub only_sources: Vec<String>,
}

impl ManagementRecording {
    pub fn of_basic(selectors: &[BasicSelector]) -> ManagementRecording {
        let mut recording = ManagementRecording::default();
        for selector in selectors
            .iter()
            .filter(|s| s.include_management_events != Some(false))
        {
            match selector.read_write_type.as_deref() {
                Some("ReadOnly") => recording.reads = true,
                Some("WriteOnly") => recording.writes = true,
                _ => (recording.reads, recording.writes) = (true, true),
            }
            for source in &selector.exclude_management_event_sources {
                if !recording.excluded_sources.contains(source) {
                    recording.excluded_sources.push(source.clone());
                }
            }
        }
        recording
    }

    /// Management selectors are those whose `eventCategory` equals `Management`; `readOnly`
    /// narrows them to reads or writes, `eventSource` to some sources.
    pub fn of_advanced(selectors: &[AdvancedSelector]) -> ManagementRecording {
        let mut recording = ManagementRecording::default();
        for selector in selectors {
            let field = |name: &str| selector.fields.iter().find(|f| f.field == name);
            let management =
                field("eventCategory").is_some_and(|f| f.equals.iter().any(|v| v == "Management"));
            if !management {
                continue;
            }
            match field("readOnly").map(|f| f.equals.as_slice()) {
                Some([only]) if only == "true" => recording.reads = true,
                Some([only]) if only == "false" => recording.writes = true,
                _ => (recording.reads, recording.writes) = (true, true),
            }
            if let Some(source) = field("eventSource") {
                let excluded = source
                    .not_equals
                    .iter()
                    .chain(&source.not_starts_with)
                    .chain(&source.not_ends_with);
                for name in excluded {
                    if !recording.excluded_sources.contains(name) {
                        recording.excluded_sources.push(name.clone());
                    }
                }
                recording.only_sources.extend(source.equals.iter().cloned());
            }
        }
        recording
    }

    pub fn label(&self) -> &'static str {
        match (self.reads, self.writes) {
            (true, true) => "All",
            (true, false) => "ReadOnly",
            (false, true) => "WriteOnly",
            (false, false) => "None",
        }
    }

    /// How these selectors record less than all management events; empty when they do not.
    pub fn reductions(&self) -> Vec<String> {
        let mut found = Vec::new();
        match (self.reads, self.writes) {
            (true, true) => {}
            (false, false) => found.push("management events are no longer recorded".to_string()),
            (true, false) => found.push(
                "only read-only management events are recorded: write calls, tampering included, are not".to_string(),
            ),
            (false, true) => found.push(
                "read-only management events are no longer recorded (reconnaissance goes unseen)"
                    .to_string(),
            ),
        }
        if !self.excluded_sources.is_empty() {
            found.push(format!(
                "management events from {} are excluded",
                sources(&self.excluded_sources)
            ));
        }
        if !self.only_sources.is_empty() {
            found.push(format!(
                "management events are recorded only from {}",
                sources(&self.only_sources)
            ));
        }
        found
    }

    pub fn summary(&self, style: &str, selector_count: usize) -> SelectorSummary {
        SelectorSummary {
            style: style.to_string(),
            management_events: Some(self.label().to_string()),
            selector_count,
        }
    }
}

/// Event sources from a request, each marked as the event's text.
fn sources(list: &[String]) -> String {
    list.iter()
        .map(|source| code(source))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Basic selectors as CloudTrail records them in a request; `None` when the key is absent.
pub fn basic_from_request(parameters: &Value) -> Option<Vec<BasicSelector>> {
    let list = parameters.get("eventSelectors")?.as_array()?;
    Some(
        list.iter()
            .map(|selector| BasicSelector {
                read_write_type: selector
                    .get("readWriteType")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                include_management_events: match selector.get("includeManagementEvents") {
                    Some(Value::Bool(flag)) => Some(*flag),
                    Some(Value::String(text)) => Some(!text.eq_ignore_ascii_case("false")),
                    _ => None,
                },
                exclude_management_event_sources: strings(
                    selector.get("excludeManagementEventSources"),
                ),
            })
            .collect(),
    )
}

/// Advanced selectors as CloudTrail records them in a request; `None` when the key is absent.
pub fn advanced_from_request(parameters: &Value) -> Option<Vec<AdvancedSelector>> {
    let list = parameters.get("advancedEventSelectors")?.as_array()?;
    Some(
        list.iter()
            .map(|selector| AdvancedSelector {
                fields: selector
                    .get("fieldSelectors")
                    .and_then(Value::as_array)
                    .map(|fields| {
                        fields
                            .iter()
                            .map(|f| FieldSelector {
                                field: f
                                    .get("field")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string(),
                                equals: strings(f.get("equals")),
                                not_equals: strings(f.get("notEquals")),
                                not_starts_with: strings(f.get("notStartsWith")),
                                not_ends_with: strings(f.get("notEndsWith")),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_data_selector_beside_a_management_one_reduces_nothing() {
        let request = json!({"eventSelectors": [
            {"readWriteType": "All", "includeManagementEvents": false, "dataResources": [{"type": "AWS::S3::Object"}]},
            {"readWriteType": "All", "includeManagementEvents": true}
        ]});
        let recording = ManagementRecording::of_basic(&basic_from_request(&request).unwrap());
        assert_eq!(recording.label(), "All");
        assert!(recording.reductions().is_empty());
    }

    #[test]
    fn basic_reductions() {
        for (selector, expected) in [
            (json!({"readWriteType": "ReadOnly"}), "only read-only"),
            (
                json!({"readWriteType": "WriteOnly"}),
                "read-only management events are no longer",
            ),
            (
                json!({"includeManagementEvents": false}),
                "no longer recorded",
            ),
            (
                json!({"readWriteType": "All", "excludeManagementEventSources": ["kms.amazonaws.com"]}),
                "`kms.amazonaws.com` are excluded",
            ),
        ] {
            let request = json!({ "eventSelectors": [selector] });
            let reductions =
                ManagementRecording::of_basic(&basic_from_request(&request).unwrap()).reductions();
            assert!(
                reductions.iter().any(|r| r.contains(expected)),
                "{reductions:?}"
            );
        }
    }

    #[test]
    fn advanced_reductions() {
        let no_management = json!({"advancedEventSelectors": [{"fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]}]}]});
        let reads_only = json!({"advancedEventSelectors": [{"fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]},
            {"field": "readOnly", "equals": ["true"]}]}]});
        let excluding = json!({"advancedEventSelectors": [{"fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]},
            {"field": "eventSource", "notEquals": ["cloudtrail.amazonaws.com"]}]}]});
        let all = json!({"advancedEventSelectors": [{"name": "m", "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Management"]}]}]});
        let of = |request: &Value| {
            ManagementRecording::of_advanced(&advanced_from_request(request).unwrap())
        };
        assert_eq!(of(&no_management).label(), "None");
        assert_eq!(of(&reads_only).label(), "ReadOnly");
        assert!(of(&excluding).reductions()[0].contains("cloudtrail.amazonaws.com"));
        assert!(of(&all).reductions().is_empty());
        assert_eq!(advanced_from_request(&json!({})), None);
    }
}
