
/* The portfolio: the about text, projects and contact links come from data.json. */

let projects = [];
/*@if tags*/
let activeTag = "";
/*@end*/

function safeHref(href) {
  const text = String(href || "");
  return text.startsWith("mailto:") || text.startsWith("#") ? text : "#contact";
}

function visibleProjects() {
  let shown = projects.slice();
/*@if search*/
  const query = byId("search-input").value.trim().toLowerCase();
  if (query) {
    shown = shown.filter((project) =>
      [project.title, project.summary].concat(project.tags).join(" ").toLowerCase().includes(query)
    );
  }
/*@end*/
/*@if tags*/
  if (activeTag) {
    shown = shown.filter((project) => project.tags.includes(activeTag));
  }
/*@end*/
  return shown;
}

/*@if tags*/
function renderTagFilter() {
  const bar = byId("tag-filter");
  clear(bar);
  const tags = new Set();
  for (const project of projects) {
    for (const tag of project.tags) {
      tags.add(tag);
    }
  }
  for (const tag of ["All"].concat(Array.from(tags).sort())) {
    const value = tag === "All" ? "" : tag;
    const chip = make("button", "chip", tag);
    chip.type = "button";
    chip.setAttribute("aria-pressed", value === activeTag ? "true" : "false");
    chip.addEventListener("click", () => {
      activeTag = value;
      renderTagFilter();
      renderProjects();
    });
    bar.appendChild(chip);
  }
}
/*@end*/

function renderProjects() {
  const grid = byId("project-grid");
  clear(grid);
  const shown = visibleProjects();
  for (const project of shown) {
    const card = make("article", "card project");
    const cover = make("div", "project-cover");
    cover.appendChild(make("span", "", project.title.slice(0, 1).toUpperCase()));
    card.appendChild(cover);
    card.appendChild(make("h3", "", project.title));
    card.appendChild(make("p", "muted project-year", String(project.year)));
    card.appendChild(make("p", "", project.summary));
    const tags = make("div", "row");
    for (const tag of project.tags) {
      tags.appendChild(make("span", "chip", tag));
    }
    card.appendChild(tags);
    grid.appendChild(card);
  }
  byId("projects-empty").hidden = shown.length > 0;
}

function renderLinks(links) {
  const list = byId("contact-links");
  clear(list);
  for (const link of links) {
    const item = make("li");
    const anchor = make("a", "button ghost small", link.label);
    anchor.href = safeHref(link.href);
    item.appendChild(anchor);
    list.appendChild(item);
  }
}

loadData(
  (data) => {
    if (typeof data.about === "string" && data.about) {
      byId("about-text").textContent = data.about;
    }
    projects = (Array.isArray(data.projects) ? data.projects : []).filter(
      (project) => project && typeof project.title === "string" && typeof project.summary === "string"
    );
    for (const project of projects) {
      project.tags = Array.isArray(project.tags) ? project.tags.map(String) : [];
    }
    renderLinks(Array.isArray(data.links) ? data.links : []);
/*@if tags*/
    renderTagFilter();
/*@end*/
    renderProjects();
  },
  (error) => showLoadError(byId("project-grid"), error)
);

/*@if search*/
byId("search-input").addEventListener("input", renderProjects);
/*@end*/
