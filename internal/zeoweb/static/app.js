// zeoweb's only script: the live feed. Everything from the server is put
// into the page with textContent, never as markup.
"use strict";

function cell(row, text, cls) {
  const td = document.createElement("td");
  if (text !== undefined) td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function link(parent, href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  parent.appendChild(a);
  parent.appendChild(document.createTextNode(" "));
  return a;
}

function note(rows, text, cls) {
  const tr = document.createElement("tr");
  tr.className = cls;
  const td = cell(tr, text);
  td.colSpan = 3;
  rows.insertBefore(tr, rows.firstChild);
}

function startFeed() {
  const rows = document.getElementById("feed-rows");
  const status = document.getElementById("feed-status");
  if (!rows || !status) return;
  let opened = false;
  const es = new EventSource("/events");
  es.onmessage = (msg) => {
    let ev;
    try { ev = JSON.parse(msg.data); } catch (e) { return; }
    switch (ev.kind) {
    case "hello":
      status.textContent = "Listening to " + ev.server + " (" + ev.status + ") for transactions after " + ev.tid + ".";
      status.className = "status ok";
      if (opened) note(rows, "The feed reconnected: transactions committed meanwhile are not listed here.", "reconnect");
      opened = true;
      break;
    case "commit": {
      const tr = document.createElement("tr");
      tr.className = "commit" + (ev.reset ? " reset" : "") + (ev.catchup ? " catchup" : "");
      const t = cell(tr);
      link(t, ev.href, ev.tid).className = "tid";
      if (ev.reset) t.appendChild(document.createTextNode(" RESET: the server could not say what changed while the client was disconnected"));
      if (ev.catchup) t.appendChild(document.createTextNode(" CATCH-UP after a reconnect: all changes while disconnected"));
      cell(tr, ev.time);
      const o = cell(tr);
      for (const x of ev.oids || []) link(o, x.href, x.oid);
      if (ev.more) o.appendChild(document.createTextNode("… " + ev.more + " more"));
      rows.insertBefore(tr, rows.firstChild);
      break;
    }
    case "status":
      status.textContent = "Connection " + ev.status + (ev.server ? " (" + ev.server + ")" : "") + (ev.message ? ": " + ev.message : "");
      status.className = "status " + (ev.status === "connected" ? "ok" : "bad");
      note(rows, "Connection " + ev.status + (ev.message ? ": " + ev.message : ""), ev.status === "connected" ? "reconnect" : "lost");
      break;
    case "ended":
      status.textContent = "The feed ended: " + ev.message + ". Reconnecting…";
      status.className = "status bad";
      note(rows, "Feed interrupted: " + ev.message, "lost");
      break;
    }
  };
  es.onerror = () => {
    status.textContent = "Lost the connection to zeoweb; retrying…";
    status.className = "status bad";
  };
}

document.addEventListener("DOMContentLoaded", startFeed);
