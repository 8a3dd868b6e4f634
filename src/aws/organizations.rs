//! [`AccountDirectory`] on AWS Organizations: every ACTIVE account of the organization
//! (ListAccounts, which answers only in the management account or a delegated
//! administrator's).

use async_trait::async_trait;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use aws_sdk_organizations::Client;

use crate::aws::call_failed;
use crate::organization::AccountDirectory;

pub struct OrganizationAccounts {
    client: Client,
}

impl OrganizationAccounts {
    pub fn new(client: Client) -> OrganizationAccounts {
        OrganizationAccounts { client }
    }
}

#[async_trait]
impl AccountDirectory for OrganizationAccounts {
    async fn accounts(&self) -> Result<Vec<String>, String> {
        let mut pages = self.client.list_accounts().into_paginator().send();
        let mut accounts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| call_failed("ListAccounts", &error))?;
            for account in page.accounts() {
                // `State` replaces `Status` (retired on 9 September 2026); either says ACTIVE.
                let active = match (account.state(), account.status()) {
                    (Some(state), _) => *state == AccountState::Active,
                    (None, Some(status)) => *status == AccountStatus::Active,
                    (None, None) => true,
                };
                if let (true, Some(id)) = (active, account.id()) {
                    if !accounts.iter().any(|known| known == id) {
                        accounts.push(id.to_string());
                    }
                }
            }
        }
        Ok(accounts)
    }
}
