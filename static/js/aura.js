// AURA's page behaviour on top of htmx 2 and its ws extension. Server-rendered fragments do the work;
// this file only keeps live pages honest: connection state, ages, catch-up after a reconnect without
// duplicates, flashes on changed figures, opt-in alerts, and the two charts.
(function () {
  "use strict";

  // --- numbers: the rule of aura/templatetags/numbers.py, for what the browser draws itself --------
  // Prices: four significant digits, at least two decimals. USD totals: cents (compact from a
  // million, "<$0.01" below half a cent). Amounts: compact. A browser test compares both sides.
  var PRICE_DIGITS = 4;
  var SUFFIXES = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];

  function exponentOf(x) { return x ? parseInt(x.toExponential().split("e")[1], 10) : 0; }

  function grouped(text) {
    var parts = text.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }

  function fixed(x, places, minPlaces) {
    var text = x.toFixed(Math.min(100, Math.max(0, places)));
    if (minPlaces !== undefined && places > minPlaces && text.indexOf(".") >= 0) {
      var whole = text.split(".")[0], fraction = text.split(".")[1].replace(/0+$/, "");
      while (fraction.length < minPlaces) fraction += "0";
      text = fraction ? whole + "." + fraction : whole;
    }
    return grouped(text);
  }

  function known(value) { return value !== null && value !== undefined && value !== "" && isFinite(Number(value)); }

  function pricePlaces(x) { return x ? Math.max(2, PRICE_DIGITS - 1 - exponentOf(x)) : 2; }

  function price(value, extraPlaces) {
    if (!known(value)) return "—";
    var x = Number(value), sign = x < 0 ? "-" : "", m = Math.abs(x);
    if (m && exponentOf(m) < -9) return sign + "$" + m.toExponential(PRICE_DIGITS - 1);
    return sign + "$" + fixed(m, Math.max(pricePlaces(m), extraPlaces || 0), 2);
  }

  function amount(value) {
    if (!known(value)) return "—";
    var x = Number(value), m = Math.abs(x);
    for (var i = 0; i < SUFFIXES.length; i++) {
      if (m >= SUFFIXES[i][0]) {
        var scaled = fixed(x / SUFFIXES[i][0], 2);
        if (i > 0 && Math.abs(Number(scaled.replace(/,/g, ""))) >= 1000) return fixed(x / SUFFIXES[i - 1][0], 2) + SUFFIXES[i - 1][1];
        return scaled + SUFFIXES[i][1];
      }
    }
    if (m >= 1 || m === 0) return fixed(x, 4, 0);
    return fixed(x, PRICE_DIGITS - 1 - exponentOf(m), 0);
  }

  function usd(value, signed, extraPlaces) {
    if (!known(value)) return "—";
    var x = Number(value), m = Math.abs(x);
    var sign = x < 0 ? "-" : (signed && x > 0 ? "+" : "");
    if (m >= 1e6) return sign + "$" + amount(m);
    if (m && m < 0.005 && !extraPlaces) return sign + "<$0.01";
    return sign + "$" + fixed(m, Math.max(2, extraPlaces || 0));
  }

  // Decimals that tell ticks `increment` apart (an axis of $0.000021, $0.0000215, $0.000022).
  function placesFor(increment) { return increment > 0 ? Math.max(0, -Math.floor(Math.log10(increment) + 1e-9)) : 0; }

  window.AURA = window.AURA || {};
  window.AURA.format = {
    price: price, amount: amount, placesFor: placesFor,
    usd: function (value) { return usd(value, false); },
    signedUsd: function (value) { return usd(value, true); },
    percent: function (value, places) { return known(value) ? (Number(value) * 100).toFixed(places === undefined ? 1 : places) + " %" : "—"; }
  };

  // --- pushes carry rows for every page; each page keeps the ones it shows ---------------------
  // A leaderboard push holds the wallet's row for every page of the table and every filter; an
  // out-of-band replacement whose target this page does not show is dropped here (htmx would
  // otherwise report each as an error).
  var internalApi = null;
  htmx.defineExtension("aura-live", {
    init: function (api) { internalApi = api; },
    transformResponse: function (text) {
      if (text.indexOf("hx-swap-oob") < 0) return text;
      var template = document.createElement("template");
      template.innerHTML = text;
      var dropped = false;
      Array.prototype.slice.call(template.content.children).forEach(function (el) {
        var swap = el.getAttribute("hx-swap-oob");
        var selector = swap && swap.indexOf(":") > 0 ? swap.slice(swap.indexOf(":") + 1) : null;
        if (((swap === "true" || swap === "outerHTML" || swap === "delete") && el.id && !document.getElementById(el.id)) ||
            (selector && selector !== "#swap-feed" && !document.querySelector(selector))) {
          el.remove();
          dropped = true;
        }
      });
      return dropped ? template.innerHTML : text;
    }
  });

  // --- connection indicator -------------------------------------------------------------------
  function setStatus(text, state) {
    var el = document.getElementById("connection");
    if (el) { el.textContent = text; el.dataset.state = state; }
  }

  // --- catch-up: everything after the newest swap the page holds, on every (re)connect ----------
  function feedElement() { return document.getElementById("swap-feed"); }

  function maxSwapId() {
    var feed = feedElement();
    return feed ? parseInt(feed.dataset.maxId || "0", 10) || 0 : 0;
  }

  function noteSwapIds(root) {
    var feed = feedElement();
    if (!feed || !root) return;
    var max = maxSwapId();
    root.querySelectorAll("[data-swap-id]").forEach(function (row) {
      var id = parseInt(row.dataset.swapId, 10);
      if (id > max) max = id;
    });
    if (String(max) !== feed.dataset.maxId) feed.dataset.maxId = String(max);
  }

  function catchUp() {
    var feed = feedElement();
    if (feed && feed.dataset.feedUrl) {
      var url = feed.dataset.feedUrl + (feed.dataset.feedUrl.indexOf("?") >= 0 ? "&" : "?") + "after=" + maxSwapId();
      htmx.ajax("GET", url, { target: "#swap-feed", swap: "none" });
    }
    refreshFigures();
  }

  // Figures the page shows (leaderboard rows, a wallet's stats and positions), fetched again: after a
  // reconnect, and on a price tick (the server sends a tick, not every holder's figures).
  function refreshFigures() {
    document.querySelectorAll("[data-refresh-on-reconnect]").forEach(function (el) { htmx.trigger(el, "refresh"); });
    var live = document.getElementById("live");
    if (live && live.dataset.refreshUrl) { htmx.ajax("GET", live.dataset.refreshUrl, { target: "#live", swap: "none" }); }
  }

  // --- a silent socket is a dead socket ----------------------------------------------------------
  // The server sends a heartbeat every LIVE_HEARTBEAT_SECONDS; after 2.5 of them without any message
  // the connection is taken for dropped (a lost network does not close a WebSocket) and reopened.
  var lastMessageAt = Date.now();
  document.addEventListener("htmx:wsAfterMessage", function () { lastMessageAt = Date.now(); });
  setInterval(function () {
    var live = document.querySelector("[ws-connect]");
    if (!live || !internalApi) return;
    var beat = parseFloat(live.dataset.heartbeat || "15") * 1000;
    var wrapper = internalApi.getInternalData(live).webSocket;
    if (wrapper && wrapper.socket && wrapper.socket.readyState === WebSocket.OPEN && Date.now() - lastMessageAt > 2.5 * beat) {
      setStatus("reconnecting…", "reconnecting");
      lastMessageAt = Date.now();
      wrapper.init();  // closes the silent socket and opens a new one; wsOpen then catches up
    }
  }, 500);

  document.addEventListener("htmx:wsOpen", function () { lastMessageAt = Date.now(); setStatus("live", "live"); catchUp(); });
  document.addEventListener("htmx:wsClose", function () { setStatus("reconnecting…", "reconnecting"); });
  document.addEventListener("htmx:wsError", function () { setStatus("reconnecting…", "reconnecting"); });

  // A push and a catch-up can carry the same swap: a row already on the page is never added twice.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    if (detail.target && detail.target.id === "swap-feed" && detail.fragment) {
      Array.prototype.slice.call(detail.fragment.children || []).forEach(function (row) {
        if (row.id && document.getElementById(row.id)) row.remove();
      });
      detail.newRows = Array.prototype.slice.call(detail.fragment.children || []);
    } else if (detail.target && detail.target.querySelectorAll) {
      detail.before = snapshot(detail.target);
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var detail = event.detail;
    if (detail.newRows) {
      noteSwapIds(feedElement());
      detail.newRows.forEach(function (row) { flash(row); alertFor(row); });
      var empty = document.getElementById("feed-empty");
      if (empty && feedElement() && feedElement().querySelector("[data-swap-id]")) empty.remove();
    } else if (detail.before) {
      var target = document.getElementById(detail.target.id);
      if (target) flashChanged(detail.before, target);
    }
    if (detail.target && detail.target.id === "stats-tick") refreshFigures();
    updateAges();
  });

  // --- feed filters and the feed's size -----------------------------------------------------------
  // A live row reaches every page showing its feed; one the reader filtered out (side, size, token)
  // is dropped before it shows. The feed keeps at most FEED_ROWS_KEPT rows: older ones leave the
  // page as new ones arrive, and "Load older swaps" pages back from the oldest one still shown.
  var FEED_ROWS_KEPT = 200;
  var feedRowsKept = FEED_ROWS_KEPT;
  // Rows the reader paged back to are theirs to read: each "Load older" keeps a page more.
  document.addEventListener("click", function (event) {
    var more = event.target.closest && event.target.closest("#feed-panel .more");
    if (more) feedRowsKept += parseInt(more.dataset.pageSize, 10) || 0;
  });

  function matchesFilters(row, feed) {
    var wanted = feed.dataset;
    if (wanted.side && row.dataset.side !== wanted.side) return false;
    if (wanted.minUsd && !(parseFloat(row.dataset.usd || "") >= parseFloat(wanted.minUsd))) return false;
    if (wanted.symbol) {
      var symbol = wanted.symbol.toLowerCase();
      if ((row.dataset.tokenSymbol || "").toLowerCase() !== symbol && row.dataset.token !== wanted.symbol) return false;
    }
    return true;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail, feed = feedElement();
    if (!feed || !detail.target || detail.target.id !== "swap-feed" || !detail.fragment) return;
    Array.prototype.slice.call(detail.fragment.children || []).forEach(function (row) {
      if (row.dataset && row.dataset.swapId && !matchesFilters(row, feed)) {
        alertFor(row);  // alerts are about every swap, whatever this feed shows
        row.remove();
      }
    });
  });

  function capFeed() {
    var feed = feedElement();
    if (!feed) return;
    var rows = feed.querySelectorAll(".feed-row[data-swap-id]");
    if (rows.length <= feedRowsKept) return;
    for (var i = feedRowsKept; i < rows.length; i++) rows[i].remove();
    // The server renders the feed's one "Load older" link, hidden while it knows of no older page;
    // it now pages back from the oldest row kept.
    var more = document.querySelector("#feed-panel .more");
    if (!more) return;
    var url = new URL(more.getAttribute("href"), window.location.href);
    url.searchParams.set("before", rows[feedRowsKept - 1].dataset.swapId);
    more.setAttribute("href", url.pathname + url.search);
    more.setAttribute("hx-get", url.pathname + url.search);
    more.hidden = false;
    document.querySelectorAll("#feed-panel .end").forEach(function (note) { note.remove(); });
    htmx.process(more);
  }
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "swap-feed") capFeed();
  });

  // --- changed cells flash briefly ----------------------------------------------------------
  function snapshot(root) {
    var values = {};
    if (root.dataset && root.dataset.col) values[root.dataset.col] = root.textContent;
    root.querySelectorAll("[data-col]").forEach(function (cell) {
      var row = cell.closest("[data-window]");
      values[(row ? row.dataset.window + ":" : "") + cell.dataset.col] = cell.textContent.trim();
    });
    return values;
  }

  function flashChanged(before, target) {
    target.querySelectorAll("[data-col]").forEach(function (cell) {
      var row = cell.closest("[data-window]");
      var key = (row ? row.dataset.window + ":" : "") + cell.dataset.col;
      if (key in before && before[key] !== cell.textContent.trim()) flash(cell);
    });
  }

  // Reading a layout to restart an animation would force one per changed cell, each push; swapping
  // between two identical animations (aura.css) restarts it without.
  function flash(el) {
    if (el.classList.contains("flash")) {
      el.classList.replace("flash", "flash-again");
    } else {
      el.classList.remove("flash-again");
      el.classList.add("flash");
    }
  }

  // --- ages -------------------------------------------------------------------------------
  function age(seconds) {
    if (seconds < 60) return Math.max(0, Math.floor(seconds)) + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m";
    if (seconds < 86400) return Math.floor(seconds / 3600) + "h";
    return Math.floor(seconds / 86400) + "d";
  }

  // Runs after every push: only an age whose text changes is written, or each push would make the
  // browser lay out every row of the page again.
  function updateAges() {
    var now = Date.now();
    document.querySelectorAll("time.age[datetime]").forEach(function (el) {
      var when = Date.parse(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var text = age((now - when) / 1000);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  setInterval(updateAges, 1000);
  document.addEventListener("DOMContentLoaded", function () { updateAges(); noteSwapIds(feedElement()); drawCharts(); });
  document.addEventListener("htmx:afterSettle", function () { updateAges(); noteSwapIds(feedElement()); drawCharts(); });

  // --- alerts: desktop notification and sound for large swaps (opt-in, per user) -------------------
  // Every AURA page alerts, not only those whose feed carries the swaps: a page whose own socket
  // does not bring them opens one more, for alerts only (openAlertSocket). A swap alerts once,
  // however many ways it reaches the page.
  var alerted = {};

  function alertFor(row) {
    var body = document.body.dataset;
    if (!body.alertMinUsd || !row.id || alerted[row.id]) return;
    var value = parseFloat(row.dataset.usd || "");
    if (isNaN(value) || value < parseFloat(body.alertMinUsd)) return;
    if (body.alertScope === "followed") {
      var follows = (body.alertFollows || "").split(",");
      if (follows.indexOf(row.dataset.wallet) < 0) return;
    }
    alerted[row.id] = true;
    var text = row.dataset.walletLabel + " " + row.dataset.side + " " + row.dataset.tokenSymbol + " for " + usd(value, false);
    if (body.alertDesktop === "1" && "Notification" in window && Notification.permission === "granted") {
      new Notification("AURA · large swap", { body: text, tag: row.id });
    }
    if (body.alertSound === "1") beep();
  }

  function alertGroup() {
    var body = document.body.dataset;
    if (!body.alertMinUsd) return null;
    var live = document.querySelector("[ws-connect]");
    var query = live ? live.getAttribute("ws-connect").split("groups=")[1] || "" : "";
    var groups = decodeURIComponent(query).split(",");
    if (groups.indexOf("feed.trades") >= 0) return null;
    if (body.alertScope === "followed") return groups.indexOf("follows") >= 0 ? null : "follows";
    return "feed.trades";
  }

  function openAlertSocket(group) {
    var delay = 1000, socket = null, heardAt = Date.now();
    var beat = parseFloat(document.body.dataset.liveHeartbeat || "15") * 1000;
    function connect() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + "/ws/live/?groups=" + encodeURIComponent(group));
      socket.onopen = function () { delay = 1000; heardAt = Date.now(); };
      socket.onmessage = function (event) {
        heardAt = Date.now();
        if (String(event.data).indexOf("data-swap-id") < 0) return;
        var template = document.createElement("template");
        template.innerHTML = event.data;
        template.content.querySelectorAll("[data-swap-id]").forEach(alertFor);
      };
      socket.onclose = function () { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); };
    }
    setInterval(function () {  // a silent socket is a dead one (a dropped network does not close it)
      if (socket && socket.readyState === WebSocket.OPEN && Date.now() - heardAt > 2.5 * beat) { heardAt = Date.now(); socket.close(); }
    }, 1000);
    connect();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var group = alertGroup();
    if (group) openAlertSocket(group);
  });

  // Browsers start an AudioContext suspended until the page gets a click or a key ("AudioContext was
  // not allowed to start"): it is made, or resumed, on the first one, so the first alert is heard.
  var audio = null;
  function audioContext() {
    if (!audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      audio = new Context();
    }
    return audio;
  }
  function unlockAudio() {
    if (document.body.dataset.alertSound !== "1" && !document.getElementById("id_sound")) return;
    var context = audioContext();
    if (context && context.state !== "running") context.resume().then(showSoundState, showSoundState);
    else showSoundState();
  }
  ["pointerdown", "keydown", "touchend"].forEach(function (type) { document.addEventListener(type, unlockAudio, true); });

  function beep() {
    try {
      var context = audioContext();
      if (!context) return;
      if (context.state !== "running") context.resume();
      var osc = context.createOscillator(), gain = context.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(context.destination);
      osc.start(); osc.stop(context.currentTime + 0.15);
    } catch (e) { /* no audio device: the notification still shows */ }
  }
  window.AURA.audioState = function () { return audio ? audio.state : "none"; };

  function showSoundState() {
    var el = document.getElementById("sound-state");
    if (!el) return;
    el.textContent = audio && audio.state === "running" ? "Sound is on for this page." :
      "Sound starts after your first click or key press on an AURA page.";
  }

  // On the alert settings page: ask for permission when the user turns desktop notifications on,
  // and play the sound when they turn it on (a click: the browser allows it), so they know it works.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.id === "id_desktop_notifications" && target.checked &&
        "Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().then(showPermission);
    }
    if (target && target.id === "id_sound" && target.checked) { unlockAudio(); beep(); }
  });
  function showPermission() {
    var el = document.getElementById("notification-permission");
    if (!el) return;
    if (!("Notification" in window)) { el.textContent = "This browser cannot show notifications."; return; }
    el.textContent = {
      granted: "Notifications are allowed in this browser.",
      denied: "Notifications are blocked for this site; allow them in the browser's site settings.",
      default: "The browser will ask for permission when you turn notifications on."
    }[Notification.permission];
  }
  document.addEventListener("DOMContentLoaded", function () { showPermission(); showSoundState(); });

  // --- charts (uPlot, served from static/vendor) -------------------------------------------
  // Axis labels and the legend follow the number rule: prices with significant digits (a $0.00002
  // token reads $0.0000215, not $0), P&L in dollars and cents. Ticks closer together than that
  // precision get the decimals that tell them apart.
  function chartFormat(kind) {
    if (kind === "price") {
      return {
        tick: function (v, increment) { return price(v, placesFor(increment)); },
        legend: function (v) { return price(v); }
      };
    }
    return {
      tick: function (v, increment) { return usd(v, false, placesFor(increment)); },
      legend: function (v) { return usd(v, true); }
    };
  }

  function drawCharts() {
    if (typeof uPlot === "undefined") return;
    // data-chart is the URL of the chart's series ({"t": [unix seconds], "v": [values]}, a few
    // hundred points at most): fetched once, so the page weighs the same whatever the history.
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      fetch(el.dataset.chart, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("chart data: HTTP " + response.status);
          return response.json();
        })
        .then(function (data) { if (data.t.length) drawChart(el, data); })
        .catch(function (error) { delete el.dataset.drawn; console.warn(error); });
    });
  }

  function drawChart(el, data) {
    var format = chartFormat(el.dataset.format);
    el.chart = new uPlot({
      width: el.clientWidth || 800, height: 220,
      // A single point would stretch the time axis over years (uPlot pads one point by a day in
      // milliseconds) and pull the value axis to zero: an hour either side of it, 10 % of its value.
      scales: {
        x: data.t.length === 1 ? { time: true, auto: false, range: [data.t[0] - 3600, data.t[0] + 3600] } : { time: true },
        y: { range: function (u, min, max) {
          if (min === max) { var pad = Math.abs(min) * 0.1 || 1; return [min - pad, max + pad]; }
          return uPlot.rangeNum(min, max, 0.1, true);
        } }
      },
      series: [{}, {
        label: el.dataset.label, stroke: "#7ee787", width: 2,
        value: function (u, v) { return v === null || v === undefined ? "—" : format.legend(v); }
      }],
      axes: [{ stroke: "#8b949e" }, {
        stroke: "#8b949e",
        size: function (u, values) {
          var longest = (values || []).reduce(function (n, text) { return Math.max(n, String(text).length); }, 4);
          return 16 + longest * 7;
        },
        values: function (u, ticks, axisIndex, space, increment) {
          return ticks.map(function (v) { return format.tick(v, increment); });
        }
      }],
      legend: { show: true }
    }, [data.t, data.v], el);
  }
  // --- signal feeds ------------------------------------------------------------------------------
  // A push carries each changed signal out-of-band by id (a row the page shows is replaced in place)
  // and again inside #signal-feed's afterbegin (a new one goes on top): the copy of a row already
  // shown is dropped here, and so is a new one the reader's filters (kind, score, token) leave out.
  function signalMatches(row, feed) {
    var wanted = feed.dataset;
    if (wanted.kind && row.dataset.kind !== wanted.kind) return false;
    if (wanted.minScore && !(parseInt(row.dataset.score, 10) >= parseInt(wanted.minScore, 10))) return false;
    if (wanted.token && row.dataset.token !== wanted.token &&
        (row.dataset.tokenSymbol || "").toLowerCase() !== wanted.token.toLowerCase()) return false;
    return true;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== "signal-feed" || !detail.fragment) return;
    Array.prototype.slice.call(detail.fragment.children || []).forEach(function (row) {
      if (!row.dataset || !row.dataset.signalId) return;
      if ((row.id && document.getElementById(row.id)) || !signalMatches(row, detail.target)) row.remove();
    });
    detail.newSignals = Array.prototype.slice.call(detail.fragment.children || []);
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var detail = event.detail;
    if (!detail.newSignals) return;
    detail.newSignals.forEach(flash);
    var feed = document.getElementById("signal-feed"), empty = document.getElementById("signal-feed-empty");
    if (empty && feed && feed.querySelector("[data-signal-id]")) empty.remove();
  });
})();
