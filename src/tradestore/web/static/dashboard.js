// tradestore dashboard: refreshes the page's content in place, draws the P&L charts,
// and sends the action buttons' POSTs with the token in a header.
(function () {
  "use strict";
  const body = document.body;
  const base = body.dataset.base || "";
  const every = Math.max(1000, parseInt(body.dataset.refresh || "3000", 10));
  const tokenKey = "tradestore-token";

  // A token handed over in the address fragment (#token=...) never reaches the server
  // logs; keep it for this tab only and take it out of the address bar.
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    sessionStorage.setItem(tokenKey, hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const tokenInput = document.getElementById("token");
  if (tokenInput) {
    tokenInput.value = sessionStorage.getItem(tokenKey) || "";
    tokenInput.addEventListener("input", () => sessionStorage.setItem(tokenKey, tokenInput.value));
  }

  function drawCharts() {
    if (!window.Plotly) { return; }
    document.querySelectorAll(".pnl-chart:not([data-drawn])").forEach((div) => {
      div.dataset.drawn = "1";
      const src = document.getElementById(div.dataset.points);
      if (!src) { return; }
      const points = JSON.parse(src.textContent);
      const days = points.map((p) => p.day);
      const traces = [
        { type: "bar", name: "P&L per day", x: days, y: points.map((p) => p.pnl),
          marker: { color: points.map((p) => (p.pnl >= 0 ? "#16a34a" : "#dc2626")) } },
        { type: "scatter", mode: "lines+markers", name: "cumulative", x: days,
          y: points.map((p) => p.cumulative), line: { color: "#1d4ed8", width: 2 } },
      ];
      const layout = { margin: { l: 50, r: 10, t: 10, b: 30 }, height: 250,
        legend: { orientation: "h", y: 1.12 },
        xaxis: { type: "date", range: [div.dataset.start, div.dataset.end] },
        yaxis: { zeroline: true }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" };
      window.Plotly.react(div, traces, layout, { displayModeBar: false, responsive: true });
    });
  }

  // Each top-level block of the content is replaced only when its HTML changed, so a
  // chart is redrawn only when its data did (the health strip changes every tick).
  const sources = new WeakMap();
  function remember() {
    Array.from(document.getElementById("content").children).forEach((el) => {
      sources.set(el, el.outerHTML);
    });
  }
  function swap(html) {
    const content = document.getElementById("content");
    const fresh = document.createElement("div");
    fresh.innerHTML = html;
    const before = Array.from(content.children);
    const after = Array.from(fresh.children);
    if (before.length !== after.length) {
      content.replaceChildren(...after);
    } else {
      after.forEach((el, i) => {
        if (sources.get(before[i]) !== el.outerHTML) { before[i].replaceWith(el); }
      });
    }
    after.forEach((el) => sources.set(el, el.outerHTML));
    drawCharts();
  }

  let last = null;
  let busy = false;
  async function refresh() {
    if (busy) { return; }
    busy = true;
    try {
      const response = await fetch(location.pathname + location.search,
        { headers: { "X-Tradestore-Fragment": "1" }, cache: "no-store" });
      const html = await response.text();
      if (html !== last) {
        swap(html);
        last = html;
      }
      body.dataset.refreshes = String(parseInt(body.dataset.refreshes || "0", 10) + 1);
      const stamp = document.getElementById("refreshed");
      if (stamp) { stamp.textContent = new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC"; }
    } catch (err) {
      // The server may be restarting: keep the page, try again at the next tick.
    } finally {
      busy = false;
    }
  }

  function flash(text, bad) {
    const box = document.getElementById("flash");
    box.textContent = text;
    box.className = bad ? "bad" : "";
    box.hidden = false;
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) { return; }
    event.preventDefault();
    const id = button.dataset.taskId;
    const action = button.dataset.action;
    const response = await fetch(base + "/api/tasks/" + encodeURIComponent(id) + "/" + action, {
      method: "POST",
      headers: { "X-Tradestore-Token": sessionStorage.getItem(tokenKey) || "" },
    });
    let detail = {};
    try { detail = await response.json(); } catch (err) { detail = {}; }
    if (response.ok) {
      flash(action + " " + id + ": " + detail.status + (detail.active ? "" : " (paused)"), false);
    } else {
      flash(action + " " + id + " refused (" + response.status + "): " + (detail.error || ""), true);
    }
    last = null;
    refresh();
  });

  window.addEventListener("load", () => {
    remember();
    drawCharts();
    setInterval(refresh, every);
  });
})();
