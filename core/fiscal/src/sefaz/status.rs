//! NFeStatusServico4: is the authorizer operating?

use chrono::{DateTime, FixedOffset};

use super::endpoints::{Environment, Uf};
use super::error::ResponseError;
use super::soap::{Answer, fields};
use super::status_codes::Status;
use super::xml::NFE_NS;

/// Answer of the status service (`retConsStatServ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    /// 107 operating; 108 paused briefly; 109 paused without forecast.
    pub status: Status,
    pub environment: Environment,
    pub received_at: DateTime<FixedOffset>,
    /// Average processing time the authorizer reports (`tMed`, seconds).
    pub average_seconds: Option<u32>,
    /// When a paused service expects to return (`dhRetorno`).
    pub expected_return: Option<DateTime<FixedOffset>>,
    pub observation: Option<String>,
}

impl ServiceStatus {
    pub fn is_operating(&self) -> bool {
        self.status.code == 107
    }
}

pub(crate) fn request(environment: Environment, uf: Uf) -> String {
    format!(
        r#"<consStatServ xmlns="{NFE_NS}" versao="4.00"><tpAmb>{}</tpAmb><cUF>{}</cUF><xServ>STATUS</xServ></consStatServ>"#,
        environment.code(),
        uf.code()
    )
}

pub(crate) fn parse(answer: &Answer) -> Result<ServiceStatus, ResponseError> {
    let ret = answer.message("retConsStatServ")?;
    Ok(ServiceStatus {
        status: Status::from_element(ret)?,
        environment: fields::environment(ret)?,
        received_at: fields::date_time(ret, "dhRecbto")?,
        average_seconds: fields::optional_digits(ret, "tMed", 1..=4)?
            .map(|v| v.parse().expect("at most four digits fit u32")),
        expected_return: match fields::optional(ret, "dhRetorno") {
            Some(_) => Some(fields::date_time(ret, "dhRetorno")?),
            None => None,
        },
        observation: fields::optional(ret, "xObs"),
    })
}
