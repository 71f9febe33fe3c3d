#!/usr/bin/env python3
# gantry-audit: offline architect
"""Audit of this static app, run by the build as `python3 audit.py`.

Standard library only. It checks that the app really holds together: every local asset a page
references exists, the HTML parses and has a title, every element id app.js looks up exists,
the scripts have balanced brackets and closed strings, nothing is loaded from the network, the
page runs under a strict Content-Security-Policy, the data files parse and have the expected
shape, and the behaviours and features this app promises have their hooks in place.

Every failed check prints one line, `FAIL [check] message`, and the exit status is 1.
Whatever the outcome, it writes .gantry/results.json: one result per approved feature (passed,
failed or not_built), which the build reads back into its report.
"""

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPEC = json.loads(r'''{{spec}}''')

FAILURES = []
COUNTS = {"checks": 0}

# Namespace names that look like URLs but are never fetched.
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml", "http://www.w3.org/1999/xlink")
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//")
NOT_FILES = ("#", "mailto:", "tel:", "data:", "blob:")
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
}
OPTIONAL_END = {
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot",
    "colgroup", "rt", "rp", "html", "head", "body",
}


def fail(check, message):
    FAILURES.append((check, message))


def counted(check, problems):
    """Counts one check and records each of its problems as a failure."""
    COUNTS["checks"] += 1
    for problem in problems:
        fail(check, problem)
    return not problems


def read(relative):
    try:
        return (ROOT / relative).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def exists(relative):
    target = (ROOT / relative).resolve()
    return (target == ROOT or ROOT in target.parents) and target.is_file()


class Page(HTMLParser):
    """What the audit needs from one HTML page, and where its structure is broken."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = []
        self.refs = []
        self.problems = []
        self.csp = []
        self.stack = []
        self.title = ""
        self.in_title = False
        self.doctype = False
        self.script_src = None
        self.script_text = ""

    def handle_decl(self, decl):
        if decl.lower().startswith("doctype html"):
            self.doctype = True

    def handle_starttag(self, tag, attrs):
        self.record(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        self.record(tag, attrs)

    def record(self, tag, attrs):
        if self.stack and self.stack[-1][0] == tag and tag in ("p", "li", "option", "tr", "td", "th", "dt", "dd"):
            self.stack.pop()
        values = {}
        for name, value in attrs:
            value = value or ""
            values[name] = value
            if name == "id":
                self.ids.append(value)
            if name.startswith("on"):
                self.csp.append(f"<{tag}> has an inline event handler {name}=; bind events in app.js")
            if name == "style":
                self.csp.append(f"<{tag}> has an inline style attribute; move it to styles.css")
            if name in ("src", "href", "poster") and value.strip().lower().startswith("javascript:"):
                self.csp.append(f"<{tag}> has a javascript: URL")
            elif name == "href" and tag in ("a", "area"):
                # A link is followed by a person, not loaded by the page: only local targets must exist.
                if not EXTERNAL.match(value.strip()):
                    self.refs.append((tag, value.strip()))
            elif name in ("src", "href", "poster", "data"):
                self.refs.append((tag, value.strip()))
            elif name == "srcset":
                for candidate in value.split(","):
                    if candidate.strip():
                        self.refs.append((tag, candidate.split()[0]))
        if tag == "title":
            self.in_title = True
        if tag == "style":
            self.csp.append("a <style> element holds inline CSS; move it to styles.css")
        if tag == "script":
            self.script_src = values.get("src")
            self.script_text = ""

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "script":
            if self.script_src is None and self.script_text.strip():
                self.csp.append("an inline <script> holds code; scripts must come from app.js")
            self.script_src = None
        if tag in VOID:
            return
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()
            return
        if any(open_tag == tag for open_tag, _ in self.stack):
            while self.stack and self.stack[-1][0] != tag:
                unclosed, line = self.stack.pop()
                if unclosed not in OPTIONAL_END:
                    self.problems.append(f"<{unclosed}> opened on line {line} is not closed before </{tag}>")
            if self.stack:
                self.stack.pop()
            return
        self.problems.append(f"</{tag}> on line {self.getpos()[0]} closes nothing")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.script_src is None and self.stack and self.stack[-1][0] == "script":
            self.script_text += data

    def finish(self):
        self.close()
        for tag, line in self.stack:
            if tag not in OPTIONAL_END:
                self.problems.append(f"<{tag}> opened on line {line} is never closed")


def local_target(base, reference):
    """The file a local reference points at, relative to the app root; None for anything that is not a file."""
    value = reference.split("#", 1)[0].split("?", 1)[0]
    if not value or reference.startswith(NOT_FILES):
        return None
    if value.startswith("/"):
        return value.lstrip("/")
    folder = Path(base).parent
    return (folder / value).as_posix() if str(folder) != "." else value


def check_reference(source, reference, external, missing):
    if EXTERNAL.match(reference):
        external.append(f"{source} loads {reference} from the network; ship the file with the app instead")
        return
    target = local_target(source, reference)
    if target is not None and not exists(target):
        missing.append(f"{source} references {target}, which does not exist")


def strip_js_comments_and_strings(text):
    """Tokenizes JavaScript just enough to tell code from strings, comments, regexes and templates.

    Returns (problems, strings) where problems name unbalanced brackets and unclosed literals.
    """
    problems = []
    strings = []
    stack = []
    regex_after = set("(,=:[!&|?{};+-*%<>~^") | {
        "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do",
        "else", "yield", "await",
    }
    closers = {")": "(", "]": "[", "}": "{"}
    last = ""
    i = 0
    line = 1
    n = len(text)

    def template(start, line):
        j = start
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "\n":
                line += 1
            if c == "`":
                return j + 1, line, "end"
            if c == "$" and j + 1 < n and text[j + 1] == "{":
                return j + 2, line, "sub"
            j += 1
        return n, line, "eof"

    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                problems.append(f"line {line}: a /* comment is never closed")
                break
            line += text.count("\n", i, end)
            i = end + 2
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j >= n or text[j] != c:
                problems.append(f"line {line}: a string opened with {c} is never closed")
                i = j
            else:
                strings.append(text[i + 1:j])
                i = j + 1
            last = "string"
            continue
        if c == "`" or (c == "}" and stack and stack[-1][0] == "${"):
            opened = line
            if c == "}":
                stack.pop()
            start = i + 1
            i, line, how = template(start, line)
            strings.append(text[start:i])
            if how == "sub":
                stack.append(("${", line))
            elif how == "eof":
                problems.append(f"line {opened}: a template literal is never closed")
            last = "string"
            continue
        if c == "/":
            if last == "" or last in regex_after:
                j = i + 1
                in_class = False
                while j < n and text[j] != "\n":
                    ch = text[j]
                    if ch == "\\":
                        j += 2
                        continue
                    if ch == "[":
                        in_class = True
                    elif ch == "]":
                        in_class = False
                    elif ch == "/" and not in_class:
                        break
                    j += 1
                if j >= n or text[j] != "/":
                    problems.append(f"line {line}: a regular expression is never closed")
                    i = j
                    continue
                j += 1
                while j < n and text[j].isalpha():
                    j += 1
                i = j
                last = "regex"
                continue
            last = "/"
            i += 1
            continue
        if c.isalnum() or c in "_$":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            last = text[i:j]
            i = j
            continue
        if c in "([{":
            stack.append((c, line))
        elif c in closers:
            if not stack:
                problems.append(f"line {line}: {c} has no opening {closers[c]}")
            elif stack[-1][0] != closers[c]:
                problems.append(f"line {line}: {c} closes {stack[-1][0]} opened on line {stack[-1][1]}")
                stack.pop()
            else:
                stack.pop()
        last = c
        i += 1
    for opener, opened in stack:
        problems.append(f"line {opened}: {opener} is never closed")
    return problems[:5], strings


def css_problems(text):
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    code = re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", '""', code)
    depth = 0
    for index, c in enumerate(code):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return [f"a closing brace near offset {index} closes nothing"]
    return [f"{depth} block(s) are never closed"] if depth else []


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_text(value):
    return isinstance(value, str) and value.strip() != ""


def is_text_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def need(problems, where, ok, what):
    if not ok:
        problems.append(f"{where} {what}")


def blog_shape(data):
    problems = []
    posts = data.get("posts") if isinstance(data, dict) else None
    if not isinstance(posts, list) or not posts:
        return ['needs a non-empty "posts" list']
    need(problems, '"about"', isinstance(data.get("about"), str), "must be a string")
    slugs = set()
    for index, post in enumerate(posts):
        where = f"posts[{index}]"
        if not isinstance(post, dict):
            problems.append(f"{where} must be an object")
            continue
        for key in ("slug", "title", "date", "summary"):
            need(problems, f"{where}.{key}", is_text(post.get(key)), "must be a non-empty string")
        need(problems, f"{where}.tags", is_text_list(post.get("tags")), "must be a list of strings")
        body = post.get("body")
        need(problems, f"{where}.body", is_text_list(body) and bool(body), "must be a non-empty list of paragraphs")
        slug = post.get("slug")
        if isinstance(slug, str):
            need(problems, f"{where}.slug", re.fullmatch(r"[a-z0-9-]+", slug) is not None, "must be lowercase-with-hyphens")
            need(problems, f"{where}.slug", slug not in slugs, "repeats another post's slug")
            slugs.add(slug)
        if isinstance(post.get("date"), str):
            need(problems, f"{where}.date", re.fullmatch(r"\d{4}-\d{2}-\d{2}", post["date"]) is not None, "must be YYYY-MM-DD")
    return problems


def dashboard_shape(data):
    if not isinstance(data, dict):
        return ["must be an object"]
    problems = []
    kpis = data.get("kpis")
    need(problems, '"kpis"', isinstance(kpis, list) and bool(kpis), "must be a non-empty list")
    for index, kpi in enumerate(kpis if isinstance(kpis, list) else []):
        ok = isinstance(kpi, dict) and is_text(kpi.get("label")) and is_number(kpi.get("value"))
        need(problems, f"kpis[{index}]", ok, "needs a label and a numeric value")
    series = data.get("series")
    points = series.get("points") if isinstance(series, dict) else None
    need(problems, '"series.points"', isinstance(points, list) and len(points) >= 2, "must list at least two points")
    for index, point in enumerate(points if isinstance(points, list) else []):
        ok = isinstance(point, dict) and is_text(point.get("date")) and is_number(point.get("value"))
        need(problems, f"series.points[{index}]", ok, "needs a date and a numeric value")
    breakdown = data.get("breakdown")
    items = breakdown.get("items") if isinstance(breakdown, dict) else None
    need(problems, '"breakdown.items"', isinstance(items, list) and bool(items), "must be a non-empty list")
    for index, item in enumerate(items if isinstance(items, list) else []):
        ok = isinstance(item, dict) and is_text(item.get("label")) and is_number(item.get("value")) and item["value"] >= 0
        need(problems, f"breakdown.items[{index}]", ok, "needs a label and a value of zero or more")
    activity = data.get("activity")
    need(problems, '"activity"', isinstance(activity, list), "must be a list")
    for index, row in enumerate(activity if isinstance(activity, list) else []):
        ok = isinstance(row, dict) and all(is_text(row.get(k)) for k in ("date", "customer", "item", "status"))
        need(problems, f"activity[{index}]", ok and is_number(row.get("amount")), "needs date, customer, item, status and a numeric amount")
    return problems


def portfolio_shape(data):
    if not isinstance(data, dict):
        return ["must be an object"]
    problems = []
    need(problems, '"about"', is_text(data.get("about")), "must be a non-empty string")
    projects = data.get("projects")
    need(problems, '"projects"', isinstance(projects, list) and bool(projects), "must be a non-empty list")
    for index, project in enumerate(projects if isinstance(projects, list) else []):
        ok = isinstance(project, dict) and is_text(project.get("title")) and is_text(project.get("summary"))
        ok = ok and isinstance(project.get("year"), int) and is_text_list(project.get("tags"))
        need(problems, f"projects[{index}]", ok, "needs a title, summary, year and list of tags")
    links = data.get("links")
    need(problems, '"links"', isinstance(links, list), "must be a list")
    for index, link in enumerate(links if isinstance(links, list) else []):
        ok = isinstance(link, dict) and is_text(link.get("label")) and isinstance(link.get("href"), str)
        need(problems, f"links[{index}]", ok, "needs a label and an href")
        if ok:
            need(problems, f"links[{index}].href", not EXTERNAL.match(link["href"]), "must not point at the network")
    return problems


SHAPES = {"blog": blog_shape, "dashboard": dashboard_shape, "portfolio": portfolio_shape}


def blamed_feature(message):
    """The feature key a failure names as `(feature: key)`, or None for a check of the whole app."""
    match = re.search(r"\(feature: ([a-z-]+)\)", message)
    return match.group(1) if match else None


def write_results():
    """One result per approved feature: a feature passes when its own checks and the app's pass."""
    general = [message for _, message in FAILURES if blamed_feature(message) is None]
    results = []
    for entry in SPEC.get("results", []):
        if entry.get("not_built"):
            results.append({"name": entry["name"], "status": "not_built", "detail": entry["not_built"]})
            continue
        own = [message for _, message in FAILURES if entry.get("feature") and blamed_feature(message) == entry["feature"]]
        problems = own + general
        if problems:
            results.append({"name": entry["name"], "status": "failed", "detail": problems[0]})
        else:
            results.append({"name": entry["name"], "status": "passed", "detail": "checked by the audit"})
    try:
        (ROOT / ".gantry").mkdir(exist_ok=True)
        (ROOT / ".gantry" / "results.json").write_text(json.dumps({"features": results}), encoding="utf-8")
    except OSError as error:
        print(f"results could not be written: {error}")


def main():
    # Drafts are held to the strict rules they were written for; an adapted app only to what it can meet.
    strict = SPEC["origin"] == "draft"
    for name in SPEC["required_files"]:
        counted("files.missing", [] if exists(name) else [f"{name} is missing"])

    page_ids = set()
    external = []
    missing = []
    csp = []
    for name in SPEC["pages"]:
        text = read(name)
        if text is None:
            continue
        page = Page()
        try:
            page.feed(text)
            page.finish()
        except Exception as error:  # html.parser raises on a few malformed declarations
            page.problems.append(f"could not be parsed: {error}")
        counted("html.parse", [f"{name}: {problem}" for problem in page.problems[:5]])
        counted("html.title", [] if page.title.strip() else [f"{name} has no non-empty <title>"])
        if strict:
            counted("html.doctype", [] if page.doctype else [f"{name} does not start with <!doctype html>"])
        seen = set()
        duplicates = sorted({value for value in page.ids if value in seen or seen.add(value)})
        counted("ids.duplicate", [f"{name} defines #{value} more than once" for value in duplicates])
        page_ids.update(page.ids)
        csp.extend(f"{name}: {problem}" for problem in page.csp)
        for tag, reference in page.refs:
            check_reference(name, reference, external, missing)

    for name in SPEC["stylesheets"]:
        text = read(name)
        if text is None:
            continue
        counted("css.syntax", [f"{name}: {problem}" for problem in css_problems(text)])
        for match in re.finditer(r"url\(\s*['\"]?([^'\")\s]+)|@import\s+['\"]([^'\"]+)", text):
            check_reference(name, match.group(1) or match.group(2), external, missing)

    used_ids = set()
    for name in SPEC["scripts"]:
        text = read(name)
        if text is None:
            continue
        problems, strings = strip_js_comments_and_strings(text)
        counted("js.syntax", [f"{name}: {problem}" for problem in problems])
        for value in strings:
            for url in re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"']*", value):
                if not url.startswith(NAMESPACES):
                    external.append(f"{name} mentions {url}; the app must not load anything from the network")
            if re.fullmatch(r"[A-Za-z0-9_][\w./-]*\.json", value) and not exists(value):
                missing.append(f"{name} loads {value}, which does not exist")
        if strict:
            unsafe = re.findall(r"\.(?:innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write", text)
            hits = sorted(set(hit.strip() for hit in unsafe))
            counted("js.unsafe_html", [f"{name} uses {hit}; insert text with textContent" for hit in hits])
        for match in re.finditer(r"(?:byId|getElementById)\(\s*[\"']([^\"']+)[\"']\s*\)", text):
            used_ids.add((name, match.group(1)))
        for match in re.finditer(r"querySelector(?:All)?\(\s*[\"']#([A-Za-z][\w-]*)[\"']", text):
            used_ids.add((name, match.group(1)))
    counted("ids.missing", [f"{name} uses #{value}, which no page defines" for name, value in sorted(used_ids) if value not in page_ids])

    counted("asset.external", external)
    counted("asset.missing", missing)
    if strict:
        counted("csp.inline", csp)

    for entry in SPEC["required_ids"]:
        ok = entry["id"] in page_ids
        counted("ids.required", [] if ok else [f"no page defines #{entry['id']} ({entry['why']})"])
    for entry in SPEC["feature_hooks"]:
        ok = entry["id"] in page_ids
        counted("feature.missing", [] if ok else [f"no page defines #{entry['id']} (feature: {entry['feature']})"])
    for entry in SPEC["behaviours"]:
        text = read(entry["file"]) or ""
        ok = re.search(entry["pattern"], text) is not None
        why = entry["why"] + (f" (feature: {entry['feature']})" if entry.get("feature") else "")
        counted("behaviour.missing", [] if ok else [f"{entry['file']} shows no sign that {why}"])

    for entry in SPEC["data"]:
        text = read(entry["file"])
        if text is None:
            counted("data.invalid", [f"{entry['file']} is missing"])
            continue
        try:
            data = json.loads(text)
        except ValueError as error:
            counted("data.invalid", [f"{entry['file']} is not valid JSON: {error}"])
            continue
        counted("data.invalid", [])
        shape = SHAPES.get(entry["shape"])
        if shape is not None:
            counted("data.shape", [f"{entry['file']}: {problem}" for problem in shape(data)[:8]])

    pages_text = "".join(read(name) or "" for name in SPEC["pages"])
    for entry in SPEC.get("inputs", []):
        ok = re.search(r'\bname="' + re.escape(entry["name"]) + '"', pages_text) is not None
        counted("inputs.missing", [] if ok else [f"no page has an input named {entry['name']} ({entry['why']})"])

    design = SPEC.get("design")
    if design:
        counted("design.missing", [] if exists(design) else [f"{design} (the design reference) is missing"])
        page = read(SPEC["pages"][0]) or ""
        counted("design.unreferenced", [] if design in page else [f"{SPEC['pages'][0]} does not show {design}"])

    write_results()
    for check, message in FAILURES:
        print(f"FAIL [{check}] {message}")
    if FAILURES:
        failed = len({check for check, _ in FAILURES})
        print(f"audit failed: {len(FAILURES)} problem(s) in {failed} kind(s) of check, {COUNTS['checks']} checks run")
        return 1
    print(f"audit passed: {COUNTS['checks']} checks on the {SPEC['kind']} app")
    return 0


if __name__ == "__main__":
    sys.exit(main())
