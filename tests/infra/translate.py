"""Translate a SAM template to plain CloudFormation, offline, the way CloudFormation's
AWS::Serverless transform would, so cfn-lint can check what would really be deployed.

    python translate.py TEMPLATE OUT.json [--relative-to DIR]

Local paths are what `sam build`/`sam package` would upload. Nothing is uploaded here:
- a function's CodeUri must be a directory holding a Cargo.toml (cargo-lambda builds it) and
  becomes a placeholder S3 URI;
- a state machine's DefinitionUri is read and inlined as Definition, so the translated
  template carries the real ASL with its DefinitionSubstitutions.
Relative paths resolve against DIR (default: the template's own directory), which lets a
fixture copy of the template live elsewhere and still point at the real files.
"""

import argparse
import json
import os
import sys
from pathlib import Path

# Nothing here calls AWS; the translator only needs a region to build ARNs and partitions.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from cfnlint.decode import cfn_yaml  # noqa: E402  (reads !Ref/!GetAtt/!Sub tags)
from samtranslator.translator.transform import transform  # noqa: E402


class StaticManagedPolicyLoader:
    """Managed policy names the template may use by name, without asking IAM for the list."""

    POLICIES = {
        name: f"arn:aws:iam::aws:policy/{path}{name}"
        for name, path in [
            ("AWSLambdaBasicExecutionRole", "service-role/"),
            ("AWSXrayWriteOnlyAccess", ""),
            ("AWSXRayDaemonWriteAccess", ""),
        ]
    }

    def load(self):
        return dict(self.POLICIES)


class TranslateError(Exception):
    pass


def is_local(uri):
    return isinstance(uri, str) and not uri.startswith("s3://")


def localise(template, base):
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and is_local(props.get("CodeUri")):
            crate = (base / props["CodeUri"]).resolve()
            if not (crate / "Cargo.toml").is_file():
                raise TranslateError(f"{name}: CodeUri {props['CodeUri']} has no Cargo.toml ({crate})")
            props["CodeUri"] = f"s3://gantry-offline-placeholder/{name}.zip"
        if kind == "AWS::Serverless::StateMachine" and is_local(props.get("DefinitionUri")):
            asl = (base / props.pop("DefinitionUri")).resolve()
            if not asl.is_file():
                raise TranslateError(f"{name}: DefinitionUri {asl} does not exist")
            props["Definition"] = json.loads(asl.read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--relative-to", type=Path, default=None)
    args = parser.parse_args()

    base = args.relative_to or args.template.parent
    template = json.loads(json.dumps(cfn_yaml.load(str(args.template))))  # plain dicts
    try:
        localise(template, base)
        translated = transform(template, {}, StaticManagedPolicyLoader())
    except TranslateError as e:
        print(f"translate: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # the translator's InvalidDocumentException and friends
        causes = getattr(e, "causes", None) or [e]
        for cause in causes:
            print(f"translate: {getattr(cause, 'message', cause)}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(translated, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
