// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy], [data-copy-text]");
    if (copy) {
      var label = copy.textContent;
      var text = copy.getAttribute("data-copy-text");
      var input = text === null ? document.getElementById(copy.getAttribute("data-copy")) : null;
      if (input) {
        text = input.value;
        input.select();
      }
      var done = function () {
        copy.textContent = "Copied";
        var status = document.getElementById("live-region");
        if (status) { status.textContent = "Copied to the clipboard"; }
        setTimeout(function () { copy.textContent = label; }, 1500);
      };
      var fallback = function () {
        if (document.execCommand("copy")) {
          done();
        } else {
          copy.textContent = "Press Ctrl+C";
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
      return;
    }

    var add = event.target.closest("[data-domain-add]");
    if (add) {
      var list = add.previousElementSibling;
      var rows = list.querySelectorAll("[data-domain-row]");
      var last = rows[rows.length - 1];
      if (last.querySelector("input").value.trim() === "") {
        last.querySelector("input").focus();
        return;
      }
      var row = last.cloneNode(true);
      var field = row.querySelector("input");
      var number = rows.length + 1;
      field.value = "";
      field.setAttribute("aria-label", "Trusted domain " + number);
      row.querySelector("[data-domain-remove]").setAttribute("aria-label", "Remove trusted domain " + number);
      list.appendChild(row);
      field.focus();
      return;
    }

    var remove = event.target.closest("[data-domain-remove]");
    if (remove) {
      var domainRow = remove.closest("[data-domain-row]");
      var all = domainRow.parentNode.querySelectorAll("[data-domain-row]");
      if (all.length > 1) {
        var next = domainRow.nextElementSibling || domainRow.previousElementSibling;
        domainRow.remove();
        next.querySelector("input").focus();
      } else {
        domainRow.querySelector("input").value = "";
      }
    }
  });
})();
