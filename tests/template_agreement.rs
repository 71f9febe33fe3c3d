//! The SAM template and the code agree: every variable a function's typed config requires is set
//! on that function, every `${…}` the state machine uses is substituted (and by the function
//! that runs that step), and the table's keys and indexes are the ones the DynamoDB store uses.
//! Reads `infra/template.yaml` as data; deploys nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use gantry_aws::dynamodb::keys;
use gantry_aws_shape::{ApiLambdaConfig, BuilderTaskConfig, CleanupLambdaConfig, StepsLambdaConfig};
use gantry_pipeline::local::{local_substitutions, MISSION_ASL};
use gantry_pipeline::Step;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Template {
    doc: Value,
}

impl Template {
    fn load() -> Self {
        let path = repo().join("infra/template.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { doc }
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.doc["Resources"]
            .as_mapping()
            .expect("Resources is a mapping")
            .iter()
            .map(|(name, resource)| (name.as_str().expect("resource names are strings"), resource))
    }

    fn resource(&self, name: &str) -> &Value {
        let resource = &self.doc["Resources"][name];
        assert!(!resource.is_null(), "the template has no resource {name}");
        resource
    }

    fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.resources().filter(move |(_, r)| r["Type"].as_str() == Some(kind))
    }

    /// The functions built from cargo binary `bin` (Metadata.BuildProperties.Binary).
    fn functions(&self, bin: &str) -> Vec<(&str, &Value)> {
        let found: Vec<_> = self
            .of_type("AWS::Serverless::Function")
            .filter(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(bin))
            .collect();
        assert!(!found.is_empty(), "no function builds the `{bin}` binary");
        found
    }

    /// A function's environment: Globals.Function's variables overlaid by its own, as SAM merges them.
    fn environment(&self, function: &Value) -> BTreeMap<String, Value> {
        let mut env = BTreeMap::new();
        for vars in [
            &self.doc["Globals"]["Function"]["Environment"]["Variables"],
            &function["Properties"]["Environment"]["Variables"],
        ] {
            for (name, value) in vars.as_mapping().into_iter().flatten() {
                env.insert(name.as_str().expect("variable names are strings").to_owned(), value.clone());
            }
        }
        env
    }

    fn state_machine(&self) -> &Value {
        let machines: Vec<_> = self.of_type("AWS::Serverless::StateMachine").collect();
        assert_eq!(machines.len(), 1, "one state machine");
        machines[0].1
    }
}

/// The logical id an intrinsic names: `!Ref X`, `!GetAtt X.Arn` or `{"Fn::GetAtt": [X, Arn]}`.
fn target_of(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str().map(str::to_owned),
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => match &tagged.value {
            Value::String(path) => path.split('.').next().map(str::to_owned),
            Value::Sequence(parts) => parts.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

fn is_get_att_arn(value: &Value, logical_id: &str) -> bool {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => match &tagged.value {
            Value::String(path) => path == &format!("{logical_id}.Arn"),
            Value::Sequence(parts) => {
                parts.iter().map(Value::as_str).collect::<Vec<_>>() == [Some(logical_id), Some("Arn")]
            }
            _ => false,
        },
        _ => false,
    }
}

/// Every `${Name}` in the ASL text (its only placeholders; JSONPath never uses `${`).
fn asl_placeholders() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = MISSION_ASL;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').expect("every ${ is closed");
        names.insert(after[..end].to_owned());
        rest = &after[end..];
    }
    names
}

fn substitutions(template: &Template) -> BTreeMap<String, Value> {
    template.state_machine()["Properties"]["DefinitionSubstitutions"]
        .as_mapping()
        .expect("DefinitionSubstitutions is a mapping")
        .iter()
        .map(|(k, v)| (k.as_str().expect("substitution names are strings").to_owned(), v.clone()))
        .collect()
}

fn assert_required_set(template: &Template, bin: &str, required: &[&str]) {
    for (name, function) in template.functions(bin) {
        let env = template.environment(function);
        let missing: Vec<_> = required.iter().filter(|var| !env.contains_key(**var)).collect();
        assert!(missing.is_empty(), "{name} (`{bin}`) does not set {missing:?}, which its config requires");
        for var in required {
            assert!(
                !matches!(&env[*var], Value::String(s) if s.is_empty()) && !env[*var].is_null(),
                "{name} sets {var} to nothing"
            );
        }
    }
}

#[test]
fn every_function_gets_every_variable_its_config_requires() {
    let template = Template::load();
    assert_required_set(&template, "api", ApiLambdaConfig::REQUIRED);
    assert_required_set(&template, "steps", StepsLambdaConfig::REQUIRED);
    assert_required_set(&template, "cleanup", CleanupLambdaConfig::REQUIRED);
}

#[test]
fn each_function_builds_its_own_binary_for_arm64() {
    let template = Template::load();
    let globals = &template.doc["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Architectures"], Value::Sequence(vec![Value::from("arm64")]));
    let crates = [
        ("api", "gantry-api-lambda", "api"),
        ("steps", "gantry-steps-lambda", "steps"),
        ("cleanup", "gantry-cleanup-lambda", "cleanup"),
    ];
    for (bin, package, dir) in crates {
        let manifest = repo().join("functions").join(dir).join("Cargo.toml");
        let text =
            std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let cargo = toml_like::parse(&text);
        assert_eq!(cargo.package_name.as_deref(), Some(package), "{}", manifest.display());
        assert!(cargo.bins.iter().any(|b| b == bin), "{} has no [[bin]] {bin}", manifest.display());
        for (name, function) in template.functions(bin) {
            assert_eq!(function["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name}");
            // SAM takes target/lambda/<bin>/bootstrap from CodeUri, so CodeUri is the workspace root.
            let code_uri = function["Properties"]["CodeUri"].as_str().expect("a local CodeUri");
            let root = repo().join("infra").join(code_uri).join("Cargo.toml");
            let text = std::fs::read_to_string(&root).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(text.contains("[workspace]"), "{name}: CodeUri {code_uri} is not the workspace root");
        }
    }
}

#[test]
fn one_step_function_per_step_each_substituted_for_its_own_step() {
    let template = Template::load();
    let subs = substitutions(&template);
    let mut by_step = BTreeMap::new();
    for (name, function) in template.functions("steps") {
        let step = template.environment(function)["GANTRY_STEP"].as_str().map(str::to_owned);
        let step = step.unwrap_or_else(|| panic!("{name}: GANTRY_STEP is not a plain string"));
        assert!(Step::from_name(&step).is_some(), "{name}: GANTRY_STEP={step} is not a step name");
        assert!(by_step.insert(step.clone(), name).is_none(), "two functions run step {step}");
    }
    for step in Step::ALL {
        let function = by_step.get(step.name()).unwrap_or_else(|| panic!("no function runs {}", step.name()));
        let sub = subs
            .get(step.substitution())
            .unwrap_or_else(|| panic!("{} is not substituted", step.substitution()));
        assert!(
            is_get_att_arn(sub, function),
            "{} should be !GetAtt {function}.Arn (the function with GANTRY_STEP={}), not {sub:?}",
            step.substitution(),
            step.name()
        );
    }
    assert_eq!(by_step.len(), Step::ALL.len());
}

#[test]
fn every_asl_substitution_is_defined_and_none_is_stale() {
    let template = Template::load();
    let used = asl_placeholders();
    let defined: BTreeSet<String> = substitutions(&template).into_keys().collect();
    let local: BTreeSet<String> = local_substitutions().into_keys().collect();
    assert_eq!(used, defined, "the ASL's ${{…}} (left) and the template's DefinitionSubstitutions (right)");
    assert_eq!(used, local, "the ASL's ${{…}} (left) and local_substitutions() (right)");
}

#[test]
fn the_state_machine_may_invoke_exactly_the_step_functions() {
    let template = Template::load();
    let steps: BTreeSet<String> =
        template.functions("steps").into_iter().map(|(n, _)| n.to_owned()).collect();
    let mut invokable = BTreeSet::new();
    for policy in template.state_machine()["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            if statement["Action"].as_str() == Some("lambda:InvokeFunction") {
                for resource in statement["Resource"].as_sequence().expect("a list of function ARNs") {
                    invokable.insert(target_of(resource).expect("each an !GetAtt of a function"));
                }
            }
        }
    }
    assert_eq!(invokable, steps);
}

#[test]
fn the_builder_task_gets_what_its_config_requires_from_the_asl() {
    let template = Template::load();
    let tasks: Vec<_> = template.of_type("AWS::ECS::TaskDefinition").collect();
    assert_eq!(tasks.len(), 1);
    let containers = tasks[0].1["Properties"]["ContainerDefinitions"].as_sequence().expect("containers");
    let names: Vec<_> = containers.iter().filter_map(|c| c["Name"].as_str()).collect();

    let asl: serde_json::Value = serde_json::from_str(MISSION_ASL).expect("the ASL is JSON");
    let overrides = &asl["States"]["Build"]["Parameters"]["Overrides"]["ContainerOverrides"][0];
    let container = overrides["Name"].as_str().expect("the Build state names its container");
    assert_eq!(names, [container], "the task definition's containers");
    let passed: BTreeSet<&str> = overrides["Environment"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["Name"].as_str())
        .collect();
    for var in BuilderTaskConfig::REQUIRED {
        assert!(passed.contains(var), "the Build state does not pass {var} to the builder");
    }
}

#[test]
fn the_table_has_the_store_keys_indexes_and_ttl() {
    let template = Template::load();
    let table = &template.resource("MissionTable")["Properties"];
    let key_schema = |schema: &Value| -> Vec<(String, String)> {
        schema
            .as_sequence()
            .expect("a KeySchema")
            .iter()
            .map(|k| {
                (k["AttributeName"].as_str().unwrap().to_owned(), k["KeyType"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let pair = |hash: &str, range: &str| {
        vec![(hash.to_owned(), "HASH".to_owned()), (range.to_owned(), "RANGE".to_owned())]
    };

    assert_eq!(key_schema(&table["KeySchema"]), pair(keys::PK, keys::SK));
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"].as_str(), Some(keys::TTL_ATTRIBUTE));
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"].as_bool(), Some(true));

    let indexes: BTreeMap<String, Vec<(String, String)>> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("GlobalSecondaryIndexes")
        .iter()
        .map(|gsi| (gsi["IndexName"].as_str().unwrap().to_owned(), key_schema(&gsi["KeySchema"])))
        .collect();
    let expected: BTreeMap<String, Vec<(String, String)>> =
        keys::INDEXES.iter().map(|(name, hash, range)| ((*name).to_owned(), pair(hash, range))).collect();
    assert_eq!(indexes, expected);

    let defined: BTreeMap<&str, &str> = table["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| (a["AttributeName"].as_str().unwrap(), a["AttributeType"].as_str().unwrap()))
        .collect();
    let mut key_attributes = vec![keys::PK, keys::SK];
    key_attributes.extend(keys::INDEXES.iter().flat_map(|(_, hash, range)| [*hash, *range]));
    let expected: BTreeMap<&str, &str> = key_attributes.into_iter().map(|a| (a, "S")).collect();
    assert_eq!(defined, expected, "AttributeDefinitions must be exactly the key attributes, all strings");
}

/// Just enough of a Cargo.toml to find `[package] name` and each `[[bin]] name`.
mod toml_like {
    pub struct Manifest {
        pub package_name: Option<String>,
        pub bins: Vec<String>,
    }

    pub fn parse(text: &str) -> Manifest {
        let mut manifest = Manifest { package_name: None, bins: Vec::new() };
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_owned();
            } else if let Some(value) = line.strip_prefix("name").map(str::trim_start) {
                let Some(value) = value.strip_prefix('=') else { continue };
                let value = value.trim().trim_matches('"').to_owned();
                match section.as_str() {
                    "[package]" => manifest.package_name = Some(value),
                    "[[bin]]" => manifest.bins.push(value),
                    _ => {}
                }
            }
        }
        manifest
    }
}

/// The text of a `!Sub "…"` (or a plain string).
fn sub_text(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str(),
        other => other.as_str(),
    }
}

#[test]
fn the_brain_comes_from_the_parameters_and_only_its_callers_may_invoke_that_one_model() {
    use gantry_brain::model::config::{BrainConfig, BEDROCK_MODEL_ID, BRAIN};

    let template = Template::load();
    let params = &template.doc["Parameters"];
    let offered: Vec<&str> =
        params["Brain"]["AllowedValues"].as_sequence().unwrap().iter().filter_map(Value::as_str).collect();
    for brain in &offered {
        let model = params["BedrockModelId"]["Default"].as_str().unwrap().to_owned();
        let config = BrainConfig::from_lookup(&|name| match name {
            BRAIN => Some(brain.to_string()),
            BEDROCK_MODEL_ID => Some(model.clone()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("the Brain parameter value {brain} does not configure: {e}"));
        assert_eq!(config.name(), *brain);
    }

    // The API (consultations) and the draft and heal steps build the brain from these two.
    let callers = ["ApiFunction", "DraftFunction", "HealFunction"];
    for name in callers {
        let env = template.environment(template.resource(name));
        assert_eq!(target_of(&env[BRAIN]).as_deref(), Some("Brain"), "{name}");
        assert_eq!(target_of(&env[BEDROCK_MODEL_ID]).as_deref(), Some("BedrockModelId"), "{name}");
    }

    // Exactly those functions hold the Bedrock policy.
    let holders: BTreeSet<&str> = template
        .of_type("AWS::Serverless::Function")
        .filter(|(_, f)| {
            f["Properties"]["Policies"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|p| target_of(p).as_deref() == Some("BedrockInvokePolicy"))
        })
        .map(|(n, _)| n)
        .collect();
    assert_eq!(holders, callers.into_iter().collect());

    // And the policy allows bedrock:InvokeModel on the configured model only.
    let statements = template.resource("BedrockInvokePolicy")["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements");
    for statement in statements {
        assert_eq!(statement["Action"].as_str(), Some("bedrock:InvokeModel"));
        let resources: Vec<&Value> = match &statement["Resource"] {
            Value::Sequence(list) => list.iter().collect(),
            one => vec![one],
        };
        for resource in resources {
            let arn = sub_text(resource).expect("an ARN");
            let scoped = arn.ends_with("/${BedrockModelId}");
            let through_profile =
                statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"].clone();
            let via = sub_text(&through_profile)
                .is_some_and(|p| p.ends_with("inference-profile/${BedrockModelId}"));
            assert!(scoped || via, "{arn} is not limited to the configured model");
        }
    }
}

/// The delivery tokens: only the deploy and publish steps are told where they are and may read
/// them, and the wait for a Vercel deployment fits in the deploy function's time.
#[test]
fn only_the_deploy_and_publish_steps_can_read_the_delivery_secret() {
    let template = Template::load();
    let secret = template.resource("DeliverySecret");
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    let keys: serde_json::Value =
        serde_json::from_str(secret["Properties"]["SecretString"].as_str().expect("a JSON SecretString"))
            .expect("the secret's template is JSON");
    for key in ["vercel_token", "github_token"] {
        assert!(keys.get(key).is_some(), "DeliverySecret has no {key} key");
    }
    // The policies that name the delivery secret.
    let readers: Vec<&str> = template
        .of_type("AWS::IAM::ManagedPolicy")
        .filter(|(_, p)| {
            p["Properties"]["PolicyDocument"]["Statement"].as_sequence().into_iter().flatten().any(|s| {
                let resources = match &s["Resource"] {
                    Value::Sequence(list) => list.clone(),
                    other => vec![other.clone()],
                };
                resources.iter().any(|r| target_of(r).as_deref() == Some("DeliverySecret"))
            })
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(readers, ["DeliverySecretReadPolicy"]);
    for (name, function) in template.of_type("AWS::Serverless::Function") {
        let env = template.environment(function);
        let step = env.get("GANTRY_STEP").and_then(Value::as_str).unwrap_or_default();
        let delivers = step == "deploy" || step == "publish";
        let policies: Vec<String> = function["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(target_of)
            .collect();
        let reads = policies.iter().any(|p| p == "DeliverySecretReadPolicy");
        let named = env
            .get(gantry_aws_shape::config::DELIVERY_SECRET_ARN)
            .and_then(target_of)
            .is_some_and(|t| t == "DeliverySecret");
        assert_eq!(reads, delivers, "{name}: only deploy and publish may read the delivery secret");
        assert_eq!(named, delivers, "{name}: only deploy and publish are told where it is");
        assert!(
            !env.values().any(|v| target_of(v).as_deref() == Some("DeliverySecret")) || delivers,
            "{name} names the delivery secret"
        );
        if step == "deploy" {
            let wait = env["GANTRY_VERCEL_WAIT_SECS"].as_u64().expect("a number of seconds");
            let timeout = function["Properties"]["Timeout"].as_u64().expect("a timeout");
            assert!(
                wait + 10 < timeout,
                "the Vercel wait ({wait} s) must end well before the function ({timeout} s)"
            );
        }
    }
}
