"use strict";
// Filters: each checkbox shows or hides the rows of one outcome. Without script every row stays visible.
document.querySelectorAll("#casgate-filters input[data-outcome]").forEach(function (box) {
  box.addEventListener("change", function () {
    document.querySelectorAll('#casgate-results tbody tr[data-outcome="' + box.dataset.outcome + '"]').forEach(function (row) {
      row.hidden = !box.checked;
    });
  });
});

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
