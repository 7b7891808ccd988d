// The desktop checkout: KISPG's PC pay window in an overlay iframe, told the result by postMessage.
//
// The pattern is KISPG's own PC sample (paySample.jsp): the auth form posts into <iframe name="pay_frame">,
// the window ends with parent.postMessage({resultCode: "0000" | "XXXX", data: {...returnUrl fields...}}),
// and this page form-posts `data` to returnUrl in the top window, so returnUrl and the result page are
// never inside the frame. Unlike the sample, a message counts only if it comes from the configured KISPG
// origin, from this page's own frame, while the window is open, and has the right shape: anything else is
// ignored (counted in data-ignored, for the tests) and changes nothing.
// A failure ("XXXX") is posted to returnUrl too, so the order records why it failed and the shopper sees
// it on the result page (the sample's mobile branch; its PC branch only shows an alert).
(function () {
  "use strict";
  var form = document.getElementById("kispg-auth");
  var overlay = document.getElementById("pay-overlay");
  var frame = document.getElementById("pay-frame");
  var status = document.getElementById("pay-status");
  var closeButton = document.getElementById("pay-close");
  if (!form || !overlay || !frame || form.dataset.mode !== "iframe") {
    return;
  }
  var payButton = form.querySelector("button[type=submit]");
  // '' means this page's own origin: the built-in sandbox is served from here.
  var kispgOrigin = overlay.dataset.messageOrigin || window.location.origin;
  var ordNo = form.elements.ordNo.value;
  var returnUrl = form.elements.returnUrl.value;
  var charset = form.elements.charset ? form.elements.charset.value : "UTF-8";
  var FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
  var MAX_FIELDS = 64;
  var MAX_VALUE = 2000;
  var isOpen = false;
  var sent = false;

  function say(text) {
    status.textContent = text;
  }

  function open() {
    if (!overlay.open) {
      overlay.showModal();
    }
    isOpen = true;
    overlay.dataset.state = "open";
    say("결제창이 열렸습니다. 결제를 마치면 결과 화면으로 이동합니다.");
  }

  function close() {
    // Once a result is on its way to returnUrl, "nothing was charged" would no longer be true.
    if (!isOpen || sent) {
      return;
    }
    isOpen = false;
    // Unload the window first: a result it might still send is then never received.
    frame.src = "about:blank";
    if (overlay.open) {
      overlay.close();
    }
    overlay.dataset.state = "closed";
    say("결제창을 닫았습니다. 결제되지 않았으며 청구된 금액은 없습니다. 다시 결제하려면 버튼을 눌러 주세요.");
    payButton.focus();
  }

  function ignore(reason) {
    overlay.dataset.ignored = String(Number(overlay.dataset.ignored || "0") + 1);
    overlay.dataset.lastIgnored = reason;
    if (window.console) {
      console.warn("checkout: ignored a message (" + reason + ")");
    }
  }

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value) &&
      Object.getPrototypeOf(value) === Object.prototype;
  }

  // Why the message is not a KISPG result for this order, or "" when it is one.
  function shapeProblem(message) {
    if (!isPlainObject(message) || (message.resultCode !== "0000" && message.resultCode !== "XXXX")) {
      return "resultCode";
    }
    var data = message.data;
    if (!isPlainObject(data)) {
      return "data";
    }
    var names = Object.keys(data);
    if (names.length === 0 || names.length > MAX_FIELDS) {
      return "data";
    }
    for (var i = 0; i < names.length; i++) {
      var value = data[names[i]];
      var scalar = typeof value === "string" || (typeof value === "number" && isFinite(value));
      if (!FIELD_NAME.test(names[i]) || !scalar || String(value).length > MAX_VALUE) {
        return "field " + names[i].slice(0, 64);
      }
    }
    if (typeof data.resultCd !== "string" || data.resultCd === "") {
      return "resultCd";
    }
    // "0000" may wrap another success code (3001 when KISPG approved by itself); the server decides that.
    if ((message.resultCode === "XXXX" && data.resultCd === "0000") ||
        (message.resultCode === "0000" && data.resultCd === "XXXX")) {
      return "resultCode/resultCd";
    }
    if (message.resultCode === "0000" && (typeof data.tid !== "string" || data.ordNo !== ordNo)) {
      return "tid/ordNo";
    }
    if (data.ordNo !== undefined && data.ordNo !== ordNo) {
      return "ordNo";
    }
    return "";
  }

  // Post the result to returnUrl from this (top) page, the way the sample's receive_result does.
  function postResult(data) {
    var result = document.createElement("form");
    result.method = "post";
    result.action = returnUrl;
    result.target = "_self";
    result.acceptCharset = charset;
    result.hidden = true;
    Object.keys(data).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = String(data[name]);
      result.appendChild(input);
    });
    document.body.appendChild(result);
    result.submit();
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== kispgOrigin) {
      return ignore("origin " + event.origin);
    }
    if (event.source !== frame.contentWindow) {
      return ignore("source");
    }
    if (!isOpen || sent) {
      return ignore(sent ? "already sent" : "window closed");
    }
    var problem = shapeProblem(event.data);
    if (problem) {
      return ignore("shape: " + problem);
    }
    sent = true;
    overlay.dataset.state = "sent";
    payButton.disabled = true;
    say(event.data.resultCode === "0000" ? "결제 결과를 확인하고 있습니다…"
      : "결제가 완료되지 않았습니다: " + event.data.data.resultMsg + " 결과 화면으로 이동합니다…");
    if (overlay.open) {
      overlay.close();
    }
    postResult(event.data.data);
  });

  // The submit button (or the automatic open below) shows the overlay; the form itself goes to pay_frame.
  form.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault();
      return;
    }
    open();
  });
  closeButton.addEventListener("click", close);
  // Escape closes a modal <dialog>: the shopper is told the same as with the close button.
  overlay.addEventListener("cancel", function (event) {
    event.preventDefault();
    close();
  });
  overlay.dataset.ready = "true";
  if (form.dataset.autoOpen === "true") {
    form.requestSubmit(payButton);
  }
})();
