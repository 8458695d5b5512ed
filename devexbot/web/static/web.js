// devexbot web workspace: live cards over server-sent events, relative times, filters.
(function () {
  "use strict";
  document.documentElement.dataset.loadId = Math.random().toString(36).slice(2);
  const body = document.body;
  const cards = document.getElementById("cards");
  const live = document.querySelector("[data-live]");

  // Times come from the server as <time datetime="…Z" data-when="at|ago">Fri 20 Nov, 10:05 UTC</time>;
  // here they are shown in the reader's own time zone, all in one form.
  const short = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit",
    timeZoneName: "short" });
  const full = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "numeric",
    minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  function ago(ms) {
    const seconds = (Date.now() - ms) / 1000;
    if (seconds < 45) return "just now";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return minutes + " min ago";
    const hours = Math.round(minutes / 60);
    if (hours < 36) return hours + " h ago";
    return Math.round(hours / 24) + " days ago";
  }
  function refreshTimes(root) {
    (root || document).querySelectorAll("time[data-when]").forEach(function (t) {
      const ms = Date.parse(t.getAttribute("datetime"));
      if (!isFinite(ms)) return;
      const when = new Date(ms);
      t.title = full.format(when);
      t.textContent = t.dataset.when === "ago" ? ago(ms) : short.format(when);
    });
  }

  function fromHTML(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }
  function byKey(key) {
    return Array.prototype.find.call(cards.children, function (el) { return el.dataset.key === key; });
  }
  function place(card) {
    // Newest first, by the card's latest event time.
    const updated = card.dataset.updated || "";
    const before = Array.prototype.find.call(cards.children, function (el) {
      return el !== card && (el.dataset.updated || "") < updated;
    });
    cards.insertBefore(card, before || null);
  }
  function showEmpty() {
    const empty = document.getElementById("empty");
    if (empty) empty.hidden = cards.children.length > 0;
  }

  function onCard(data) {
    const existing = byKey(data.key);
    if (existing && Number(existing.dataset.version) >= data.version) return;
    const card = fromHTML(data.html);
    if (existing && existing.querySelector("details.quiet[open]")) {
      const folded = card.querySelector("details.quiet");
      if (folded) folded.open = true; // what the reader unfolded stays unfolded
    }
    if (existing) existing.replaceWith(card);
    if (body.dataset.page === "workspace") {
      place(card);
      const limit = Number(body.dataset.limit || 50);
      while (cards.children.length > limit) cards.lastElementChild.remove();
    } else if (!existing) {
      cards.appendChild(card);
    }
    refreshTimes(card);
    card.classList.add("updated");
    showEmpty();
    if (body.dataset.page === "card") refreshPanels();
  }
  function onDrop(data) {
    const existing = byKey(data.key);
    if (existing) existing.remove();
    showEmpty();
  }

  let refreshing = null;
  function refreshPanels() {
    // The card page's timeline and check table come from the server, as on first load.
    if (refreshing) return;
    refreshing = fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        const doc = new DOMParser().parseFromString(html, "text/html");
        ["all-checks", "timeline", "audit"].forEach(function (id) {
          const fresh = doc.getElementById(id), old = document.getElementById(id);
          if (!fresh || !old) return;
          // What the reader unfolded stays unfolded.
          old.querySelectorAll("details[id][open]").forEach(function (d) {
            const again = fresh.querySelector("#" + d.id);
            if (again) again.open = true;
          });
          old.replaceWith(fresh);
          refreshTimes(fresh);
        });
      })
      .catch(function () {})
      .finally(function () { refreshing = null; });
  }

  function connect() {
    if (!body.dataset.stream || !window.EventSource) return;
    const url = body.dataset.stream + (body.dataset.stream.indexOf("?") >= 0 ? "&" : "?") +
      "since=" + encodeURIComponent(body.dataset.since || "");
    const source = new EventSource(url);
    source.addEventListener("open", function () {
      live.dataset.live = "open"; live.textContent = "live";
    });
    source.addEventListener("error", function () {
      live.dataset.live = "connecting"; live.textContent = "reconnecting…";
    });
    source.addEventListener("card", function (e) { onCard(JSON.parse(e.data)); });
    source.addEventListener("drop", function (e) { onDrop(JSON.parse(e.data)); });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // Filters apply as soon as a choice changes (the Filter button does it without JS).
  const filters = document.querySelector("form.filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { filters.requestSubmit(); });
    });
    filters.addEventListener("submit", function () {
      filters.querySelectorAll("input, select").forEach(function (field) {
        if (!field.value) field.disabled = true; // keep the URL short
      });
    });
  }
  document.addEventListener("submit", function (e) {
    const button = e.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) e.preventDefault();
  });

  refreshTimes();
  setInterval(refreshTimes, 20000);
  connect();
})();
