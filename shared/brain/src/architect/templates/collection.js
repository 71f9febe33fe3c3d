
/* The collection: entries live in this browser's localStorage, one object per entry. */

const FIELDS = {{fields_js}};
const ITEM = {{item_js}};
const ITEMS = {{items_js}};
const ITEMS_KEY = STORE + ":items";
const FORM = byId("add-form");

let records = asRecords(load(ITEMS_KEY, []));
let editing = null;

function asRecords(value) {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((record) => record && typeof record.id === "string" && record.values && typeof record.values === "object");
}

function persist() {
  save(ITEMS_KEY, records);
  render();
}

function input(field) {
  return FORM.elements.namedItem(field.id);
}

function parse(field, raw) {
  const text = String(raw || "").trim();
  if (field.kind === "tags") {
    return text.split(",").map((tag) => tag.trim()).filter((tag) => tag !== "");
  }
  if (field.kind === "number") {
    const number = Number(text);
    return text === "" || !Number.isFinite(number) ? "" : number;
  }
  return text;
}

function shown(field, value) {
  if (Array.isArray(value)) {
    return value.join(", ");
  }
  return value === undefined || value === null ? "" : String(value);
}

function tagsOf(record) {
  const tags = [];
  for (const field of FIELDS) {
    if (field.kind === "tags" && Array.isArray(record.values[field.id])) {
      tags.push(...record.values[field.id]);
    }
  }
  return tags;
}

function textOf(record) {
  return FIELDS.map((field) => shown(field, record.values[field.id])).join(" ").toLowerCase();
}

/*@if streaks*/
function dayBefore(day) {
  const date = new Date(day + "T12:00:00");
  date.setDate(date.getDate() - 1);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

/* Consecutive days checked in, ending today (or yesterday, when today is still open). */
function streakOf(record) {
  const days = new Set(Array.isArray(record.checkins) ? record.checkins : []);
  let day = days.has(today()) ? today() : dayBefore(today());
  let count = 0;
  while (days.has(day)) {
    count += 1;
    day = dayBefore(day);
  }
  return count;
}

/*@end*/
function visibleRecords() {
  let list = records.slice();
  const query = byId("search").value.trim().toLowerCase();
  if (query) {
    list = list.filter((record) => textOf(record).includes(query));
  }
/*@if tags*/
  const tag = byId("tag-filter").value;
  if (tag) {
    list = list.filter((record) => tagsOf(record).includes(tag));
  }
/*@end*/
/*@if sorting*/
  const order = byId("sort-select").value;
  if (order === "oldest") {
    list.sort((a, b) => (a.created || 0) - (b.created || 0));
  } else if (order === "alpha") {
    const first = FIELDS[0];
    list.sort((a, b) => shown(first, a.values[first.id]).localeCompare(shown(first, b.values[first.id])));
  } else {
    list.sort((a, b) => (b.created || 0) - (a.created || 0));
  }
/*@end*/
  return list;
}

function renderRecord(record) {
  const item = make("li", editing === record.id ? "item record editing" : "item record");
  const body = make("div", "record-body");
  const first = FIELDS[0];
  body.appendChild(make("strong", "record-title", shown(first, record.values[first.id])));
  for (const field of FIELDS.slice(1)) {
    const value = record.values[field.id];
    if (field.kind === "tags") {
      const tags = make("div", "record-tags");
      for (const tag of Array.isArray(value) ? value : []) {
        tags.appendChild(make("span", "chip", tag));
      }
      if (tags.childNodes.length > 0) {
        body.appendChild(tags);
      }
    } else if (shown(field, value) !== "") {
      const line = make("p", "record-field");
      line.append(make("span", "record-label", field.label + ": "), make("span", "", shown(field, value)));
      body.appendChild(line);
    }
  }

/*@if streaks*/
  const streak = streakOf(record);
  body.appendChild(make("p", "record-field record-streak", streak === 1 ? "Streak: 1 day" : "Streak: " + streak + " days"));
/*@end*/
  const actions = make("div", "row record-actions");
/*@if streaks*/
  const checkedIn = Array.isArray(record.checkins) && record.checkins.includes(today());
  const done = make("button", "small", checkedIn ? "Done today \u2713" : "Done today");
  done.type = "button";
  done.disabled = checkedIn;
  done.addEventListener("click", () => {
    record.checkins = (Array.isArray(record.checkins) ? record.checkins : []).concat([today()]);
    persist();
  });
  actions.appendChild(done);
/*@end*/
  const edit = make("button", "ghost small", "Edit");
  edit.type = "button";
  edit.setAttribute("aria-label", "Edit " + shown(first, record.values[first.id]));
  edit.addEventListener("click", () => startEdit(record));
  const remove = make("button", "danger small", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", "Delete " + shown(first, record.values[first.id]));
  remove.addEventListener("click", () => {
    records = records.filter((other) => other.id !== record.id);
    if (editing === record.id) {
      stopEdit();
    }
    persist();
  });
  actions.append(edit, remove);
  item.append(body, actions);
  return item;
}

function render() {
  const list = byId("items");
  clear(list);
  const visible = visibleRecords();
  for (const record of visible) {
    list.appendChild(renderRecord(record));
  }
  byId("empty-state").hidden = visible.length > 0;
  byId("item-count").textContent =
    plural(records.length, ITEM, ITEMS) + (visible.length < records.length ? ", " + visible.length + " shown" : "");
/*@if tags*/
  const filter = byId("tag-filter");
  const chosen = filter.value;
  const tags = Array.from(new Set(records.flatMap(tagsOf))).sort((a, b) => a.localeCompare(b));
  while (filter.options.length > 1) {
    filter.remove(1);
  }
  for (const tag of tags) {
    const option = make("option", "", tag);
    option.value = tag;
    filter.appendChild(option);
  }
  filter.value = tags.includes(chosen) ? chosen : "";
/*@end*/
/*@if statistics*/
  const totals = FIELDS.filter((field) => field.kind === "number").map((field) => {
    const sum = records.reduce((total, record) => total + (Number(record.values[field.id]) || 0), 0);
    return field.label + " total: " + Math.round(sum * 100) / 100;
  });
  byId("item-stats").textContent = totals.join(" \u00b7 ");
/*@end*/
}

function startEdit(record) {
  editing = record.id;
  for (const field of FIELDS) {
    input(field).value = shown(field, record.values[field.id]);
  }
  byId("form-heading").textContent = "Edit this " + ITEM;
  byId("submit-button").textContent = "Save changes";
  byId("cancel-edit").hidden = false;
  input(FIELDS[0]).focus();
  render();
}

function stopEdit() {
  editing = null;
  FORM.reset();
  byId("form-heading").textContent = "Add a " + ITEM;
  byId("submit-button").textContent = "Add " + ITEM;
  byId("cancel-edit").hidden = true;
}

FORM.addEventListener("submit", (event) => {
  event.preventDefault();
  const values = {};
  for (const field of FIELDS) {
    values[field.id] = parse(field, input(field).value);
  }
  if (shown(FIELDS[0], values[FIELDS[0].id]) === "") {
    input(FIELDS[0]).focus();
    return;
  }
  const existing = records.find((record) => record.id === editing);
  if (existing) {
    existing.values = values;
    existing.updated = Date.now();
  } else {
    records.unshift({ id: newId(), created: Date.now(), values: values });
  }
  stopEdit();
  input(FIELDS[0]).focus();
  persist();
});

byId("cancel-edit").addEventListener("click", () => {
  stopEdit();
  render();
});
byId("search").addEventListener("input", render);
/*@if tags*/
byId("tag-filter").addEventListener("change", render);
/*@end*/
/*@if sorting*/
byId("sort-select").addEventListener("change", render);
/*@end*/
/*@if export*/
byId("export-button").addEventListener("click", () => {
  download(PROJECT + "-" + ITEMS.replace(/\W+/g, "-") + ".json", JSON.stringify(records, null, 2), "application/json");
});
/*@end*/
/*@if import*/
byId("import-input").addEventListener("change", (event) => {
  readJsonFile(event.target, (data) => {
    const known = new Set(records.map((record) => record.id));
    records = asRecords(data).filter((record) => !known.has(record.id)).concat(records);
    persist();
  });
});
/*@end*/

render();
