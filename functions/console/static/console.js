// Omnistock console: one page, a screen per hash route, everything read and changed through the
// admin API under /console/api. Text from the API only ever reaches the page as text nodes
// (never as HTML), and the token travels in the Authorization header, never in a cookie. The
// token is Cognito's ID token: the API's JWT authorizer takes it (its audience is this client),
// and it names the user (their verified e-mail) for the audit log.
"use strict";

const API = "/console/api";
const state = { config: null, token: null, refresh: null, role: null, who: "", timers: [], generation: 0 };

// ------------------------------------------------------------------ DOM helpers
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "style") node.style.cssText = value; // CSSOM: allowed where a style attribute is not
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const text = (value) => (value === null || value === undefined ? "" : String(value));
const bidi = (value) => h("span", { class: "bidi", dir: "auto" }, text(value));
function field(labelText, input, cls) { return h("label", { class: cls }, labelText, input); }
function table(headers, rows, caption) {
  return h("table", {},
    caption ? h("caption", { class: "muted" }, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col", class: /^(Available|On hand|Held|Pending|Units|Qty|Allocated|Sold|Left|Would show|Last pushed|Before|After|Waited ms)$/.test(name) ? "num" : null }, name)))),
    h("tbody", {}, rows.length ? rows : [h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "Nothing here."))]));
}
function num(value) { return h("td", { class: "num" }, text(value)); }
function say(message, kind) {
  const status = document.getElementById("status");
  status.className = kind || "";
  status.textContent = message || "";
}
function route() {
  const [path, query] = (location.hash.slice(1) || "/inventory").split("?");
  const decoded = (part) => { try { return decodeURIComponent(part); } catch (e) { return part; } };
  return { parts: path.split("/").filter(Boolean).map(decoded), query: new URLSearchParams(query || "") };
}
function go(path, params) {
  const query = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString() : "";
  location.hash = "#" + path + (query ? "?" + query : "");
}
const skuLink = (sku) => h("a", { href: "#/sku/" + encodeURIComponent(sku) }, bidi(sku));
const isAdmin = () => state.role === "admin";
function adminButton(label, onclick, attrs) {
  return h("button", Object.assign({ type: "button", onclick, disabled: !isAdmin(), title: isAdmin() ? null : "Viewers cannot change anything" }, attrs || {}), label);
}
// A timer of a screen that is no longer shown stops itself.
function every(ms, fn) {
  const mine = state.generation;
  const id = setInterval(() => (mine === state.generation ? fn() : clearInterval(id)), ms);
  state.timers.push(id);
}

// ------------------------------------------------------------------ signing in
function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
  } catch (e) { return {}; }
}
function adopt(token, refresh) {
  state.token = token;
  state.refresh = refresh || state.refresh;
  if (state.config.signIn === "dev") {
    state.role = token.endsWith(":viewer") ? "viewer" : "admin";
    state.who = "local " + state.role;
  } else {
    const claims = claimsOf(token);
    const groups = claims["cognito:groups"] || [];
    state.role = groups.includes("admin") ? "admin" : groups.includes("viewer") ? "viewer" : "none";
    state.who = (claims.email || claims["cognito:username"] || claims.sub || "") + " (" + state.role + ")";
  }
  sessionStorage.setItem("omnistock.token", token);
  if (state.refresh) sessionStorage.setItem("omnistock.refresh", state.refresh);
}
async function cognito(target, body) {
  const response = await fetch("https://cognito-idp." + state.config.region + ".amazonaws.com/", {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService." + target },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || data.__type || "sign-in failed");
  return data;
}
async function renewed() {
  if (state.config.signIn !== "cognito" || !state.refresh) return false;
  try {
    const data = await cognito("InitiateAuth", { AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: state.config.clientId, AuthParameters: { REFRESH_TOKEN: state.refresh } });
    adopt(data.AuthenticationResult.IdToken);
    return true;
  } catch (e) { return false; }
}
function signOut() {
  sessionStorage.removeItem("omnistock.token");
  sessionStorage.removeItem("omnistock.refresh");
  state.token = state.refresh = state.role = null;
  render();
}
function signInScreen(main) {
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  const dev = state.config.signIn === "dev";
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const secret = h("input", { id: "password", type: "password", autocomplete: dev ? "off" : "current-password", required: true });
  const form = h("form", { class: "card", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    dev ? h("p", { class: "hint" }, "Local stack: sign in with the dev token (as an admin), or the dev token followed by :viewer (read only).") : null,
    dev ? null : field("E-mail", email),
    field(dev ? "Dev token" : "Password", secret),
    h("p", {}, h("button", { type: "submit" }, "Sign in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (dev) { adopt(secret.value.trim()); render(); return; }
    try {
      const data = await cognito("InitiateAuth", { AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.clientId, AuthParameters: { USERNAME: email.value, PASSWORD: secret.value } });
      if (data.ChallengeName === "NEW_PASSWORD_REQUIRED") return newPasswordScreen(main, email.value, data.Session);
      adopt(data.AuthenticationResult.IdToken, data.AuthenticationResult.RefreshToken);
      render();
    } catch (error) { say(error.message, "error"); }
  });
  main.replaceChildren(form);
  (dev ? secret : email).focus();
}
function newPasswordScreen(main, username, session) {
  const password = h("input", { id: "new-password", type: "password", autocomplete: "new-password", required: true, minlength: 12 });
  const form = h("form", { class: "card" }, h("h1", {}, "Choose your password"),
    h("p", { class: "hint" }, "At least 12 characters, with upper and lower case letters and a number."),
    field("New password", password), h("p", {}, h("button", { type: "submit" }, "Save and sign in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await cognito("RespondToAuthChallenge", { ChallengeName: "NEW_PASSWORD_REQUIRED", ClientId: state.config.clientId, Session: session, ChallengeResponses: { USERNAME: username, NEW_PASSWORD: password.value } });
      adopt(data.AuthenticationResult.IdToken, data.AuthenticationResult.RefreshToken);
      render();
    } catch (error) { say(error.message, "error"); }
  });
  main.replaceChildren(form);
  password.focus();
}

// ------------------------------------------------------------------ the API
class ApiError extends Error { constructor(status, message) { super(message); this.status = status; } }
async function api(method, path, body, retried) {
  const headers = { Authorization: "Bearer " + state.token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    if (!retried && await renewed()) return api(method, path, body, true);
    signOut();
    throw new ApiError(401, "Signed out: sign in again.");
  }
  const raw = await response.text();
  let data = {};
  try { data = raw ? JSON.parse(raw) : {}; } catch (e) { data = { message: raw }; }
  if (!response.ok) {
    const details = (data.errors || []).map((e) => (e.field ? e.field + ": " : "") + e.problem).join("; ");
    throw new ApiError(response.status, (data.message || "HTTP " + response.status) + (details ? " (" + details + ")" : ""));
  }
  return data;
}
async function act(label, work) {
  say(label + "…");
  try { const result = await work(); say(label + ": done", "done"); return result; }
  catch (error) { say(label + ": " + error.message, "error"); return null; }
}
let channelsCache = null;
async function channels() {
  if (!channelsCache) channelsCache = (await api("GET", "/channels")).channels;
  return channelsCache;
}
function channelSelect(list, id, withAll) {
  return h("select", { id }, withAll ? h("option", { value: "" }, "All channels") : null,
    list.map((c) => h("option", { value: c.channel }, c.channel + (c.mode === "shadow" ? " (shadow)" : ""))));
}

// ------------------------------------------------------------------ latency panel
async function latencyPanel() {
  const panel = h("section", { class: "grid", "aria-label": "Push latency, last hour" });
  try {
    const l = await api("GET", "/latency");
    const ms = (v) => (v === null ? "–" : v + " ms");
    panel.append(
      h("div", { class: "metric" }, "Sale to channel, p50", h("b", {}, ms(l.p50_ms))),
      h("div", { class: "metric" }, "p99", h("b", {}, ms(l.p99_ms))),
      h("div", { class: "metric" }, "Pushes, last hour", h("b", {}, l.pushes)));
  } catch (error) { panel.append(h("p", { class: "bad" }, error.message)); }
  return panel;
}

// ------------------------------------------------------------------ screens
const screens = {
  async inventory(main, r) {
    const prefix = r.query.get("prefix") || "";
    const after = r.query.get("after") || "";
    const state = r.query.get("state") || "";
    const list = await channels();
    const pushed = list.filter((c) => c.platform);
    const inChannel = r.query.get("channel") || (pushed[0] || list[0] || {}).channel || "";
    const filter = Object.assign({ prefix }, state ? { state, channel: inChannel } : {});
    const page = await api("GET", "/skus?" + new URLSearchParams(Object.assign({ after, limit: "50", channels: "true" }, filter)));
    const search = h("input", { id: "prefix", type: "search", value: prefix, placeholder: "e.g. TEE-" });
    const states = h("select", { id: "state" }, [["", "Any state"], ["paused", "Paused"], ["auto_sync_off", "Auto sync off"], ["push_failed", "Last push failed"], ["shortfall", "Shortfall (promises more than it counts)"]].map(([v, l]) => h("option", { value: v }, l)));
    states.value = state;
    const on = channelSelect(list, "state-channel");
    on.value = inChannel;
    const form = h("form", { class: "bar", role: "search" }, field("SKU starts with", search), field("State", states), field("On channel", on), h("button", { type: "submit" }, "Search"));
    form.addEventListener("submit", (e) => { e.preventDefault(); go("/inventory", Object.assign({ prefix: search.value.trim() }, states.value ? { state: states.value, channel: on.value } : {})); });
    const boxes = [];
    const rows = page.skus.map((row) => {
      const box = h("input", { type: "checkbox", value: row.sku, "aria-label": "Select " + row.sku });
      boxes.push(box);
      return h("tr", {}, h("td", {}, box), h("td", {}, skuLink(row.sku)), h("td", {}, bidi(row.title)), num(row.available),
        h("td", {}, row.locations.map((l) => h("div", {}, l.location + ": " + l.available + " (on hand " + l.on_hand + ", held " + l.held + ", pending " + l.pending + ")"))),
        pushed.map((c) => channelCell(row, c.channel)));
    });
    const all = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select every SKU on this page" });
    all.addEventListener("change", () => boxes.forEach((b) => { b.checked = all.checked; }));
    const chosen = () => boxes.filter((b) => b.checked).map((b) => b.value);
    const target = channelSelect(list.filter((c) => c.platform), "bulk-channel");
    const buffer = h("input", { id: "bulk-buffer", type: "number", min: "0", style: "width:6rem" });
    const cap = h("input", { id: "bulk-cap", type: "number", min: "0", style: "width:6rem" });
    const everything = h("input", { type: "checkbox", id: "all-in-filter" });
    const bulk = (label, changes) => adminButton(label, async () => {
      if (everything.checked) {
        if (state && target.value !== inChannel) return say("The filter's state is on " + inChannel + ": apply it to that channel.", "error");
        const job = await act(label + " on every SKU in this filter", () => api("POST", "/policies/jobs", Object.assign({ channel: target.value, prefix }, state ? { state } : {}, changes())));
        if (job) { rememberJob(job.job_id); go("/jobs"); }
        return;
      }
      const skus = chosen();
      if (!skus.length) return say("Select one or more SKUs first.", "error");
      const done = await act(label + " on " + skus.length + " SKUs", () => api("POST", "/policies", Object.assign({ channel: target.value, skus }, changes())));
      if (done) say(label + ": " + done.changed + " of " + done.skus + " SKUs changed; their pushes are in the sync history.", "done");
    });
    const syncNow = adminButton("Sync Now", async () => {
      if (everything.checked) {
        if (state && target.value !== inChannel) return say("The filter's state is on " + inChannel + ": apply it to that channel.", "error");
        const job = await act("Sync Now of every SKU in this filter", () => api("POST", "/sync-now/filter", Object.assign({ channel: target.value, prefix }, state ? { state } : {})));
        if (job) { rememberJob(job.job_id); go("/jobs"); }
        return;
      }
      const skus = chosen();
      if (!skus.length) return say("Select one or more SKUs first.", "error");
      const job = await act("Sync Now", () => api("POST", "/sync-now", { channel: target.value, skus }));
      if (job) { rememberJob(job.job_id); go("/jobs"); }
    });
    main.replaceChildren(
      h("h1", {}, "Inventory"), await latencyPanel(), form,
      h("div", { class: "bar", role: "group", "aria-label": "Bulk actions on the selected SKUs" },
        field("Apply to channel", target), field("All in this filter (a job)", everything, "inline"),
        bulk("Auto sync on", () => ({ auto_sync: true })), bulk("Auto sync off", () => ({ auto_sync: false })),
        bulk("Pause", () => ({ paused: true })), bulk("Resume", () => ({ paused: false })),
        field("Buffer", buffer), bulk("Set buffer", () => ({ buffer: buffer.value === "" ? null : Number(buffer.value) })),
        field("Cap", cap), bulk("Set cap", () => ({ max_shown: cap.value === "" ? null : Number(cap.value) })), syncNow),
      table([h("span", {}, all), "SKU", "Title", "Available", "By location", ...pushed.map((c) => c.channel)], rows),
      h("p", { class: "bar" },
        after ? h("a", { href: "#/inventory?" + new URLSearchParams(filter) }, "First page") : null,
        page.next ? h("a", { href: "#/inventory?" + new URLSearchParams(Object.assign({ after: page.next }, filter)), id: "next-page" }, "Next page") : null));
  },

  async sku(main, r) {
    const sku = r.parts[1];
    const path = "/skus/" + encodeURIComponent(sku);
    const [stock, views, moves, history] = await Promise.all([
      api("GET", path + "?movements=0"), api("GET", path + "/channels"),
      api("GET", path + "/movements?limit=200"), api("GET", "/sync-history?" + new URLSearchParams({ sku, limit: "20" }))]);
    const levels = stock.locations.map((l) => h("tr", {}, h("td", {}, l.location), num(l.on_hand), num(l.held), num(l.pending), num(l.available),
      h("td", {}, Object.entries(views.held_by[l.location] || {}).map(([source, units]) => h("div", {}, units + " in " + source + " carts"))),
      h("td", {}, l.shortfall ? h("span", { class: "bad" }, "short " + l.shortfall) : ""),
      h("td", {}, l.pending_lots.map((lot) => h("div", {}, lot.qty + " × " + lot.lot + " (sold " + lot.sold_at + ") — cleared when the master's count includes it, or confirm it")))));
    const channelRows = views.channels.map((c) => h("tr", {}, h("td", {}, c.channel, c.mode === "shadow" ? h("div", { class: "warn" }, "shadow") : null),
      h("td", {}, c.listing ? bidi(c.listing) : h("span", { class: "warn" }, "not mapped")),
      h("td", {}, "auto sync " + (c.auto_sync === null ? "channel default" : c.auto_sync ? "on" : "off") + (c.paused ? ", paused" : "") +
        (c.buffer !== null ? ", buffer " + c.buffer : "") + (c.max_shown !== null ? ", cap " + c.max_shown : "") + (c.allocation ? ", allocation " + c.allocation : "")),
      num(c.would_show === null ? "–" : c.would_show), h("td", {}, h("ol", { class: "steps" }, c.steps.map((s) => h("li", {}, s)))),
      num(c.pushed === null ? "–" : c.pushed), h("td", {}, text(c.pushed_at)),
      h("td", {}, adminButton(c.auto_sync === false ? "Turn auto sync on" : "Turn auto sync off", async () => {
        if (await act("Auto sync on " + c.channel, () => api("POST", "/policies", { channel: c.channel, skus: [sku], auto_sync: c.auto_sync === false }))) render();
      }))));
    const ordered = moves.movements.slice().reverse();
    const moveRows = moves.movements.map((m) => h("tr", {}, h("td", {}, m.at), h("td", {}, m.location), h("td", {}, m.kind), h("td", {}, bidi(m.source + " " + m.event_id)),
      h("td", {}, bidi(m.note)), num(m.before.available), num(m.after.available), num(m.after.on_hand)));
    const csv = h("button", { type: "button", class: "secondary", onclick: () => download(sku + "-movements.csv", movementsCsv(sku, ordered)) }, "Download movements (CSV)");
    main.replaceChildren(
      h("h1", {}, "SKU ", bidi(sku), " — ", bidi(stock.catalog.title)),
      h("div", { class: "grid" }, h("div", { class: "metric" }, "Available", h("b", { id: "available" }, stock.available))),
      h("h2", {}, "By location"),
      table(["Location", "On hand", "Held", "Pending", "Available", "Held by", "Shortfall", "Pending lots"], levels),
      h("h2", {}, "On each channel: what it shows and why"),
      table(["Channel", "Listing", "Policy", "Would show", "How", "Last pushed", "Pushed at", ""], channelRows),
      h("h2", {}, "Available over time"), chart(ordered),
      h("h2", {}, "Movements"), h("p", {}, csv),
      table(["At", "Location", "Kind", "Cause", "Note", "Before", "After", "On hand"], moveRows),
      h("h2", {}, "Sync history"), historyTable(history.entries));
  },

  async history(main, r) {
    const list = await channels();
    const channel = r.query.get("channel") || "";
    const failed = r.query.get("failed") === "1";
    const bySku = r.query.get("sku") || "";
    const data = await api("GET", "/sync-history?" + new URLSearchParams(Object.assign({ limit: "100" }, bySku ? { sku: bySku } : {}, channel ? { channel } : {}, failed ? { failed: "true" } : {})));
    const pick = channelSelect(list, "history-channel", true);
    pick.value = channel;
    const onlyFailed = h("input", { type: "checkbox", id: "only-failed", checked: failed });
    const sku = h("input", { id: "history-sku", value: r.query.get("sku") || "" });
    const form = h("form", { class: "bar" }, field("SKU", sku), field("Channel", pick), field("Failed only", onlyFailed, "inline"), h("button", { type: "submit" }, "Show"));
    form.addEventListener("submit", (e) => { e.preventDefault(); go("/history", { sku: sku.value.trim(), channel: pick.value, failed: onlyFailed.checked ? "1" : "" }); });
    main.replaceChildren(h("h1", {}, "Sync history"), await latencyPanel(), form, historyTable(data.entries, true));
  },

  async problems(main, r) {
    const kind = r.query.get("kind") || "";
    const data = await api("GET", "/problems?" + new URLSearchParams({ kind, limit: "100" }));
    const pick = h("select", { id: "problem-kind" }, ["", "failed", "unmapped", "rejected", "unknown_order", "shortfall", "not_imported"].map((k) => h("option", { value: k }, k || "All kinds")));
    pick.value = kind;
    pick.addEventListener("change", () => go("/problems", { kind: pick.value }));
    const list = await channels();
    const rows = data.problems.map((p) => {
      const actions = h("td", {});
      if (p.kind === "unmapped" && !/^(line|product):/.test(p.subject)) actions.append(addToCatalogForm(p, list));
      if (p.actions.includes("retry")) actions.append(adminButton("Retry", async () => { if (await act("Retry " + p.subject, () => api("POST", "/problems/retry", { id: p.id }))) render(); }));
      actions.append(adminButton("Dismiss", async () => { if (await act("Dismiss", () => api("POST", "/problems/dismiss", { id: p.id }))) render(); }, { class: "secondary" }));
      return h("tr", {}, h("td", {}, p.kind), h("td", {}, p.channel), h("td", {}, /^(line|product|order|webhook):/.test(p.subject) ? bidi(p.subject) : skuLink(p.subject)),
        h("td", {}, bidi(p.why), h("div", { class: "bad" }, p.message ? p.message + " (" + p.error + ")" : bidi(p.error)), h("div", { class: "hint" }, p.hint)), h("td", {}, p.at), actions);
    });
    const old = await api("GET", "/problems/pending-lots?older_than_hours=24");
    const lotRows = old.lots.map((l) => h("tr", {}, h("td", {}, skuLink(l.sku)), h("td", {}, l.location), h("td", {}, bidi(l.lot)), num(l.units), h("td", {}, l.sold_at)));
    main.replaceChildren(h("h1", {}, "Problems"), h("div", { class: "bar" }, field("Kind", pick)), table(["Kind", "Channel or location", "Subject", "What happened", "At", "Fix"], rows),
      h("h2", {}, "Pending for more than " + old.older_than_hours + " hours"), h("p", { class: "hint" }, old.hint),
      table(["SKU", "Location", "Lot", "Units", "Sold"], lotRows));
  },

  async orders(main, r) {
    const day = r.query.get("day") || new Date().toISOString().slice(0, 10);
    const data = await api("GET", "/orders?" + new URLSearchParams({ day, after: r.query.get("after") || "" }));
    const input = h("input", { type: "date", id: "order-day", value: day });
    const number = h("input", { id: "order-id" });
    const list = await channels();
    const pick = channelSelect(list, "order-channel");
    const byDay = h("form", { class: "bar" }, field("Changed on", input), h("button", { type: "submit" }, "Show"));
    byDay.addEventListener("submit", (e) => { e.preventDefault(); go("/orders", { day: input.value }); });
    const byId = h("form", { class: "bar" }, field("Channel", pick), field("Order id", number), h("button", { type: "submit" }, "Open"));
    byId.addEventListener("submit", (e) => { e.preventDefault(); go("/order/" + encodeURIComponent(pick.value) + "/" + encodeURIComponent(number.value.trim())); });
    const rows = data.orders.map((o) => h("tr", {}, h("td", {}, h("a", { href: "#/order/" + encodeURIComponent(o.channel) + "/" + encodeURIComponent(o.order_id) }, bidi(o.number || o.order_id))),
      h("td", {}, o.channel), h("td", {}, o.status), h("td", {}, o.modified_at), num(o.lines), h("td", {}, o.ship_to_country)));
    const imports = h("div", { class: "card" }, h("h2", {}, "Web orders into the POS"),
      h("p", { class: "hint" }, "Write Shopify's orders into Lightspeed by hand (setting lightspeed.web_orders): new ones since the last import, or all of the last 60 days (Shopify's limit). Orders in the POS already change nothing."),
      h("p", {}, adminButton("Import new orders", () => startImport("new")), " ", adminButton("Import all orders (60 days)", () => startImport("all"), { class: "secondary" })),
      h("p", { id: "pos-import", role: "status" }));
    const startImport = async (scope) => {
      const job = await act("Import " + scope + " orders", () => api("POST", "/pos-sales/imports", { scope }));
      if (job) { remember("omnistock.posimports", job.job_id); showImport(); }
    };
    const showImport = async () => {
      const [id] = recall("omnistock.posimports");
      if (!id) return;
      const j = await api("GET", "/pos-sales/imports/" + id);
      const counts = Object.entries(j.reasons).map(([k, n]) => k + " " + n).join(", ") || "no orders yet";
      document.getElementById("pos-import")?.replaceChildren("Import " + id.slice(0, 8) + ": " + j.state + ", " + j.done + " read: " + counts,
        j.failed ? h("span", {}, " · ", h("a", { href: "#/problems?kind=not_imported" }, j.failed + " refused: why")) : "");
    };
    every(2000, showImport);
    main.replaceChildren(h("h1", {}, "Orders"), byDay, byId, imports,
      h("p", { class: "hint" }, "Orders that need shipping, by the day they last changed (what ShipStation's export offers)."),
      table(["Order", "Channel", "Status", "Changed", "Lines", "Ships to"], rows),
      data.next ? h("p", {}, h("a", { href: "#/orders?" + new URLSearchParams({ day, after: data.next }) }, "More")) : null);
    await showImport();
  },

  async order(main, r) {
    const [channel, id] = [r.parts[1], r.parts[2]];
    const path = "/orders/" + encodeURIComponent(channel) + "/" + encodeURIComponent(id);
    const o = await api("GET", path);
    const lines = o.lines.map((l) => h("tr", {}, h("td", {}, l.sku ? skuLink(l.sku) : ""), h("td", {}, bidi(l.title)), num(l.quantity), num(l.fulfilled), num(l.taken), h("td", {}, l.location)));
    const shipments = o.shipments.map((s) => h("tr", {}, h("td", {}, bidi(s.shipment_id)), h("td", {}, bidi(s.carrier)), h("td", {}, bidi(s.tracking_number)), h("td", {}, text(s.shipped_at)), h("td", {}, text(s.state || s.status))));
    const offered = o.on_hold === null ? "not offered until the Shopify poll has read it (a webhook cannot show a hold)"
      : ["awaiting_shipment", "partially_shipped", "on_hold", "awaiting_payment"].includes(o.status) ? "offered in its export" : "not offered (" + o.status + ")";
    const posSales = (o.pos_sales || []).map((d) => h("tr", {}, h("td", {}, text(d.receipt || "—")), h("td", {}, d.number ? "later change " + d.number : "the order's sale"),
      h("td", {}, d.register_id), h("td", {}, Object.entries(d.units).map(([sku, n]) => sku + " × " + n).join(", ")),
      h("td", { class: d.state === "created" ? "ok" : d.state === "refused" ? "bad" : "warn" }, d.state + (d.error ? ": " + d.error : "")),
      h("td", {}, d.paid ? "paid" : "on account"), h("td", {}, d.confirmed ? "confirmed at " + d.version : "waiting")));
    main.replaceChildren(h("h1", {}, "Order ", bidi(o.number || o.order_id), " (", o.channel, ")"),
      h("p", {}, "Status: ", h("b", {}, o.status), " · changed ", o.modified_at, " · ShipStation: ", offered),
      h("p", {}, adminButton("Refresh for ShipStation", async () => { if (await act("Refresh for ShipStation", () => api("POST", path + "/refresh", {}))) render(); })),
      h("h2", {}, "Lines"), table(["SKU", "Title", "Qty", "Fulfilled", "Taken from stock", "Location"], lines),
      h("h2", {}, "Shipments"), table(["Shipment", "Carrier", "Tracking", "Shipped", "State"], shipments),
      posSales.length ? h("h2", {}, "In the POS") : null,
      posSales.length ? table(["Receipt", "Document", "Register", "Units", "State", "Payment", "Pending units"], posSales) : null);
  },

  async live(main, r) {
    if (r.parts[1]) return liveBoard(main, r.parts[1]);
    const list = await channels();
    const id = h("input", { id: "event-id", required: true, pattern: "[A-Za-z0-9_.:\\-]{1,100}" });
    const pick = channelSelect(list, "event-channel");
    const allocations = h("textarea", { id: "allocations", rows: "4", cols: "30", placeholder: "SKU=units, one a line" });
    const form = h("form", { class: "card" }, h("h2", {}, "Start a live event"), h("div", { class: "bar" }, field("Event id", id), field("Channel", pick), field("Allocations", allocations)),
      h("button", { type: "submit", disabled: !isAdmin() }, "Start"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const pairs = {};
      for (const line of allocations.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const [sku, units] = line.split("=");
        pairs[sku.trim()] = Number(units);
      }
      const started = await act("Start " + id.value, () => api("POST", "/live-events", { event_id: id.value.trim(), channel: pick.value, allocations: pairs }));
      if (started) { remember("omnistock.events", started.event_id); go("/live/" + encodeURIComponent(started.event_id)); }
    });
    const recent = recall("omnistock.events").map((e) => h("li", {}, h("a", { href: "#/live/" + encodeURIComponent(e) }, e)));
    main.replaceChildren(h("h1", {}, "Live events"), form, h("h2", {}, "Opened here"), recent.length ? h("ul", {}, recent) : h("p", { class: "muted" }, "None yet."));
  },

  async jobs(main) {
    const list = await channels();
    const pick = channelSelect(list.filter((c) => c.platform), "job-channel", true);
    const skus = h("textarea", { id: "job-skus", rows: "3", cols: "30", placeholder: "SKUs, one a line (empty: the whole catalog)" });
    const form = h("form", { class: "card" }, h("h2", {}, "Sync Now"), h("div", { class: "bar" }, field("Channel", pick), field("SKUs", skus)), h("button", { type: "submit", disabled: !isAdmin() }, "Start"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = skus.value.split("\n").map((s) => s.trim()).filter(Boolean);
      const job = await act("Sync Now", () => api("POST", "/sync-now", Object.assign({}, pick.value ? { channel: pick.value } : {}, chosen.length ? { skus: chosen } : {})));
      if (job) { rememberJob(job.job_id); render(); }
    });
    const body = h("tbody", {});
    const refresh = async () => {
      const rows = [];
      const running = (await api("GET", "/sync-now")).jobs.map((j) => j.job_id);
      for (const id of [...new Set([...running, ...recall("omnistock.jobs")])]) {
        try {
          const j = await api("GET", "/sync-now/" + id);
          const share = j.total ? Math.round((100 * j.done) / j.total) : 100;
          rows.push(h("tr", {}, h("td", {}, id.slice(0, 8)), h("td", {}, j.channel || "all"), h("td", {}, j.purpose), h("td", {}, j.state),
            h("td", {}, h("span", { class: "progress", role: "progressbar", "aria-valuenow": share, "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": "Progress of " + id.slice(0, 8) }, h("span", { style: "width:" + share + "%" })), " ", j.done + " / " + j.total),
            num(j.applied), h("td", { class: j.failed ? "num bad" : "num" }, j.failed ? h("a", { href: "#/history?" + new URLSearchParams({ channel: j.channel || "", failed: "1" }) }, j.failed + " failed: why") : "0")));
        } catch (error) { rows.push(h("tr", {}, h("td", { colspan: "7", class: "bad" }, id.slice(0, 8) + ": " + error.message))); }
      }
      body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: "7", class: "muted" }, "No job is running, and none was started from this browser."))]));
    };
    await refresh();
    every(2000, refresh);
    main.replaceChildren(h("h1", {}, "Sync Now jobs"), form,
      h("table", {}, h("thead", {}, h("tr", {}, ["Job", "Channel", "Purpose", "State", "Progress", "Pushed or changed", "Failed"].map((n) => h("th", { scope: "col" }, n)))), body));
  },

  async connections(main) {
    const [check, list, settings] = await Promise.all([api("GET", "/connections"), api("GET", "/channels"), api("GET", "/settings")]);
    const checks = check.checks.map((c) => h("tr", {}, h("td", {}, c.platform), h("td", {}, c.name), h("td", { class: c.ok ? "ok" : "bad" }, c.ok ? "OK" : "Problem"), h("td", {}, bidi(c.detail)), h("td", {}, bidi(c.fix))));
    const channelRows = list.channels.map((c) => {
      const cell = h("td", {});
      if (c.platform) {
        cell.append(adminButton("Preview", async () => { if (await act("Preview " + c.channel, () => api("POST", "/channels/" + c.channel + "/preview", {}))) render(); }, { class: "secondary" }),
          " ", h("button", { type: "button", class: "secondary", onclick: () => showPreview(c.channel) }, "Show preview"));
        if (c.mode === "shadow") {
          const confirm = adminButton("Confirm: go live", async () => { if (await act("Go live " + c.channel, () => api("POST", "/channels/" + c.channel + "/go-live", {}))) { channelsCache = null; render(); } }, { hidden: true });
          cell.append(" ", adminButton("Go live", () => { confirm.hidden = false; confirm.focus(); }), " ", confirm);
        } else {
          cell.append(" ", adminButton("Back to shadow", async () => { if (await act("Shadow " + c.channel, () => api("POST", "/channels/" + c.channel + "/shadow", {}))) { channelsCache = null; render(); } }, { class: "secondary" }));
        }
      }
      return h("tr", {}, h("td", {}, c.channel), h("td", {}, c.platform || "—"), h("td", { class: c.mode === "shadow" ? "warn" : "ok" }, c.mode), h("td", {}, c.locations.join(", ")), cell);
    });
    const settingRows = settings.settings.map((s) => {
      const input = h("input", { value: JSON.stringify(s.value), "aria-label": "Value of " + s.name, size: "30" });
      return h("tr", {}, h("td", {}, s.name), h("td", {}, s.description), h("td", {}, input, " ", adminButton("Save", async () => {
        let value;
        try { value = JSON.parse(input.value); } catch (e) { return say(s.name + ": the value is not JSON (quote text: \"like this\")", "error"); }
        if (await act("Save " + s.name, () => api("PUT", "/settings/" + s.name, { value }))) render();
      })), h("td", {}, text(s.updated_by)));
    });
    main.replaceChildren(h("h1", {}, "Connections"),
      h("p", {}, check.ok ? h("b", { class: "ok" }, "Every check passes.") : h("b", { class: "bad" }, "Some checks fail: see the fix on each.")),
      table(["Platform", "Check", "Result", "Detail", "Fix"], checks),
      h("h2", {}, "Channels"), table(["Channel", "Platform", "Mode", "Locations", "Shadow preview and going live"], channelRows),
      h("div", { id: "preview" }),
      h("h2", {}, "Settings"), table(["Setting", "What it does", "Value (JSON)", "Changed by"], settingRows));
  },
};

// One channel's column on an inventory row: what it is made to show, what was last pushed, and
// whether the last push failed.
function channelCell(row, channel) {
  const cell = (row.channels || {})[channel];
  if (!row.listings[channel]) return h("td", {}, h("span", { class: "warn" }, "not listed"));
  if (!cell) return h("td", {});
  const shows = cell.would_show === null ? h("span", { class: "muted" }, "auto sync off") : "shows " + cell.would_show;
  const pushed = cell.pushed === null ? "never pushed" : cell.pushed === cell.would_show ? "pushed ✓" : "pushed " + cell.pushed;
  return h("td", {}, h("div", {}, shows), h("div", { class: cell.failed ? "bad" : "muted" }, cell.failed ? "last push failed" : pushed));
}

async function liveBoard(main, eventId) {
  const path = "/live-events/" + encodeURIComponent(eventId);
  const body = h("tbody", {});
  const head = h("p", {});
  const end = adminButton("End the event", async () => { if (await act("End " + eventId, () => api("POST", path + "/end", {}))) render(); });
  const refresh = async () => {
    const board = await api("GET", path + "/board");
    head.replaceChildren("Channel ", board.event.channel, " · ", h("b", {}, board.event.state), " · started ", board.event.started_at, board.event.ended_at ? " · ended " + board.event.ended_at : "");
    end.hidden = board.event.state !== "running";
    body.replaceChildren(...board.rows.map((row) => h("tr", {}, h("td", {}, skuLink(row.sku)), num(row.allocated), num(row.held), num(row.sold), num(row.left))));
  };
  await refresh();
  every(3000, () => refresh().catch((error) => say(error.message, "error")));
  main.replaceChildren(h("h1", {}, "Live event ", bidi(eventId)), head, h("p", { class: "hint" }, "Refreshes every 3 seconds."), end,
    h("table", {}, h("thead", {}, h("tr", {}, ["SKU", "Allocated", "Held", "Sold", "Left"].map((n) => h("th", { scope: "col", class: n === "SKU" ? null : "num" }, n)))), body));
}

async function showPreview(channel) {
  const data = await act("Preview of " + channel, () => api("GET", "/channels/" + channel + "/preview?limit=100"));
  if (!data) return;
  const rows = data.lines.map((l) => h("tr", {}, h("td", {}, skuLink(l.sku)), num(l.shown === null ? "–" : l.shown), num(l.would_set === null ? "–" : l.would_set), h("td", {}, l.reasons.join(", "))));
  const job = data.preview;
  document.getElementById("preview").replaceChildren(h("h2", {}, "Preview of ", channel),
    h("p", {}, job ? job.state + ": " + job.done + " of " + job.total + " SKUs read, " + job.differing + " would change" : "No preview yet: press Preview."),
    table(["SKU", "Shows now", "Would set", "Why"], rows));
}

function historyTable(entries, withRetry) {
  const rows = entries.map((e) => h("tr", {}, h("td", {}, e.at), h("td", {}, e.channel), h("td", {}, /^(line|product|order|webhook):/.test(e.sku) ? bidi(e.sku) : skuLink(e.sku)),
    h("td", { class: e.result === "failed" || e.result === "unmapped" || e.result === "rejected" ? "bad" : e.result === "applied" ? "ok" : null }, e.result),
    num(e.before), num(e.after), h("td", {}, bidi(e.why), e.error ? h("div", { class: "bad" }, e.message ? e.message + " (" + e.error + ")" : bidi(e.error)) : null, e.hint ? h("div", { class: "hint" }, e.hint) : null),
    num(e.waited_ms === null ? "" : e.waited_ms),
    withRetry && e.result === "failed" ? h("td", {}, adminButton("Retry", async () => {
      const job = await act("Retry " + e.sku, () => api("POST", "/sync-now", { channel: e.channel, skus: [e.sku] }));
      if (job) rememberJob(job.job_id);
    })) : h("td", {})));
  return table(["At", "Channel", "Subject", "Result", "Before", "After", "Why", "Waited ms", ""], rows);
}

function addToCatalogForm(problem, list) {
  const channel = list.find((c) => c.channel === problem.channel);
  const locations = h("input", { value: channel ? channel.locations.join(",") : "", size: "14", placeholder: "locations", "aria-label": "Locations for " + problem.subject });
  const title = h("input", { size: "14", placeholder: "title", "aria-label": "Title for " + problem.subject });
  const form = h("form", { class: "bar" }, locations, title, h("button", { type: "submit", disabled: !isAdmin() }, "Add to catalog and retry"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const added = await act("Add " + problem.subject, () => api("PUT", "/skus/" + encodeURIComponent(problem.subject),
      { locations: locations.value.split(",").map((l) => l.trim()).filter(Boolean), title: title.value }));
    if (added && await act("Retry " + problem.subject, () => api("POST", "/problems/retry", { id: problem.id }))) render();
  });
  return form;
}

function chart(movements) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 700 160");
  svg.setAttribute("role", "img");
  const byLocation = {};
  const points = movements.map((m) => { byLocation[m.location] = m.after.available; return [Date.parse(m.at), Object.values(byLocation).reduce((a, b) => a + b, 0)]; });
  if (points.length) points.push([Math.max(Date.now(), points[points.length - 1][0] + 1), points[points.length - 1][1]]); // held until now
  svg.setAttribute("aria-label", points.length ? "Available over time, from " + points[0][1] + " to " + points[points.length - 1][1] : "No movements yet");
  if (points.length) {
    const [t0, t1] = [points[0][0], points[points.length - 1][0] || points[0][0] + 1];
    const top = Math.max(1, ...points.map((p) => p[1]));
    const x = (t) => 30 + (660 * (t - t0)) / Math.max(1, t1 - t0);
    const y = (v) => 140 - (120 * v) / top;
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map((p, i) => (i ? x(p[0]) + "," + y(points[i - 1][1]) + " " : "") + x(p[0]) + "," + y(p[1])).join(" "));
    svg.append(line);
    for (const [value, yy] of [[top, y(top)], [0, y(0)]]) {
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", "2"); label.setAttribute("y", String(yy + 4));
      label.textContent = String(value);
      svg.append(label);
    }
  }
  return svg;
}

function movementsCsv(sku, movements) {
  // A cell starting with = + - @ would be a formula in a spreadsheet: quote it as text.
  const cell = (value) => { let v = text(value); if (/^[=+\-@\t\r]/.test(v)) v = "'" + v; return '"' + v.replace(/"/g, '""') + '"'; };
  const head = ["sku", "at", "location", "kind", "source", "event_id", "note", "on_hand_before", "on_hand_after", "held_after", "pending_after", "available_before", "available_after"];
  const rows = movements.map((m) => [sku, m.at, m.location, m.kind, m.source, m.event_id, m.note, m.before.on_hand, m.after.on_hand, m.after.held, m.after.pending, m.before.available, m.after.available]);
  return [head, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}
function download(name, content) {
  const link = h("a", { href: URL.createObjectURL(new Blob([content], { type: "text/csv" })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}
function recall(key) { try { return JSON.parse(sessionStorage.getItem(key) || "[]"); } catch (e) { return []; } }
function remember(key, value) { sessionStorage.setItem(key, JSON.stringify([value, ...recall(key).filter((v) => v !== value)].slice(0, 20))); }
function rememberJob(id) { remember("omnistock.jobs", id); }

// ------------------------------------------------------------------ rendering
async function render() {
  state.timers.forEach(clearInterval);
  state.timers = [];
  const main = document.getElementById("main");
  if (!state.token) return signInScreen(main);
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("who").textContent = state.who;
  const r = route();
  const name = r.parts[0] || "inventory";
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === "#/" + (name === "sku" ? "inventory" : name === "order" ? "orders" : name)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const screen = screens[name];
  if (!screen) { main.replaceChildren(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/inventory" }, "Inventory"))); return; }
  // Screens render into a draft, shown only if no later navigation started meanwhile (a slow
  // answer for an earlier screen must not replace the one the user went to).
  const mine = ++state.generation;
  const draft = h("div", {});
  // screens fill it with replaceChildren; absent parts (null, false) are left out, as h() does
  draft.replaceChildren = (...kids) => Element.prototype.replaceChildren.apply(draft, kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  main.setAttribute("aria-busy", "true");
  try {
    await screen(draft, r);
    if (mine !== state.generation) return;
    main.replaceChildren(...draft.childNodes);
    document.title = (main.querySelector("h1") || {}).textContent + " · Omnistock";
  } catch (error) {
    if (mine === state.generation && state.token) main.replaceChildren(h("h1", {}, "Could not load this screen"), h("p", { class: "bad" }, error.message));
  } finally {
    if (mine === state.generation) main.removeAttribute("aria-busy");
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  state.config = await (await fetch("/console/config.json")).json();
  const token = sessionStorage.getItem("omnistock.token");
  if (token) adopt(token, sessionStorage.getItem("omnistock.refresh"));
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", () => { say(""); render(); });
  render();
});
