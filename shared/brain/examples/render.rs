//! Drafts an app from one request with the offline brain (consultant, then architect) and writes
//! its files into a directory, so a template can be built and tested by hand with the real
//! toolchain:
//!
//! ```sh
//! cargo run -p gantry-brain --example render -- "Build me a React app to track my reading list" /tmp/app
//! ```

use std::path::Path;
use std::process::ExitCode;

use gantry_brain::{architect, consultant};
use gantry_domain::{manifest, Role, Turn};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [request, dir] = args.as_slice() else {
        eprintln!("usage: render <request> <empty or new directory>");
        return ExitCode::from(2);
    };
    let turn = Turn { role: Role::User, content: request.clone(), at: chrono::Utc::now() };
    let consultation = consultant::consult(None, &[turn], false).consultation;
    let drafted = architect::draft(&consultation.brief);
    if let Err(problems) = manifest::validate(&drafted) {
        for problem in problems {
            eprintln!("the draft is not a valid manifest: {problem}");
        }
        return ExitCode::FAILURE;
    }
    let root = Path::new(dir);
    for file in &drafted.files {
        let path = root.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, &file.content));
        if let Err(e) = written {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!(
        "{} files of {} ({} stack) in {}; audit: {}; output: {}",
        drafted.files.len(),
        drafted.project_name,
        drafted.stack,
        root.display(),
        drafted.audit_command,
        drafted.output_dir()
    );
    ExitCode::SUCCESS
}
