
/* The dashboard: figures come from data.json; the charts are SVG drawn here, no library needed. */

const SVG_NS = "http://www.w3.org/2000/svg";

let data = null;
/*@if sorting*/
let sortKey = "date";
let sortDescending = true;
/*@end*/

function normalise(raw) {
  const series = raw && raw.series ? raw.series : {};
  const breakdown = raw && raw.breakdown ? raw.breakdown : {};
  const numeric = (item) => item && typeof item.value === "number";
  return {
    updated: String((raw && raw.updated) || ""),
    kpis: Array.isArray(raw && raw.kpis) ? raw.kpis.filter(numeric) : [],
    series: {
      label: String(series.label || "Total"),
      unit: String(series.unit || ""),
      points: Array.isArray(series.points) ? series.points.filter(numeric) : [],
    },
    breakdown: {
      unit: String(breakdown.unit || ""),
      items: Array.isArray(breakdown.items) ? breakdown.items.filter(numeric) : [],
    },
    activity: Array.isArray(raw && raw.activity) ? raw.activity.filter((row) => row && typeof row.date === "string") : [],
  };
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const name of Object.keys(attributes || {})) {
    node.setAttribute(name, String(attributes[name]));
  }
  return node;
}

function formatNumber(value, unit) {
  const number = Number(value);
  if (unit === "%") {
    return number.toFixed(1) + "%";
  }
  if (unit === "$") {
    return "$" + number.toLocaleString(undefined, { maximumFractionDigits: 0 });
  }
  return number.toLocaleString(undefined, { maximumFractionDigits: 1 }) + (unit ? " " + unit : "");
}

function compact(value) {
  const number = Math.round(value);
  return Math.abs(number) >= 1000 ? (number / 1000).toFixed(1) + "k" : String(number);
}

function rangeDays() {
  let days = 30;
/*@if filters*/
  days = Number(byId("range-select").value) || 30;
/*@end*/
  return days;
}

function pointsInRange() {
  return data.series.points.slice(-rangeDays());
}

function renderKpis() {
  const grid = byId("kpi-grid");
  clear(grid);
  const points = pointsInRange();
  const total = points.reduce((sum, point) => sum + point.value, 0);
  const range = { label: data.series.label + ", " + plural(points.length, "day", "days"), value: total, unit: data.series.unit };
  for (const kpi of [range].concat(data.kpis)) {
    const card = make("article", "card kpi");
    card.appendChild(make("p", "kpi-label", kpi.label));
    card.appendChild(make("p", "kpi-value", formatNumber(kpi.value, kpi.unit)));
    if (typeof kpi.change === "number") {
      const up = kpi.change >= 0;
      const text = (up ? "\u25b2 " : "\u25bc ") + Math.abs(kpi.change).toFixed(1) + "% on last period";
      card.appendChild(make("p", up ? "kpi-change up" : "kpi-change down", text));
    }
    grid.appendChild(card);
  }
}

function renderLineChart() {
  const box = byId("line-chart");
  clear(box);
  const points = pointsInRange();
  if (points.length === 0) {
    box.appendChild(make("p", "empty", "No figures for this range."));
    return;
  }
  const width = 640;
  const height = 260;
  const pad = 40;
  const values = points.map((point) => point.value);
  const max = Math.max.apply(null, values);
  const min = Math.min(0, Math.min.apply(null, values));
  const spanY = max - min || 1;
  const x = (index) => pad + (index * (width - pad * 2)) / Math.max(1, points.length - 1);
  const y = (value) => height - pad - ((value - min) / spanY) * (height - pad * 2);
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, class: "chart-svg" });

  for (let step = 0; step <= 4; step += 1) {
    const value = min + (spanY * step) / 4;
    chart.appendChild(svg("line", { x1: pad, x2: width - pad / 2, y1: y(value), y2: y(value), class: "grid-line" }));
    const label = svg("text", { x: pad - 8, y: y(value) + 4, "text-anchor": "end", class: "axis-label" });
    label.textContent = compact(value);
    chart.appendChild(label);
  }

  const coordinates = points.map((point, index) => x(index).toFixed(1) + "," + y(point.value).toFixed(1));
  const floor = y(min).toFixed(1);
  const area = "M" + x(0).toFixed(1) + "," + floor + " L" + coordinates.join(" L") + " L" + x(points.length - 1).toFixed(1) + "," + floor + " Z";
  chart.appendChild(svg("path", { d: area, class: "chart-area" }));
  chart.appendChild(svg("polyline", { points: coordinates.join(" "), class: "chart-line" }));
  points.forEach((point, index) => {
    const dot = svg("circle", { cx: x(index), cy: y(point.value), r: 3.5, class: "chart-dot" });
    const tip = svg("title");
    tip.textContent = point.date + ": " + formatNumber(point.value, data.series.unit);
    dot.appendChild(tip);
    chart.appendChild(dot);
  });

  const first = svg("text", { x: pad, y: height - 12, class: "axis-label" });
  first.textContent = points[0].date;
  const last = svg("text", { x: width - pad / 2, y: height - 12, "text-anchor": "end", class: "axis-label" });
  last.textContent = points[points.length - 1].date;
  chart.append(first, last);
  box.appendChild(chart);
}

function renderBarChart() {
  const box = byId("bar-chart");
  clear(box);
  const items = data.breakdown.items;
  if (items.length === 0) {
    box.appendChild(make("p", "empty", "No breakdown to show."));
    return;
  }
  const width = 640;
  const rowHeight = 40;
  const labelWidth = 150;
  const height = items.length * rowHeight + 10;
  const max = Math.max.apply(null, items.map((item) => item.value)) || 1;
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, class: "chart-svg" });
  items.forEach((item, index) => {
    const top = index * rowHeight + 5;
    const middle = top + rowHeight / 2 + 4;
    const barWidth = Math.max(2, ((width - labelWidth - 80) * item.value) / max);
    const label = svg("text", { x: 0, y: middle, class: "axis-label bar-label" });
    label.textContent = String(item.label);
    const bar = svg("rect", {
      x: labelWidth,
      y: top + 8,
      width: barWidth,
      height: rowHeight - 16,
      rx: 5,
      class: index % 2 === 0 ? "chart-bar" : "chart-bar alt",
    });
    const value = svg("text", { x: labelWidth + barWidth + 8, y: middle, class: "axis-label" });
    value.textContent = formatNumber(item.value, data.breakdown.unit);
    chart.append(label, bar, value);
  });
  box.appendChild(chart);
}

/*@if sorting*/
function compareRows(a, b) {
  const left = a[sortKey];
  const right = b[sortKey];
  const order =
    typeof left === "number" && typeof right === "number" ? left - right : String(left).localeCompare(String(right));
  return sortDescending ? -order : order;
}
/*@end*/

function visibleActivity() {
  const points = pointsInRange();
  const since = points.length > 0 ? points[0].date : "";
  let rows = data.activity.filter((row) => row.date >= since);
/*@if search*/
  const query = byId("search-input").value.trim().toLowerCase();
  if (query) {
    rows = rows.filter((row) =>
      [row.date, row.customer, row.item, row.status, row.amount].join(" ").toLowerCase().includes(query)
    );
  }
/*@end*/
  rows = rows.slice().sort((a, b) => b.date.localeCompare(a.date));
/*@if sorting*/
  rows.sort(compareRows);
/*@end*/
  return rows;
}

function renderTable() {
  const body = byId("activity-body");
  clear(body);
  const rows = visibleActivity();
  for (const row of rows) {
    const line = make("tr");
    line.appendChild(make("td", "", row.date));
    line.appendChild(make("td", "", row.customer));
    line.appendChild(make("td", "", row.item));
    line.appendChild(make("td", "num", formatNumber(row.amount, "$")));
    const status = make("td");
    status.appendChild(make("span", "chip status-" + String(row.status).toLowerCase(), row.status));
    line.appendChild(status);
    body.appendChild(line);
  }
  byId("activity-empty").hidden = rows.length > 0;
}

function renderAll() {
  renderKpis();
  renderLineChart();
  renderBarChart();
  renderTable();
}

/*@if export*/
function csvCell(value) {
  let text = String(value);
  if (/^[=+\-@]/.test(text)) {
    text = "'" + text;
  }
  return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

byId("export-button").addEventListener("click", () => {
  if (!data) {
    return;
  }
  const header = ["date", "customer", "item", "amount", "status"];
  const lines = [header.join(",")].concat(
    visibleActivity().map((row) => header.map((key) => csvCell(row[key])).join(","))
  );
  download(PROJECT + "-activity.csv", lines.join("\n") + "\n", "text/csv");
});
/*@end*/
/*@if filters*/
byId("range-select").addEventListener("change", () => {
  if (data) {
    renderAll();
  }
});
/*@end*/
/*@if search*/
byId("search-input").addEventListener("input", () => {
  if (data) {
    renderTable();
  }
});
/*@end*/
/*@if sorting*/
for (const button of document.querySelectorAll("[data-sort]")) {
  button.addEventListener("click", () => {
    const key = button.dataset.sort;
    sortDescending = key === sortKey ? !sortDescending : key === "date" || key === "amount";
    sortKey = key;
    for (const other of document.querySelectorAll("[data-sort]")) {
      const direction = sortDescending ? "descending" : "ascending";
      other.parentElement.setAttribute("aria-sort", other === button ? direction : "none");
    }
    if (data) {
      renderTable();
    }
  });
}
/*@end*/

loadData(
  (raw) => {
    data = normalise(raw);
    if (data.updated) {
      byId("dash-updated").textContent = "Figures up to " + data.updated;
    }
    renderAll();
  },
  (error) => showLoadError(byId("kpi-grid"), error)
);
