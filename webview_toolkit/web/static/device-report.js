// /device-test: one tap per app records what happened (web/device_reports.py). JSON only, same origin.
(function () {
  var list = document.querySelector("[data-report-url]");
  if (!list) { return; }
  var base = list.getAttribute("data-report-url");
  var status = document.getElementById("report-status");
  var key = "webview-toolkit-device-report";
  var saved = null;
  try { saved = JSON.parse(localStorage.getItem(key)); } catch (e) { saved = null; }

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
                       body: JSON.stringify(body)}).then(function (response) {
      if (!response.ok) { var error = new Error("HTTP " + response.status); error.status = response.status; throw error; }
      return response.json();
    });
  }
  function report() {
    if (saved) { return Promise.resolve(saved); }
    return post(base, {tester: document.getElementById("tester").value}).then(function (created) {
      saved = created;
      try { localStorage.setItem(key, JSON.stringify(created)); } catch (e) { /* private mode: this page only */ }
      return created;
    });
  }
  function send(app, outcome, retry) {
    return report().then(function (r) {
      return post(base + "/" + r.id + "/results", {token: r.token, app: app, outcome: outcome});
    }).catch(function (error) {
      // A report this server does not know (another database, a reset): start a new one, once.
      if (retry && (error.status === 404 || error.status === 403)) { saved = null; return send(app, outcome, false); }
      throw error;
    });
  }
  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-outcome]");
    if (!button) { return; }
    var item = button.closest("[data-report-app]");
    send(item.getAttribute("data-report-app"), button.getAttribute("data-outcome"), true).then(function () {
      var buttons = item.querySelectorAll("button[data-outcome]");
      for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-pressed", String(buttons[i] === button)); }
      item.setAttribute("data-outcome", button.getAttribute("data-outcome"));
      status.textContent = "저장했습니다: " + item.querySelector("a").textContent + " · " + button.textContent;
    }, function () {
      status.textContent = "저장하지 못했습니다. 다시 눌러 주세요.";
    });
  });
})();
