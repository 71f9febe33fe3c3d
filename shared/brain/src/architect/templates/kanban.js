
/* The kanban board: cards move between three columns and are kept in localStorage. */

const CARDS_KEY = STORE + ":cards";
const COLUMNS = ["todo", "doing", "done"];
const COLUMN_NAMES = { todo: "To do", doing: "Doing", done: "Done" };

let cards = asCards(load(CARDS_KEY, null));

function asCards(value) {
  if (!Array.isArray(value)) {
    const now = Date.now();
    return [
      { id: newId(), text: "Write down what this board is for", column: "done", created: now },
      { id: newId(), text: "Add the first real task", column: "doing", created: now },
      { id: newId(), text: "Invite the team to look at it", column: "todo", created: now },
    ];
  }
  return value.filter(
    (card) => card && typeof card.id === "string" && typeof card.text === "string" && COLUMNS.includes(card.column)
  );
}

function persist() {
  save(CARDS_KEY, cards);
  render();
}

function moveCard(id, column) {
  const card = cards.find((candidate) => candidate.id === id);
  if (!card || !COLUMNS.includes(column) || card.column === column) {
    return;
  }
  card.column = column;
  card.moved = Date.now();
  persist();
}

function step(card, delta) {
  const index = COLUMNS.indexOf(card.column) + delta;
  if (index >= 0 && index < COLUMNS.length) {
    moveCard(card.id, COLUMNS[index]);
  }
}

function moveButton(card, delta, label) {
  const index = COLUMNS.indexOf(card.column) + delta;
  const button = make("button", "ghost small", label);
  button.type = "button";
  button.disabled = index < 0 || index >= COLUMNS.length;
  if (!button.disabled) {
    button.setAttribute("aria-label", "Move \u201c" + card.text + "\u201d to " + COLUMN_NAMES[COLUMNS[index]]);
  }
  button.addEventListener("click", () => step(card, delta));
  return button;
}

function renderCard(card) {
  const item = make("li", "kanban-card");
  item.dataset.id = card.id;
/*@if drag-and-drop*/
  item.draggable = true;
  item.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", card.id);
    event.dataTransfer.effectAllowed = "move";
    item.classList.add("dragging");
  });
  item.addEventListener("dragend", () => item.classList.remove("dragging"));
/*@end*/
  item.appendChild(make("p", "card-text", card.text));
  const meta = make("div", "card-meta");
/*@if priorities*/
  if (card.priority === "high" || card.priority === "low") {
    meta.appendChild(make("span", "chip priority-" + card.priority, card.priority + " priority"));
  }
/*@end*/
/*@if due-dates*/
  if (card.due) {
    const overdue = card.column !== "done" && card.due < today();
    meta.appendChild(make("span", overdue ? "chip overdue" : "chip", (overdue ? "Overdue: " : "Due ") + card.due));
  }
/*@end*/
  if (meta.childNodes.length > 0) {
    item.appendChild(meta);
  }
  const actions = make("div", "card-actions");
  const remove = make("button", "danger small", "Delete");
  remove.type = "button";
  remove.setAttribute("aria-label", "Delete \u201c" + card.text + "\u201d");
  remove.addEventListener("click", () => {
    cards = cards.filter((other) => other.id !== card.id);
    persist();
  });
  actions.append(moveButton(card, -1, "\u2190"), moveButton(card, 1, "\u2192"), remove);
  item.appendChild(actions);
  return item;
}

function render() {
  let query = "";
/*@if search*/
  query = byId("search-input").value.trim().toLowerCase();
/*@end*/
  for (const column of COLUMNS) {
    const list = byId("list-" + column);
    clear(list);
    const inColumn = cards.filter((card) => card.column === column);
    const shown = query ? inColumn.filter((card) => card.text.toLowerCase().includes(query)) : inColumn;
    for (const card of shown) {
      list.appendChild(renderCard(card));
    }
    if (shown.length === 0) {
      list.appendChild(make("li", "empty column-empty", query ? "No matching cards" : "No cards yet"));
    }
    byId("count-" + column).textContent = String(inColumn.length);
  }
}

byId("card-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = byId("card-input");
  const text = input.value.trim();
  if (!text) {
    return;
  }
  const card = { id: newId(), text: text, column: "todo", created: Date.now() };
/*@if priorities*/
  card.priority = byId("priority-select").value;
/*@end*/
/*@if due-dates*/
  card.due = byId("due-input").value;
  byId("due-input").value = "";
/*@end*/
  cards.push(card);
  input.value = "";
  input.focus();
  persist();
});

/*@if drag-and-drop*/
for (const list of document.querySelectorAll(".card-list")) {
  list.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    list.classList.add("drop-target");
  });
  list.addEventListener("dragleave", () => list.classList.remove("drop-target"));
  list.addEventListener("drop", (event) => {
    event.preventDefault();
    list.classList.remove("drop-target");
    moveCard(event.dataTransfer.getData("text/plain"), list.dataset.column);
  });
}
/*@end*/
/*@if search*/
byId("search-input").addEventListener("input", render);
/*@end*/
/*@if export*/
byId("export-button").addEventListener("click", () => {
  download(PROJECT + "-board.json", JSON.stringify(cards, null, 2), "application/json");
});
/*@end*/
/*@if import*/
byId("import-input").addEventListener("change", (event) => {
  readJsonFile(event.target, (data) => {
    const known = new Set(cards.map((card) => card.id));
    const incoming = asCards(Array.isArray(data) ? data : []).filter((card) => !known.has(card.id));
    cards = cards.concat(incoming);
    persist();
  });
});
/*@end*/

save(CARDS_KEY, cards);
render();
