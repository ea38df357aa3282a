"use strict";
// Every check: the table holds its first page as markup, #casgate-rows every row as JSON (distinct strings, and each
// row as indexes into them), parsed on first use. Filters and pager work over every row; printing prints them all,
// whatever the filters, with every folded list open. Without script the first page stays as it is.
(function () {
  var table = document.getElementById("casgate-results");
  var source = document.getElementById("casgate-rows");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#casgate-filters input[data-outcome]"));
  var hostBox = document.getElementById("casgate-host");
  var pager = document.getElementById("casgate-pager");
  var shown = document.getElementById("casgate-shown");
  var size = Number(table.dataset.page), total = Number(table.dataset.rows);
  var rows = null, view = null, page = 0, paged = true;

  function every() {
    if (rows === null) {
      var data = JSON.parse(source.textContent);
      rows = data.rows.map(function (indexes) {
        var row = {};
        data.columns.forEach(function (name, i) { row[name] = data.strings[indexes[i]]; });
        return row;
      });
    }
    return rows;
  }

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  // The markup report.html.j2 writes for a row, built as elements and text: nothing in a row is ever parsed as HTML.
  function line(row) {
    var tr = document.createElement("tr"), badge = document.createElement("b"), check = cell(row.check), result = cell(row.summary);
    tr.dataset.outcome = row.outcome;
    badge.className = "badge casgate-" + row.outcome;
    badge.textContent = row.outcome.toUpperCase();
    tr.appendChild(document.createElement("td")).appendChild(badge);
    tr.appendChild(cell(row.host));
    tr.appendChild(cell(row.cause));
    check.title = row.nodeid;
    tr.appendChild(check);
    if (row.card) {
      var link = document.createElement("a");
      link.href = "#" + row.card;
      link.textContent = "finding";
      result.append(" ", link);
    }
    tr.appendChild(result);
    tr.appendChild(cell(row.time, "time"));
    return tr;
  }

  function show(list, status) {
    var body = document.createElement("tbody");
    list.forEach(function (row) { body.appendChild(line(row)); });
    table.replaceChild(body, table.tBodies[0]);
    if (shown) shown.textContent = status;
  }

  function count(n) { return String(n).replace(/\B(?=(\d{3})+$)/g, ","); }  // 3,600 (toLocaleString first loads ICU: 30-90 ms)

  function matching() {
    var wanted = {}, name = hostBox ? hostBox.value.trim().toLowerCase() : "";
    boxes.forEach(function (box) { wanted[box.dataset.outcome] = box.checked; });
    return every().filter(function (row) { return wanted[row.outcome] && row.host.toLowerCase().indexOf(name) !== -1; });
  }

  function draw() {
    if (view === null) view = matching();
    page = Math.min(Math.max(page, 0), Math.max(0, Math.ceil(view.length / size) - 1));
    var first = paged ? page * size : 0, part = paged ? view.slice(first, first + size) : view;
    var of = view.length < every().length ? " matching the filters (" + count(every().length) + " checks in all)" : "";
    show(part, part.length ? "Checks " + count(first + 1) + "\u2013" + count(first + part.length) + " of " + count(view.length) + of
                           : "No check" + of);
    pager.querySelector('[data-go="all"]').textContent = paged ? "every row on one page" : "pages of " + count(size);
  }

  function refilter() {
    view = matching();
    page = 0;
    draw();
  }

  boxes.forEach(function (box) { box.addEventListener("change", refilter); });
  if (hostBox) hostBox.addEventListener("input", refilter);
  pager.hidden = total <= size;
  pager.addEventListener("click", function (event) {
    var go = event.target.dataset ? event.target.dataset.go : undefined;
    var to = {first: 0, previous: page - 1, next: page + 1, last: Infinity}[go];
    if (go === "all") paged = !paged;
    else if (to !== undefined) page = to;
    else return;
    draw();
  });
  window.addEventListener("beforeprint", function () {
    show(every(), "All " + count(every().length) + " checks, whatever the filters.");
    document.querySelectorAll("details").forEach(function (folded) { folded.open = true; });
  });
  window.addEventListener("afterprint", draw);
})();

// Copy buttons: the clipboard API where the page is a secure context, else the selection and execCommand (file://).
function selectAndCopy(code) {
  var range = document.createRange();
  range.selectNodeContents(code);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return document.execCommand("copy");
}

document.querySelectorAll(".ps").forEach(function (block) {
  var button = block.querySelector("button.copy");
  var code = block.querySelector("code");
  var copied = function () {
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = "Copy"; }, 1500);
  };
  button.hidden = false;
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.textContent).then(copied, function () { if (selectAndCopy(code)) copied(); });
    } else if (selectAndCopy(code)) {
      copied();
    }
  });
});
