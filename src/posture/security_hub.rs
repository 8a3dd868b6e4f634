//! A posture run's findings kept current in Security Hub, when findings are on: each open
//! finding imported again every run it lasts, with the step that fixes it, and those fixed
//! since archived ([`import::posture`]). One account's run does this for the account and for
//! trailwatch itself; an organization's run does it for each account where that account is
//! checked (through its read role), and for trailwatch itself where the run starts.

use crate::alert::asff::RecordState;
use crate::alert::posture::Finding;
use crate::asff::{self, Hub};
use crate::import::{self, PostureScope};
use crate::invocation::Dependencies;
use crate::lookup::Deadline;
use crate::posture::judge;
use crate::resource::TrailSnapshot;

/// Imports `findings` about `account` (trails as gathered, for their next steps) and archives
/// the open ones within `scope` that the run no longer finds.
pub async fn keep_current(
    account: &str,
    findings: &[Finding],
    trails: &[TrailSnapshot],
    scope: PostureScope,
    deadline: Deadline,
    deps: &Dependencies<'_>,
) {
    if !deps.hub.enabled() {
        return;
    }
    let Some(hub) = Hub::of(deps.config) else {
        return;
    };
    let config = deps.config;
    let home_region = config
        .posture
        .regions
        .first()
        .map_or(hub.region.as_str(), String::as_str);
    // The heartbeat parameter is the function's own: only its account's steps name it.
    let heartbeat_parameter = config
        .own
        .heartbeat_parameter
        .as_deref()
        .filter(|_| account == hub.account);
    let now = import::now();
    let prepared = findings
        .iter()
        .map(|finding| {
            let steps = judge::next_steps(
                std::slice::from_ref(finding),
                trails,
                home_region,
                heartbeat_parameter,
            );
            asff::posture_finding(finding, account, &steps, &hub, &now, RecordState::Active)
        })
        .collect();
    import::posture(account, prepared, scope, deps, deadline).await;
}
