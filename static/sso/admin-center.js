// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.getAttribute("data-copy"));
      input.select();
      var done = function () {
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else if (document.execCommand("copy")) {
        done();
      }
      return;
    }

    var add = event.target.closest("[data-domain-add]");
    if (add) {
      var list = add.previousElementSibling;
      var rows = list.querySelectorAll("[data-domain-row]");
      var row = rows[rows.length - 1].cloneNode(true);
      var field = row.querySelector("input");
      field.value = "";
      field.setAttribute("aria-label", "Trusted domain " + (rows.length + 1));
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
