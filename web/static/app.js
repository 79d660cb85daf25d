// keyward dashboard: the little that a form cannot do. Every page works
// without this script; it adds copy buttons, confirmation dialogs and an
// org switcher that switches on change.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Older browsers, or plain HTTP off localhost: select and copy.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  document.addEventListener("click", function (ev) {
    var copy = ev.target.closest("[data-copy]");
    if (copy) {
      var src = document.getElementById(copy.getAttribute("data-copy"));
      if (!src) return;
      var text = "value" in src && src.tagName === "INPUT" ? src.value : src.textContent;
      var label = copy.textContent;
      copyText(text).then(function () {
        copy.textContent = "Copied";
        copy.classList.add("copied");
      }, function () {
        copy.textContent = "Press Ctrl+C";
        if (src.select) src.select();
      }).then(function () {
        setTimeout(function () { copy.textContent = label; copy.classList.remove("copied"); }, 2000);
      });
      return;
    }
    var opener = ev.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        ev.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("input:not([type=hidden]), button");
        if (first) first.focus();
      }
      return;
    }
    var closer = ev.target.closest("dialog [data-close]");
    if (closer) {
      ev.preventDefault();
      closer.closest("dialog").close();
    }
  });

  // Selecting the whole secret on focus makes copying by hand easy.
  document.addEventListener("focusin", function (ev) {
    if (ev.target.matches && ev.target.matches("[data-select]")) ev.target.select();
  });

  document.addEventListener("change", function (ev) {
    if (ev.target.matches("select[data-autosubmit]")) ev.target.form.submit();
    // Picking a custom date picks the "Custom date" expiry.
    if (ev.target.name === "expires_on" && ev.target.value) {
      var custom = ev.target.form.querySelector("[name=expiry][value=custom]");
      if (custom) { custom.checked = true; custom.selected = true; }
    }
  });
})();
