// The config viewer: each line of a generated file highlighted by CodeMirror's Asterisk
// mode (runMode: no editor, just coloured spans); the text stays what the server sent.
"use strict";
(function () {
  let lines = 0;
  for (const cell of document.querySelectorAll("table.code td.conf")) {
    const text = cell.textContent;
    cell.textContent = "";
    CodeMirror.runMode(text, "text/x-asterisk", cell);
    lines += 1;
  }
  document.body.dataset.highlighted = String(lines);
})();
