
/* Notes: kept in this browser's localStorage and saved on every keystroke. */

const NOTES_KEY = STORE + ":notes";

let notes = asNotes(load(NOTES_KEY, null));
let currentId = notes.length > 0 ? notes[0].id : null;
/*@if tags*/
let activeTag = "";
/*@end*/
/*@if markdown*/
let previewing = false;
/*@end*/

function asNotes(value) {
  if (!Array.isArray(value)) {
    const now = Date.now();
    return [
      {
        id: newId(),
        title: "Welcome",
        body: "This is your first note. Edit it, or press New note to start another.\nEverything is saved in this browser as you type.",
        tags: ["start"],
        pinned: false,
        created: now,
        updated: now,
      },
    ];
  }
  return value.filter((note) => note && typeof note.id === "string" && typeof note.body === "string");
}

function current() {
  return notes.find((note) => note.id === currentId) || null;
}

function persist() {
  save(NOTES_KEY, notes);
}

function noteTitle(note) {
  const title = String(note.title || "").trim();
  if (title) {
    return title;
  }
  const firstLine = note.body.trim().split("\n")[0];
  return firstLine ? firstLine.slice(0, 60) : "Untitled note";
}

/*@if tags*/
function parseTags(text) {
  const tags = [];
  for (const part of text.split(",")) {
    const tag = part.trim().toLowerCase();
    if (tag && !tags.includes(tag)) {
      tags.push(tag);
    }
  }
  return tags;
}

function renderTagFilter() {
  const bar = byId("tag-filter");
  clear(bar);
  const all = new Set();
  for (const note of notes) {
    for (const tag of note.tags || []) {
      all.add(tag);
    }
  }
  if (activeTag && !all.has(activeTag)) {
    activeTag = "";
  }
  for (const tag of Array.from(all).sort()) {
    const chip = make("button", "chip", "#" + tag);
    chip.type = "button";
    chip.setAttribute("aria-pressed", tag === activeTag ? "true" : "false");
    chip.addEventListener("click", () => {
      activeTag = tag === activeTag ? "" : tag;
      renderList();
    });
    bar.appendChild(chip);
  }
}
/*@end*/

function visibleNotes() {
  let shown = notes.slice();
/*@if search*/
  const query = byId("search-input").value.trim().toLowerCase();
  if (query) {
    shown = shown.filter((note) => (noteTitle(note) + "\n" + note.body).toLowerCase().includes(query));
  }
/*@end*/
/*@if tags*/
  if (activeTag) {
    shown = shown.filter((note) => (note.tags || []).includes(activeTag));
  }
/*@end*/
  let order = "updated";
/*@if sorting*/
  order = byId("sort-select").value;
/*@end*/
  if (order === "title") {
    shown.sort((a, b) => noteTitle(a).localeCompare(noteTitle(b)));
  } else if (order === "created") {
    shown.sort((a, b) => (b.created || 0) - (a.created || 0));
  } else {
    shown.sort((a, b) => (b.updated || 0) - (a.updated || 0));
  }
/*@if favourites*/
  shown.sort((a, b) => Number(Boolean(b.pinned)) - Number(Boolean(a.pinned)));
/*@end*/
  return shown;
}

function renderList() {
  const list = byId("note-list");
  clear(list);
  const shown = visibleNotes();
  for (const note of shown) {
    const item = make("li", "item");
    const button = make("button", note.id === currentId ? "note-link active" : "note-link");
    button.type = "button";
    button.appendChild(make("span", "note-link-title", (note.pinned ? "\u2605 " : "") + noteTitle(note)));
    button.appendChild(make("span", "note-link-date", new Date(note.updated || Date.now()).toLocaleString()));
    button.addEventListener("click", () => {
      currentId = note.id;
      renderList();
      showCurrent();
    });
    item.appendChild(button);
    list.appendChild(item);
  }
  byId("empty-state").hidden = shown.length > 0;
/*@if tags*/
  renderTagFilter();
/*@end*/
}

function showStatus(note) {
  let status = "Saved " + new Date(note.updated || Date.now()).toLocaleTimeString();
/*@if statistics*/
  const words = note.body.trim() ? note.body.trim().split(/\s+/).length : 0;
  status = plural(words, "word", "words") + " \u00b7 " + plural(note.body.length, "character", "characters") + " \u00b7 " + status;
/*@end*/
  byId("note-status").textContent = status;
}

/*@if markdown*/
function inline(tag, text) {
  /* **bold** and _italic_ become nodes, so nothing typed in a note is ever parsed as markup. */
  const node = make(tag);
  for (const part of text.split(/(\*\*[^*]+\*\*|_[^_]+_)/)) {
    if (part.length > 4 && part.startsWith("**") && part.endsWith("**")) {
      node.appendChild(make("strong", "", part.slice(2, -2)));
    } else if (part.length > 2 && part.startsWith("_") && part.endsWith("_")) {
      node.appendChild(make("em", "", part.slice(1, -1)));
    } else if (part) {
      node.appendChild(document.createTextNode(part));
    }
  }
  return node;
}

function renderPreview(note) {
  const preview = byId("note-preview");
  clear(preview);
  let list = null;
  for (const line of note.body.split("\n")) {
    const bullet = line.match(/^\s*[-*]\s+(.*)$/);
    if (bullet) {
      if (!list) {
        list = make("ul");
        preview.appendChild(list);
      }
      list.appendChild(inline("li", bullet[1]));
      continue;
    }
    list = null;
    const heading = line.match(/^(#{1,3})\s+(.*)$/);
    if (heading) {
      preview.appendChild(inline("h" + (heading[1].length + 1), heading[2]));
    } else if (line.trim()) {
      preview.appendChild(inline("p", line));
    }
  }
}

function setPreview(on) {
  previewing = on;
  byId("preview-toggle").setAttribute("aria-pressed", on ? "true" : "false");
  byId("preview-toggle").textContent = on ? "Edit" : "Preview";
  const note = current();
  byId("note-preview").hidden = !on || !note;
  byId("note-body").hidden = on;
  if (on && note) {
    renderPreview(note);
  }
}
/*@end*/

function showCurrent() {
  const note = current();
  byId("note-form").hidden = !note;
  byId("editor-empty").hidden = Boolean(note);
  if (!note) {
/*@if markdown*/
    byId("note-preview").hidden = true;
/*@end*/
    return;
  }
  byId("note-title").value = note.title || "";
  byId("note-body").value = note.body;
/*@if tags*/
  byId("note-tags").value = (note.tags || []).join(", ");
/*@end*/
/*@if favourites*/
  byId("pin-note").setAttribute("aria-pressed", note.pinned ? "true" : "false");
  byId("pin-note").textContent = note.pinned ? "Unpin" : "Pin";
/*@end*/
/*@if markdown*/
  setPreview(previewing);
/*@end*/
  showStatus(note);
}

function onEdit() {
  const note = current();
  if (!note) {
    return;
  }
  note.title = byId("note-title").value;
  note.body = byId("note-body").value;
/*@if tags*/
  note.tags = parseTags(byId("note-tags").value);
/*@end*/
  note.updated = Date.now();
  persist();
  renderList();
  showStatus(note);
}

function createNote() {
  const now = Date.now();
  const note = { id: newId(), title: "", body: "", tags: [], pinned: false, created: now, updated: now };
  notes.unshift(note);
  currentId = note.id;
  persist();
/*@if markdown*/
  previewing = false;
/*@end*/
  renderList();
  showCurrent();
  byId("note-title").focus();
}

byId("new-note").addEventListener("click", createNote);
byId("note-title").addEventListener("input", onEdit);
byId("note-body").addEventListener("input", onEdit);
/*@if tags*/
byId("note-tags").addEventListener("input", onEdit);
/*@end*/
byId("note-form").addEventListener("submit", (event) => event.preventDefault());

byId("delete-note").addEventListener("click", () => {
  const note = current();
  if (!note || !window.confirm("Delete \u201c" + noteTitle(note) + "\u201d?")) {
    return;
  }
  notes = notes.filter((other) => other.id !== note.id);
  const next = visibleNotes()[0];
  currentId = next ? next.id : null;
  persist();
  renderList();
  showCurrent();
});

/*@if favourites*/
byId("pin-note").addEventListener("click", () => {
  const note = current();
  if (!note) {
    return;
  }
  note.pinned = !note.pinned;
  persist();
  renderList();
  showCurrent();
});
/*@end*/
/*@if markdown*/
byId("preview-toggle").addEventListener("click", () => setPreview(!previewing));
/*@end*/
/*@if search*/
byId("search-input").addEventListener("input", renderList);
/*@end*/
/*@if sorting*/
byId("sort-select").addEventListener("change", renderList);
/*@end*/
/*@if export*/
byId("export-button").addEventListener("click", () => {
  download(PROJECT + "-notes.json", JSON.stringify(notes, null, 2), "application/json");
});
/*@end*/
/*@if import*/
byId("import-input").addEventListener("change", (event) => {
  readJsonFile(event.target, (data) => {
    const known = new Set(notes.map((note) => note.id));
    const incoming = asNotes(Array.isArray(data) ? data : []).filter((note) => !known.has(note.id));
    notes = incoming.concat(notes);
    persist();
    renderList();
    showCurrent();
  });
});
/*@end*/

persist();
renderList();
showCurrent();
