//! Ordinary app code and prose must pass the gate untouched: a policy that blocks a todo app is
//! worse than useless. Each corpus entry is run through the real policy.yaml on its own, so a
//! failure names the text and the rule that tripped on it.

use gantry_domain::policy::Policy;
use gantry_domain::{GantryManifest, ManifestFile, Stack};

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Todo</title>
  <link rel="stylesheet" href="css/style.css">
</head>
<body>
  <main class="app">
    <h1>Things to do</h1>
    <form id="new-todo" autocomplete="off">
      <label for="title">Task</label>
      <input id="title" name="title" required placeholder="What needs doing?">
      <select id="category"><option value="home">Home</option><option value="work">Work</option></select>
      <button type="submit">Add</button>
    </form>
    <form id="login" hidden>
      <input type="text" name="user" placeholder="user name">
      <input type="password" name="passwd" placeholder="password">
    </form>
    <ul id="todos" aria-live="polite"></ul>
    <p class="empty">Nothing left &mdash; enjoy your day &amp; relax.</p>
  </main>
  <script src="js/app.js" defer></script>
</body>
</html>
"#;

const STYLE_CSS: &str = r#":root { --accent: #0a66c2; --bg: #f3f2ef; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: var(--bg); }
.app > h1 { color: var(--accent); }
#todos li.done .title { text-decoration: line-through; opacity: .6; }
.task-list-item:hover::after { content: "→"; }
.sk-spinner { animation: spin 1s linear infinite; }
@media (max-width: 600px) { .app { padding: 0 1rem; } }
@keyframes spin { from { transform: rotate(0deg); } to { transform: rotate(360deg); } }
"#;

const APP_JS: &str = r#"'use strict';
const STORAGE_KEY = 'todo-app.items.v1';
const form = document.querySelector('#new-todo');
const list = document.getElementById('todos');

function load() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY)) || [];
  } catch (error) {
    console.warn('could not parse saved todos', error);
    return [];
  }
}

function save(items) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(items));
}

function formatDate(date) {
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' }).format(date);
}

function render(items) {
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement('li');
    li.classList.add('todo');
    if (item.done) li.classList.add('done');
    li.dataset.id = item.id;
    li.innerHTML = `<span class="title"></span><time>${formatDate(new Date(item.created))}</time>`;
    li.querySelector('.title').textContent = item.title;
    li.addEventListener('click', () => toggle(item.id));
    return li;
  }));
  document.querySelector('.empty').hidden = items.length > 0;
}

function toggle(id) {
  const items = load().map((item) => (item.id === id ? { ...item, done: !item.done } : item));
  save(items);
  render(items);
}

async function sync(items) {
  const response = await fetch('/api/todos', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(items),
  });
  if (!response.ok) throw new Error(`sync failed: ${response.status}`);
  return response.json();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const title = form.title.value.trim();
  if (!title) return;
  const items = [...load(), { id: crypto.randomUUID(), title, done: false, created: Date.now() }];
  save(items);
  render(items);
  sync(items).catch(() => {});
  form.reset();
});

const worker = setTimeout(() => render(load()), 0);
const evaluate = (expr) => expr.split('+').map(Number).reduce((a, b) => a + b, 0);
const total = evaluate('1+2') | 0;
const mask = total & 0xff;
render(load());
"#;

const SERVER_JS: &str = r#"const http = require('node:http');
const { execFile } = require('node:child_process');
const fs = require('node:fs/promises');
const path = require('node:path');

const port = Number(process.env.PORT || 3000);
const apiKey = process.env.API_KEY;

const server = http.createServer(async (req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ status: 'ok' }));
  }
  const file = path.join(__dirname, 'public', path.normalize(req.url).replace(/^(\.\.[/\\])+/, ''));
  try {
    res.end(await fs.readFile(file));
  } catch {
    res.writeHead(404).end('not found');
  }
});

execFile('node', ['--version'], (error, stdout) => console.log(stdout.trim()));
server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
"#;

const PACKAGE_JSON: &str = r#"{
  "name": "todo-app",
  "version": "1.0.0",
  "private": true,
  "scripts": { "start": "node server.js", "test": "node --test", "build": "node scripts/build.mjs" },
  "engines": { "node": ">=20" }
}
"#;

const NODE_TEST: &str = r#"const test = require('node:test');
const assert = require('node:assert/strict');

test('evaluates the expression', () => {
  assert.equal(eval('1 + 1'), 2);
  assert.deepEqual(JSON.parse('{"a":1}'), { a: 1 });
});
"#;

const APP_PY: &str = r#"#!/usr/bin/env python3
"""A tiny expense tracker: reads a CSV, formats a monthly report."""
import base64
import csv
import datetime as dt
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

DATE_FORMAT = "%Y-%m-%d"
AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


def parse_date(text):
    """The date format is ISO 8601."""
    return dt.datetime.strptime(text, DATE_FORMAT).date()


def load(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if AMOUNT.match(row["amount"])]


def report(rows):
    totals = {}
    for row in rows:
        month = parse_date(row["date"]).strftime("%Y-%m")
        totals[month] = totals.get(month, 0) + float(row["amount"])
    return {month: round(total, 2) for month, total in sorted(totals.items())}


def fingerprint(data):
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    return hashlib.sha256(encoded.encode()).hexdigest()


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def git_version():
    result = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip()


if __name__ == "__main__":
    rows = load(Path(sys.argv[1]) if len(sys.argv) > 1 else "expenses.csv")
    print(json.dumps(report(rows), indent=2))
    print(os.environ.get("HOME", "~"), fingerprint(rows))
"#;

const TEST_PY: &str = r#"import subprocess
import sys
import unittest

import app


class ReportTest(unittest.TestCase):
    def test_format_the_date(self):
        self.assertEqual(str(app.parse_date("2024-03-01")), "2024-03-01")

    def test_report_groups_by_month(self):
        rows = [{"date": "2024-03-01", "amount": "2.50"}, {"date": "2024-03-09", "amount": "1"}]
        self.assertEqual(app.report(rows), {"2024-03": 3.5})

    def test_script_runs(self):
        done = subprocess.run([sys.executable, "-m", "py_compile", "app.py"], check=False)
        self.assertEqual(done.returncode, 0)


if __name__ == "__main__":
    unittest.main()
"#;

const AUDIT_PY: &str = r#"#!/usr/bin/env python3
"""Audit: the files exist, the HTML is well formed, the script has no syntax errors."""
import html.parser
import pathlib
import sys

REQUIRED = ["index.html", "css/style.css", "js/app.js"]
missing = [name for name in REQUIRED if not pathlib.Path(name).is_file()]
if missing:
    print("missing:", ", ".join(missing))
    sys.exit(1)


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.titles = 0

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self.titles += 1


checker = Checker()
checker.feed(pathlib.Path("index.html").read_text(encoding="utf-8"))
assert checker.titles == 1, "index.html needs exactly one <title>"
print("audit passed")
"#;

const AUDIT_SH: &str = r#"#!/bin/sh
set -eu
test -f index.html
grep -q "<title>" index.html
rm -rf ./dist && mkdir -p dist
cp -r index.html css js dist/
chmod -R u+rwX dist
echo "audit passed" > /dev/null
"#;

const README_MD: &str = r#"# Todo

A small todo app. Add a task, tick it off, and it stays in your browser's local storage.

## Run

    npm ci
    npm start

Then open http://127.0.0.1:3000. Set `API_KEY` in the environment (see `.env.example`) to sync.

## Notes

- The date format is day, month, year; we format the date with `Intl.DateTimeFormat`.
- Clicking a task will add the class `done` and execute the plan for the day.
- The login form has a passwd field, which the browser masks.
- Remove build output with `rm -rf dist` before publishing.
"#;

const PROSE: &[&str] = &[
    "the date format is",
    "format the date",
    "evaluate the expression",
    "add the class",
    "execute the plan",
    "a passwd field in a login form",
    "JSON.parse(text)",
    "element.classList.add('active')",
    "We'll fork the repository and open a pull request.",
    "The shadow DOM keeps the widget's styles apart.",
    "Connect to the socket server on localhost.",
    "Mining insights from customer feedback.",
    "Use the terminal to run npm test, then deploy.",
    "Our token bucket limits each user to ten requests a minute.",
    "Store the API key in an environment variable, never in the code.",
    "The private key never leaves the signing service.",
    "Press Ctrl+C to stop the dev server.",
    "Formats: mp3, wav, flac.",
    "Delete the task with the trash icon; undo brings it back.",
    "Temperature: 21 °C / 70 °F",
];

fn manifest(stack: Stack, files: &[(&str, &str)], audit_command: &str) -> GantryManifest {
    GantryManifest {
        project_name: "todo-app".to_owned(),
        stack,
        files: files
            .iter()
            .map(|(p, c)| ManifestFile { path: (*p).to_owned(), content: (*c).to_owned() })
            .collect(),
        audit_command: audit_command.to_owned(),
        run_command: None,
        output_dir: None,
    }
}

fn assert_passes(policy: &Policy, manifest: &GantryManifest) {
    let verdict = policy.evaluate(manifest);
    assert!(verdict.allowed, "{:#?}", verdict.violations);
}

#[test]
fn a_static_todo_app_passes() {
    let policy = Policy::default_policy().expect("policy.yaml loads");
    let files = [
        ("index.html", INDEX_HTML),
        ("css/style.css", STYLE_CSS),
        ("js/app.js", APP_JS),
        ("audit.py", AUDIT_PY),
        ("README.md", README_MD),
        (".env.example", "API_KEY=\nPORT=3000\n"),
        (".gitignore", "node_modules/\ndist/\n"),
    ];
    assert_passes(&policy, &manifest(Stack::Static, &files, "python3 audit.py"));
    assert_passes(
        &policy,
        &manifest(Stack::Static, &[("index.html", INDEX_HTML), ("audit.sh", AUDIT_SH)], "sh audit.sh"),
    );
}

#[test]
fn a_node_app_passes() {
    let policy = Policy::default_policy().expect("policy.yaml loads");
    let files = [
        ("package.json", PACKAGE_JSON),
        ("server.js", SERVER_JS),
        ("public/index.html", INDEX_HTML),
        ("public/js/app.js", APP_JS),
        ("test/app.test.js", NODE_TEST),
        (".nvmrc", "20\n"),
    ];
    assert_passes(&policy, &manifest(Stack::Node, &files, "npm ci && npm test && npm run build"));
}

#[test]
fn a_python_script_with_unittest_passes() {
    let policy = Policy::default_policy().expect("policy.yaml loads");
    let files =
        [("app.py", APP_PY), ("test_app.py", TEST_PY), ("expenses.csv", "date,amount\n2024-03-01,2.50\n")];
    assert_passes(
        &policy,
        &manifest(
            Stack::Python,
            &files,
            "python3 -m py_compile app.py test_app.py && python3 -m unittest -v",
        ),
    );
}

#[test]
fn every_corpus_text_passes_every_rule_on_its_own() {
    let policy = Policy::default_policy().expect("policy.yaml loads");
    let texts = [
        INDEX_HTML,
        STYLE_CSS,
        APP_JS,
        SERVER_JS,
        PACKAGE_JSON,
        NODE_TEST,
        APP_PY,
        TEST_PY,
        AUDIT_PY,
        AUDIT_SH,
        README_MD,
    ]
    .into_iter()
    .chain(PROSE.iter().copied());
    for text in texts {
        let verdict = policy.evaluate(&manifest(Stack::Static, &[("notes.txt", text)], "python3 audit.py"));
        let opening: String = text.chars().take(60).collect();
        assert!(verdict.allowed, "{opening:?}\ntripped {:#?}", verdict.violations);
    }
}
