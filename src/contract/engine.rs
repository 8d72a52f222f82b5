//! The engines that run a plan's branches. One type for everyone who names one: the configuration
//! (`run.engine`), the command line (`tlc bridge --engine`), the `tlc.dev/engine` label on every
//! branch, the run model and the console's header. Written as `direct` and `argo` everywhere
//! (labels, TOML, flags, JSON).

use std::fmt;

/// Who runs a plan's fan-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// The console (or `tlc run`) itself launches and follows the branches.
    Direct,
    /// An Argo Workflow made from the tenant-lifecycle WorkflowTemplate runs them.
    Argo,
}

/// A name that is not an engine's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be \"direct\" or \"argo\", got \"{}\"", .0.escape_debug())]
pub struct UnknownEngine(pub String);

impl Engine {
    /// Every engine.
    pub const ALL: [Engine; 2] = [Engine::Direct, Engine::Argo];

    /// The name labels, configuration and JSON use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Engine::Direct => "direct",
            Engine::Argo => "argo",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Engine {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Engine::ALL.into_iter().find(|e| e.as_str() == s).ok_or_else(|| UnknownEngine(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_anything_else_is_refused_with_the_choices() {
        for engine in Engine::ALL {
            assert_eq!(engine.as_str().parse(), Ok(engine));
            assert_eq!(serde_json::to_value(engine).ok(), Some(serde_json::json!(engine.as_str())));
            assert_eq!(
                clap::ValueEnum::to_possible_value(&engine).map(|v| v.get_name().to_string()),
                Some(engine.to_string())
            );
        }
        assert_eq!("Direct".parse::<Engine>(), Err(UnknownEngine("Direct".into())));
        let e = "spark\u{1b}".parse::<Engine>().expect_err("not an engine").to_string();
        assert_eq!(e, "must be \"direct\" or \"argo\", got \"spark\\u{1b}\"");
    }
}
