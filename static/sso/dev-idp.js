// The demo IdP posts its Response at once, as real IdPs do; the Continue button stays for
// browsers without scripts.
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (form) {
    form.submit();
  }
})();
