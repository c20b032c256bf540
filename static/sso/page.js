// Every page: after a refused submit, focus the first invalid field (or the error summary) so
// its label and error are read; otherwise announce the page's messages in its one live region.
(function () {
  "use strict";

  var invalid = document.querySelector('main [aria-invalid="true"]')
    || document.querySelector("main [data-error-summary]");
  if (invalid) {
    var folded = invalid.closest("details:not([open])");
    if (folded) { folded.open = true; }
    invalid.focus();
    return;
  }
  var messages = document.querySelector("[data-messages]");
  var live = document.getElementById("live-region");
  if (messages && live) {
    // A live region announces changes, not what it held at load.
    setTimeout(function () { live.textContent = messages.textContent; }, 250);
  }
})();
