"use strict";

/*
 * Drafted by Gantry's offline architect.
 * Every element the script touches is declared in index.html; text a person typed or that came
 * from a data file is only ever inserted with textContent, never parsed as markup.
 */

const PROJECT = {{project_js}};
const STORE = "gantry:" + PROJECT;

function byId(id) {
  const found = document.getElementById(id);
  if (!found) {
    throw new Error("index.html has no element #" + id);
  }
  return found;
}

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  return node;
}

function clear(node) {
  while (node.firstChild) {
    node.removeChild(node.firstChild);
  }
}

function load(key, fallback) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch (error) {
    return fallback;
  }
}

function save(key, value) {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch (error) {
    /* Private browsing or a full quota: the app keeps working for this visit only. */
  }
}

function newId() {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}

function today() {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

function plural(count, one, many) {
  return count + " " + (count === 1 ? one : many);
}

/*@if export*/
function download(filename, text, type) {
  const blob = new Blob([text], { type: type });
  const url = URL.createObjectURL(blob);
  const link = make("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}
/*@end*/

/*@if import*/
function readJsonFile(input, accept) {
  const file = input.files && input.files[0];
  if (!file) {
    return;
  }
  const reader = new FileReader();
  reader.addEventListener("load", () => {
    try {
      accept(JSON.parse(String(reader.result)));
    } catch (error) {
      window.alert("That file could not be imported: " + error.message);
    }
    input.value = "";
  });
  reader.readAsText(file);
}
/*@end*/

/*@if dark-mode*/
function setupSchemeToggle() {
  const button = byId("scheme-toggle");
  const key = STORE + ":alt-scheme";
  const apply = (on) => {
    document.documentElement.classList.toggle("alt-scheme", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
  };
  apply(load(key, false) === true);
  button.addEventListener("click", () => {
    const on = !document.documentElement.classList.contains("alt-scheme");
    apply(on);
    save(key, on);
  });
}

setupSchemeToggle();
/*@end*/

/*@if email*/
function looksLikeEmail(text) {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);
}

function keepLocally(key, entry) {
  const kept = load(key, []);
  const list = Array.isArray(kept) ? kept : [];
  list.push(entry);
  save(key, list);
}
/*@end*/

/*@if contact-form*/
byId("contact-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const status = byId("contact-status");
  const name = byId("contact-name").value.trim();
  const email = byId("contact-email").value.trim();
  const message = byId("contact-message").value.trim();
  if (!name || !message || !looksLikeEmail(email)) {
    status.textContent = "Please fill in your name, a valid email address and a message.";
    return;
  }
  /* A static site has no server: the message is kept in this browser until a form service is wired up. */
  keepLocally(STORE + ":messages", { name: name, email: email, message: message, at: new Date().toISOString() });
  event.target.reset();
  status.textContent = "Thanks, " + name + ". Your message is saved and we will reply to " + email + ".";
});
/*@end*/

/*@if data*/
function loadData(onData, onError) {
  fetch("data.json", { cache: "no-cache" })
    .then((response) => {
      if (!response.ok) {
        throw new Error("data.json answered " + response.status);
      }
      return response.json();
    })
    .then(onData)
    .catch((error) => onError(error));
}

function showLoadError(container, error) {
  clear(container);
  const box = make("p", "notice");
  box.textContent =
    "The content could not be loaded (" +
    error.message +
    "). Serve this folder over HTTP, for example with: python3 -m http.server";
  container.appendChild(box);
}
/*@end*/
