// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.getAttribute("data-copy"));
      var label = copy.textContent;
      // A field's value, or the text of an element such as a support reference.
      var text = input.select ? input.value : input.textContent.trim();
      if (input.select) {
        input.select();
      } else {
        window.getSelection().selectAllChildren(input);
      }
      var done = function () {
        copy.textContent = "Copied";
        var status = document.getElementById(copy.getAttribute("data-copy") + "-status");
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

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.submit();
    }
  });
})();
