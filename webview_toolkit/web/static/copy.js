/* The account number's copy button. In-app browsers (KakaoTalk, NAVER, Instagram) often have no
   navigator.clipboard, or refuse it outside a secure context: then a selected, off-screen textarea
   and document.execCommand('copy') do it, and if even that fails the number is left selected so a
   long press copies it. */
(function () {
  "use strict";
  function say(text) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = text; }
  }
  function selectNumber(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "0";
    area.style.left = "-9999px";
    area.style.fontSize = "16px"; /* iOS zooms into a smaller field */
    document.body.appendChild(area);
    area.focus();
    area.select();
    area.setSelectionRange(0, text.length); /* iOS selects nothing with select() alone */
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    document.body.removeChild(area);
    return copied;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var element = document.getElementById(button.getAttribute("data-copy"));
    var text = element.textContent.replace(/[^0-9]/g, "");
    function done(copied) {
      if (copied) {
        button.setAttribute("data-copied", "yes");
        say(button.getAttribute("data-done"));
      } else {
        selectNumber(element);
        say(button.getAttribute("data-fallback"));
      }
    }
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); },
                                               function () { done(legacyCopy(text)); });
    } else {
      done(legacyCopy(text));
    }
  });
}());
