// Shared by every page: the session's CSRF token, and POSTs that carry it.
"use strict";
const astbase = {
  csrf() {
    const m = document.querySelector('meta[name="csrf"]');
    return m ? m.content : "";
  },
  async post(url, fields) {
    const body = new URLSearchParams(fields);
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": astbase.csrf() },
      body,
      credentials: "same-origin",
    });
    return { ok: response.ok, status: response.status, text: await response.text() };
  },
};
