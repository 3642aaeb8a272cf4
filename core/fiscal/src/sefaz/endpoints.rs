//! SEFAZ web service addresses per state and environment (NFC-e, model 65).
//!
//! The table is the public `wsnfe_4.00_mod65.xml`, compiled into the crate so an installed app
//! needs no data files. States without their own NFC-e services use SVRS (the virtual authorizer).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::xml;

const BUILTIN_TABLE: &str = include_str!("../../data/wsnfe_4.00_mod65.xml");

pub use crate::nfce::{Environment, Uf};

/// `tpAmb` text to environment.
pub fn environment_from_code(code: &str) -> Option<Environment> {
    match code {
        "1" => Some(Environment::Production),
        "2" => Some(Environment::Homologation),
        _ => None,
    }
}

/// The web services a POS calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Authorization,
    AuthorizationResult,
    ProtocolQuery,
    ServiceStatus,
    EventReception,
    Inutilization,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Authorization,
        Service::AuthorizationResult,
        Service::ProtocolQuery,
        Service::ServiceStatus,
        Service::EventReception,
        Service::Inutilization,
    ];

    fn table_tag(self) -> &'static str {
        match self {
            Self::Authorization => "NfeAutorizacao",
            Self::AuthorizationResult => "NfeRetAutorizacao",
            Self::ProtocolQuery => "NfeConsultaProtocolo",
            Self::ServiceStatus => "NfeStatusServico",
            Self::EventReception => "RecepcaoEvento",
            Self::Inutilization => "NfeInutilizacao",
        }
    }

    /// Standard WSDL operation and method, used where an address is configured by hand.
    fn standard_operation(self) -> (&'static str, &'static str) {
        match self {
            Self::Authorization => ("NFeAutorizacao4", "nfeAutorizacaoLote"),
            Self::AuthorizationResult => ("NFeRetAutorizacao4", "nfeRetAutorizacaoLote"),
            Self::ProtocolQuery => ("NFeConsultaProtocolo4", "nfeConsultaNF"),
            Self::ServiceStatus => ("NFeStatusServico4", "nfeStatusServicoNF"),
            Self::EventReception => ("NFeRecepcaoEvento4", "nfeRecepcaoEvento"),
            Self::Inutilization => ("NFeInutilizacao4", "nfeInutilizacaoNF"),
        }
    }
}

/// Where and how to call one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    /// WSDL operation, e.g. `NFeAutorizacao4`; names the message namespace.
    pub operation: String,
    /// WSDL method, e.g. `nfeAutorizacaoLote`; names the SOAP action.
    pub method: String,
}

impl Endpoint {
    /// Namespace of `nfeDadosMsg`/`nfeResultMsg`.
    pub fn message_namespace(&self) -> String {
        format!("http://www.portalfiscal.inf.br/nfe/wsdl/{}", self.operation)
    }

    /// SOAP 1.2 action (sent in the Content-Type).
    pub fn action(&self) -> String {
        format!("{}/{}", self.message_namespace(), self.method)
    }
}

/// Why an endpoint could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    #[error("no {service:?} web service for {uf:?} in {environment:?}")]
    Missing {
        uf: Uf,
        environment: Environment,
        service: Service,
    },
}

type Key = (String, Environment, Service);

/// Addresses of every service, per authorizer and environment.
#[derive(Debug, Clone)]
pub struct Endpoints {
    table: HashMap<Key, Endpoint>,
    /// When set, every state and environment uses these (a simulator or a proxy).
    fixed: Option<HashMap<Service, Endpoint>>,
}

impl Endpoints {
    /// The official table compiled into the crate.
    pub fn official() -> &'static Endpoints {
        static TABLE: OnceLock<Endpoints> = OnceLock::new();
        TABLE.get_or_init(|| {
            Endpoints::from_table_xml(BUILTIN_TABLE).expect("the compiled-in endpoint table parses")
        })
    }

    /// Every service under one base URL: `{base}/ws/{Operation}.asmx`. For the simulator,
    /// a local proxy or a state that moved its services before the table was updated.
    pub fn at_base_url(base_url: &str) -> Endpoints {
        let base = base_url.trim_end_matches('/');
        let fixed = Service::ALL
            .iter()
            .map(|&service| {
                let (operation, method) = service.standard_operation();
                (
                    service,
                    Endpoint {
                        url: format!("{base}/ws/{operation}.asmx"),
                        operation: operation.into(),
                        method: method.into(),
                    },
                )
            })
            .collect();
        Endpoints {
            table: HashMap::new(),
            fixed: Some(fixed),
        }
    }

    /// Parses a table in the `wsnfe_4.00_mod65.xml` format.
    pub fn from_table_xml(text: &str) -> Result<Endpoints, xml::XmlError> {
        let root = xml::parse(text)?;
        let mut table = HashMap::new();
        for uf in root.children_named("UF") {
            let Some(authorizer) = uf.child_text("sigla") else {
                continue;
            };
            for (tag, environment) in [
                ("homologacao", Environment::Homologation),
                ("producao", Environment::Production),
            ] {
                let Some(services) = uf.child(tag) else {
                    continue;
                };
                for service in Service::ALL {
                    if let Some(entry) = services.child(service.table_tag()) {
                        let (operation, method) = service.standard_operation();
                        table.insert(
                            (authorizer.to_string(), environment, service),
                            Endpoint {
                                url: entry.text.trim().to_string(),
                                operation: entry.attribute("operation").unwrap_or(operation).into(),
                                method: entry.attribute("method").unwrap_or(method).into(),
                            },
                        );
                    }
                }
            }
        }
        Ok(Endpoints { table, fixed: None })
    }

    /// The endpoint for a state's service; states without their own use SVRS.
    pub fn endpoint(
        &self,
        uf: Uf,
        environment: Environment,
        service: Service,
    ) -> Result<&Endpoint, EndpointError> {
        if let Some(fixed) = &self.fixed {
            return fixed.get(&service).ok_or(EndpointError::Missing {
                uf,
                environment,
                service,
            });
        }
        let own = (uf.as_str().to_string(), environment, service);
        let svrs = ("SVRS".to_string(), environment, service);
        let has_own_authorizer = self.table.contains_key(&(
            uf.as_str().to_string(),
            environment,
            Service::Authorization,
        ));
        let key = if has_own_authorizer { own } else { svrs };
        self.table.get(&key).ok_or(EndpointError::Missing {
            uf,
            environment,
            service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_with_own_services_and_svrs_fallback() {
        let table = Endpoints::official();
        let sp = table
            .endpoint(Uf::SP, Environment::Production, Service::Authorization)
            .expect("SP has its own authorizer");
        assert_eq!(
            sp.url,
            "https://nfce.fazenda.sp.gov.br/ws/NFeAutorizacao4.asmx"
        );
        assert_eq!(
            sp.action(),
            "http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4/nfeAutorizacaoLote"
        );
        // Bahia has no NFC-e services of its own in the table: SVRS authorizes for it.
        let ba = table
            .endpoint(Uf::BA, Environment::Homologation, Service::ProtocolQuery)
            .expect("SVRS serves BA");
        assert_eq!(
            ba.url,
            "https://nfce-homologacao.svrs.rs.gov.br/ws/NfeConsulta/NfeConsulta4.asmx"
        );
        assert_eq!(ba.operation, "NFeConsultaProtocolo4");
        // Every state reaches every service in both environments.
        for &uf in Uf::ALL {
            for env in [Environment::Production, Environment::Homologation] {
                for service in Service::ALL {
                    table
                        .endpoint(uf, env, service)
                        .expect("every state is served");
                }
            }
        }
    }

    #[test]
    fn environment_codes() {
        assert_eq!(environment_from_code("1"), Some(Environment::Production));
        assert_eq!(environment_from_code("2"), Some(Environment::Homologation));
        assert_eq!(environment_from_code("3"), None);
    }
}
