
/* The blog: posts come from data.json; the address (#/, #/post/slug, #/about) picks the view. */

let posts = [];
/*@if tags*/
let activeTag = "";
/*@end*/
/*@if comments*/
const COMMENTS_KEY = STORE + ":comments";
/*@end*/

function formatDate(text) {
  const date = new Date(text + "T12:00:00");
  return Number.isNaN(date.getTime())
    ? text
    : date.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

/*@if reading-time*/
function readingTime(post) {
  const words = post.body.join(" ").split(/\s+/).filter(Boolean).length;
  return Math.max(1, Math.round(words / 200)) + " min read";
}
/*@end*/

function metaLine(post) {
  let line = formatDate(post.date);
/*@if reading-time*/
  line += " \u00b7 " + readingTime(post);
/*@end*/
  return line;
}

function visiblePosts() {
  let shown = posts.slice();
/*@if search*/
  const query = byId("search-input").value.trim().toLowerCase();
  if (query) {
    shown = shown.filter((post) =>
      [post.title, post.summary].concat(post.body, post.tags).join(" ").toLowerCase().includes(query)
    );
  }
/*@end*/
/*@if tags*/
  if (activeTag) {
    shown = shown.filter((post) => post.tags.includes(activeTag));
  }
/*@end*/
  return shown;
}

/*@if tags*/
function renderTagFilter() {
  const bar = byId("tag-filter");
  clear(bar);
  const tags = new Set();
  for (const post of posts) {
    for (const tag of post.tags) {
      tags.add(tag);
    }
  }
  for (const tag of ["all"].concat(Array.from(tags).sort())) {
    const value = tag === "all" ? "" : tag;
    const chip = make("button", "chip", tag === "all" ? "All posts" : "#" + tag);
    chip.type = "button";
    chip.setAttribute("aria-pressed", value === activeTag ? "true" : "false");
    chip.addEventListener("click", () => {
      activeTag = value;
      renderTagFilter();
      renderList();
    });
    bar.appendChild(chip);
  }
}
/*@end*/

function renderList() {
  const list = byId("post-list");
  clear(list);
  const shown = visiblePosts();
  for (const post of shown) {
    const card = make("article", "card post-card");
    const heading = make("h2");
    const link = make("a", "", post.title);
    link.href = "#/post/" + encodeURIComponent(post.slug);
    heading.appendChild(link);
    card.appendChild(heading);
    card.appendChild(make("p", "muted", metaLine(post)));
    card.appendChild(make("p", "", post.summary));
/*@if tags*/
    const tags = make("div", "row");
    for (const tag of post.tags) {
      tags.appendChild(make("span", "chip", "#" + tag));
    }
    card.appendChild(tags);
/*@end*/
    list.appendChild(card);
  }
  byId("posts-empty").hidden = shown.length > 0;
}

/*@if comments*/
function renderComments(post) {
  const list = byId("comment-list");
  clear(list);
  const all = load(COMMENTS_KEY, {});
  const comments = all && Array.isArray(all[post.slug]) ? all[post.slug] : [];
  if (comments.length === 0) {
    list.appendChild(make("li", "muted", "No comments yet. Start the conversation."));
  }
  for (const comment of comments) {
    const item = make("li", "comment");
    item.appendChild(make("strong", "", String(comment.name)));
    item.appendChild(make("span", "muted", " \u00b7 " + new Date(comment.at).toLocaleString()));
    item.appendChild(make("p", "", String(comment.text)));
    list.appendChild(item);
  }
}
/*@end*/

function showPost(post) {
  byId("post-title").textContent = post.title;
  byId("post-meta").textContent = metaLine(post);
/*@if tags*/
  const tags = byId("post-tags");
  clear(tags);
  for (const tag of post.tags) {
    tags.appendChild(make("span", "chip", "#" + tag));
  }
/*@end*/
  const body = byId("post-body");
  clear(body);
  for (const paragraph of post.body) {
    body.appendChild(make("p", "", paragraph));
  }
/*@if comments*/
  byId("comment-form").dataset.slug = post.slug;
  renderComments(post);
/*@end*/
  document.title = post.title + " \u00b7 " + byId("blog-heading").textContent;
}

function route() {
  const hash = window.location.hash || "#/";
  const match = hash.match(/^#\/post\/(.+)$/);
  const post = match ? posts.find((candidate) => candidate.slug === decodeURIComponent(match[1])) : null;
  const about = hash === "#/about";
  byId("list-view").hidden = Boolean(post) || about;
  byId("post-view").hidden = !post;
  byId("about-view").hidden = !about;
  byId("nav-posts").setAttribute("aria-current", !post && !about ? "page" : "false");
  byId("nav-about").setAttribute("aria-current", about ? "page" : "false");
  if (post) {
    showPost(post);
  } else {
    document.title = byId("blog-heading").textContent;
  }
  window.scrollTo(0, 0);
}

/*@if comments*/
byId("comment-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const slug = event.target.dataset.slug;
  const name = byId("comment-name").value.trim();
  const text = byId("comment-text").value.trim();
  const post = posts.find((candidate) => candidate.slug === slug);
  if (!post || !name || !text) {
    return;
  }
  const all = load(COMMENTS_KEY, {}) || {};
  const list = Array.isArray(all[slug]) ? all[slug] : [];
  list.push({ name: name, text: text, at: new Date().toISOString() });
  all[slug] = list;
  save(COMMENTS_KEY, all);
  byId("comment-text").value = "";
  renderComments(post);
});
/*@end*/
/*@if search*/
byId("search-input").addEventListener("input", renderList);
/*@end*/

window.addEventListener("hashchange", route);

loadData(
  (data) => {
    posts = (Array.isArray(data.posts) ? data.posts : []).filter(
      (post) => post && typeof post.slug === "string" && typeof post.title === "string"
    );
    for (const post of posts) {
      post.tags = Array.isArray(post.tags) ? post.tags.map(String) : [];
      post.body = Array.isArray(post.body) ? post.body.map(String) : [];
      post.summary = String(post.summary || "");
    }
    posts.sort((a, b) => String(b.date).localeCompare(String(a.date)));
    byId("about-text").textContent = typeof data.about === "string" ? data.about : "";
/*@if tags*/
    renderTagFilter();
/*@end*/
    renderList();
    route();
  },
  (error) => showLoadError(byId("post-list"), error)
);
