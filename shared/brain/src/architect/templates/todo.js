
/* The to-do list: tasks live in this browser's localStorage. */

const TASKS_KEY = STORE + ":tasks";
/*@if priorities|sorting*/
const PRIORITY_RANK = { high: 0, normal: 1, low: 2 };
/*@end*/

let tasks = asTasks(load(TASKS_KEY, []));
let view = "all";

function asTasks(value) {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((task) => task && typeof task.id === "string" && typeof task.text === "string");
}

function persist() {
  save(TASKS_KEY, tasks);
  render();
}

/*@if sorting*/
function sortTasks(list, order) {
  const sorted = list.slice();
  if (order === "oldest") {
    sorted.sort((a, b) => (a.created || 0) - (b.created || 0));
  } else if (order === "alpha") {
    sorted.sort((a, b) => a.text.localeCompare(b.text));
  } else if (order === "due") {
    sorted.sort((a, b) => (a.due || "9999-12-31").localeCompare(b.due || "9999-12-31"));
  } else if (order === "priority") {
    sorted.sort((a, b) => rank(a) - rank(b));
  } else {
    sorted.sort((a, b) => (b.created || 0) - (a.created || 0));
  }
  return sorted;
}

function rank(task) {
  const value = PRIORITY_RANK[task.priority];
  return value === undefined ? 1 : value;
}
/*@end*/

function visibleTasks() {
  let shown = tasks.filter((task) => view === "all" || (view === "done") === Boolean(task.done));
/*@if categories*/
  const category = byId("category-filter").value;
  if (category) {
    shown = shown.filter((task) => task.category === category);
  }
/*@end*/
/*@if search*/
  const query = byId("search-input").value.trim().toLowerCase();
  if (query) {
    shown = shown.filter((task) => task.text.toLowerCase().includes(query));
  }
/*@end*/
/*@if sorting*/
  shown = sortTasks(shown, byId("sort-select").value);
/*@end*/
  return shown;
}

function renderTask(task) {
  const item = make("li", task.done ? "item task done" : "item task");
  const check = make("input");
  check.type = "checkbox";
  check.checked = Boolean(task.done);
  check.setAttribute("aria-label", "Done: " + task.text);
  check.addEventListener("change", () => {
    task.done = check.checked;
    persist();
  });

  const body = make("div", "task-body");
  body.appendChild(make("span", "task-text", task.text));
  const meta = make("div", "task-meta");
/*@if categories*/
  if (task.category) {
    meta.appendChild(make("span", "chip", task.category));
  }
/*@end*/
/*@if priorities*/
  if (task.priority === "high" || task.priority === "low") {
    meta.appendChild(make("span", "chip priority-" + task.priority, task.priority + " priority"));
  }
/*@end*/
/*@if due-dates*/
  if (task.due) {
    const overdue = !task.done && task.due < today();
    meta.appendChild(make("span", overdue ? "chip overdue" : "chip", (overdue ? "Overdue: " : "Due ") + task.due));
  }
/*@end*/
  if (meta.childNodes.length > 0) {
    body.appendChild(meta);
  }

  const remove = make("button", "danger small", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", "Delete " + task.text);
  remove.addEventListener("click", () => {
    tasks = tasks.filter((other) => other.id !== task.id);
    persist();
  });

  item.append(check, body, remove);
  return item;
}

function render() {
  const list = byId("task-list");
  clear(list);
  const shown = visibleTasks();
  for (const task of shown) {
    list.appendChild(renderTask(task));
  }
  byId("empty-state").hidden = shown.length > 0;
  const done = tasks.filter((task) => task.done).length;
  const left = tasks.length - done;
  byId("task-count").textContent = plural(left, "task", "tasks") + " left of " + tasks.length;
  byId("clear-done").disabled = done === 0;
/*@if progress-bar*/
  const percent = tasks.length ? Math.round((done / tasks.length) * 100) : 0;
  byId("progress-fill").style.width = percent + "%";
  byId("progress").setAttribute("aria-valuenow", String(percent));
/*@end*/
/*@if statistics*/
  const createdToday = tasks.filter((task) => task.created && new Date(task.created).toDateString() === new Date().toDateString()).length;
  byId("task-stats").textContent = done + " done \u00b7 " + createdToday + " added today";
/*@end*/
}

byId("task-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId("task-input");
  const text = input.value.trim();
  if (!text) {
    return;
  }
  const task = { id: newId(), text: text, done: false, created: Date.now() };
/*@if categories*/
  task.category = byId("category-select").value;
/*@end*/
/*@if priorities*/
  task.priority = byId("priority-select").value;
/*@end*/
/*@if due-dates*/
  task.due = byId("due-input").value;
  byId("due-input").value = "";
/*@end*/
  tasks.unshift(task);
  input.value = "";
  input.focus();
  persist();
});

for (const button of document.querySelectorAll("[data-filter]")) {
  button.addEventListener("click", () => {
    view = button.dataset.filter;
    for (const other of document.querySelectorAll("[data-filter]")) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    }
    render();
  });
}

byId("clear-done").addEventListener("click", () => {
  tasks = tasks.filter((task) => !task.done);
  persist();
});

/*@if categories*/
const categoryFilter = byId("category-filter");
for (const option of byId("category-select").options) {
  const copy = make("option", "", option.textContent);
  copy.value = option.value;
  categoryFilter.appendChild(copy);
}
categoryFilter.addEventListener("change", render);
/*@end*/
/*@if search*/
byId("search-input").addEventListener("input", render);
/*@end*/
/*@if sorting*/
byId("sort-select").addEventListener("change", render);
/*@end*/
/*@if export*/
byId("export-button").addEventListener("click", () => {
  download(PROJECT + "-tasks.json", JSON.stringify(tasks, null, 2), "application/json");
});
/*@end*/
/*@if import*/
byId("import-input").addEventListener("change", (event) => {
  readJsonFile(event.target, (data) => {
    const known = new Set(tasks.map((task) => task.id));
    const incoming = asTasks(data).filter((task) => !known.has(task.id));
    tasks = incoming.concat(tasks);
    persist();
  });
});
/*@end*/

render();
