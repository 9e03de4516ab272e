// The app's only script. It keeps what a page shows of orders up to date
// from the server-sent events of /events: an order's status changes the
// moment the bank's notification arrives, without a reload. No framework,
// nothing inline: the page's Content-Security-Policy allows scripts from
// the app's own origin only, and this one writes text, never HTML.
(function () {
  'use strict';
  var body = document.body;
  var url = body.dataset.events;
  if (!url || !window.EventSource) {
    return;
  }
  var stream = new EventSource(url);
  stream.addEventListener('open', function () {
    body.dataset.listening = '1';
  });
  stream.addEventListener('error', function () {
    // EventSource reconnects by itself; the page says it is not live
    // meanwhile.
    delete body.dataset.listening;
  });

  function parse(e) {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      return null;
    }
  }

  // "order": {no, status, notified, fields: {data-field: text}}.
  stream.addEventListener('order', function (e) {
    var o = parse(e);
    if (!o || typeof o.no !== 'string' || !o.fields) {
      return;
    }
    var cards = document.querySelectorAll('[data-order]');
    for (var i = 0; i < cards.length; i++) {
      var card = cards[i];
      if (card.dataset.order !== o.no) {
        continue;
      }
      card.dataset.status = String(o.status);
      card.dataset.notified = String(o.notified === true);
      var fields = card.querySelectorAll('[data-field]');
      for (var j = 0; j < fields.length; j++) {
        var name = fields[j].dataset.field;
        if (Object.prototype.hasOwnProperty.call(o.fields, name)) {
          fields[j].textContent = String(o.fields[name]);
        }
      }
    }
  });

  // "notice": one notification the app received (the admin page's list).
  stream.addEventListener('notice', function (e) {
    var n = parse(e);
    var list = document.getElementById('notices');
    if (!n || !list || typeof n.id !== 'string') {
      return;
    }
    var items = list.querySelectorAll('[data-notice]');
    for (var i = 0; i < items.length; i++) {
      if (items[i].dataset.notice === n.id) {
        return;
      }
    }
    var li = document.createElement('li');
    li.dataset.notice = n.id;
    var parts = [['mono small', n.at], ['strong', n.type], ['mono small', n.ref], ['', n.amount], ['', n.status]];
    for (var k = 0; k < parts.length; k++) {
      if (!parts[k][1]) {
        continue;
      }
      var el = document.createElement(parts[k][0] === 'strong' ? 'strong' : 'span');
      if (parts[k][0] && parts[k][0] !== 'strong') {
        el.className = parts[k][0];
      }
      el.textContent = String(parts[k][1]);
      li.appendChild(el);
      li.appendChild(document.createTextNode(' '));
    }
    list.insertBefore(li, list.firstChild);
    var count = document.getElementById('notice-count');
    if (count) {
      count.textContent = String(list.querySelectorAll('[data-notice]').length);
    }
  });
})();
