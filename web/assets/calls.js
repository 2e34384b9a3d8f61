// Live calls: the set of channels from the server's event stream, redrawn on each
// change; actions (hang up, listen, whisper, barge) after a confirmation.
"use strict";
(function () {
  const table = document.getElementById("calls");
  const body = table.querySelector("tbody");
  const operator = table.dataset.operator === "yes";
  const status = document.getElementById("status");
  const count = document.getElementById("count");
  const message = document.getElementById("message");
  const channels = new Map();

  function extensionOf(channel) {
    const m = /^[A-Za-z]+\/([0-9]+)-/.exec(channel);
    return m ? m[1] : null;
  }
  function duration(since) {
    const s = Math.max(0, Math.floor(Date.now() / 1000) - since);
    const mm = String(Math.floor(s / 60)).padStart(2, "0");
    return mm + ":" + String(s % 60).padStart(2, "0");
  }
  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function button(td, label, cls, run) {
    const b = document.createElement("button");
    b.textContent = label;
    b.className = cls;
    b.addEventListener("click", run);
    td.appendChild(b);
  }
  async function act(url, fields, question) {
    if (!window.confirm(question)) return;
    const r = await astbase.post(url, fields);
    message.textContent = r.text;
    message.className = r.ok ? "message" : "message error";
  }
  function draw() {
    body.replaceChildren();
    const sorted = [...channels.values()].sort((a, b) => a.since - b.since);
    for (const c of sorted) {
      const tr = document.createElement("tr");
      tr.dataset.channel = c.channel;
      cell(tr, c.channel).className = "channel";
      cell(tr, c.state);
      cell(tr, (c.caller_name ? c.caller_name + " " : "") + c.caller_num);
      cell(tr, (c.connected_name ? c.connected_name + " " : "") + c.connected_num);
      cell(tr, c.exten + "@" + c.context);
      cell(tr, duration(c.since)).className = "duration";
      if (operator) {
        const td = cell(tr, "");
        button(td, "Hang up", "danger hangup", () =>
          act("/calls/hangup", { channel: c.channel }, "Hang up " + c.channel + "?"));
        const ext = extensionOf(c.channel);
        if (ext) {
          for (const mode of ["listen", "whisper", "barge"]) {
            button(td, mode[0].toUpperCase() + mode.slice(1), "spy " + mode, () =>
              act("/calls/spy", { extension: ext, mode }, mode + " on " + ext + "'s call from your phone?"));
          }
        }
      }
      body.appendChild(tr);
    }
    count.textContent = channels.size + (channels.size === 1 ? " channel" : " channels");
  }
  const events = new EventSource("/calls/events");
  events.addEventListener("update", (e) => {
    const u = JSON.parse(e.data);
    if (u.type === "snapshot") {
      channels.clear();
      for (const c of u.channels) channels.set(c.uniqueid, c);
      status.textContent = u.connected ? "connected to Asterisk" : "not connected to Asterisk";
    } else if (u.type === "channel") {
      channels.set(u.channel.uniqueid, u.channel);
    } else if (u.type === "gone") {
      channels.delete(u.uniqueid);
    } else if (u.type === "status") {
      status.textContent = u.connected ? "connected to Asterisk" : "not connected to Asterisk: " + (u.error || "");
    }
    draw();
  });
  events.addEventListener("error", () => { status.textContent = "reconnecting…"; });
  setInterval(() => {
    for (const tr of body.rows) {
      const c = [...channels.values()].find((x) => x.channel === tr.dataset.channel);
      if (c) tr.querySelector(".duration").textContent = duration(c.since);
    }
  }, 1000);
  const dial = document.getElementById("dial-form");
  if (dial) {
    dial.addEventListener("submit", (e) => {
      e.preventDefault();
      const to = document.getElementById("dial-to").value;
      act("/calls/dial", { to }, "Ring your phone and call " + to + "?");
    });
  }
})();
