// The PIN pad of github.com/xinyun-open/ewallet-go/wallet/pinpad.
//
// The six digits exist only here, in the browser: they are encrypted to the
// bank key the page carries (SM2, C1C3C2, docs/protocol.md, section 5) and
// only {key_id, ciphertext, ref} is posted to the merchant. No framework;
// the page's CSP allows scripts from its own origin only.
(function () {
  'use strict';

  var root = document.getElementById('pinpad');
  if (!root) { return; }
  var keyID = root.getAttribute('data-key-id') || '';
  var keyHex = (root.getAttribute('data-key') || '').toLowerCase();
  var action = root.getAttribute('data-action') || '';
  var ref = root.getAttribute('data-ref') || '';
  var boxes = root.querySelectorAll('.boxes span');
  var boxLabel = document.getElementById('boxes');
  var status = document.getElementById('status');
  var keys = root.querySelectorAll('.key');
  var PIN_LENGTH = 6;

  // The char codes of the digits typed so far: never written to the DOM,
  // zeroed as soon as they are encrypted or deleted.
  var digits = [];
  var state = 'loading';

  function setState(s) {
    state = s;
    root.setAttribute('data-state', s);
    for (var i = 0; i < keys.length; i++) { keys[i].disabled = s !== 'ready'; }
  }

  function show(text, kind, code) {
    status.textContent = text;
    status.className = 'status' + (kind ? ' ' + kind : '');
    if (code) { status.setAttribute('data-code', code); } else { status.removeAttribute('data-code'); }
  }

  function render() {
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].className = i < digits.length ? 'filled' : '';
    }
    boxLabel.setAttribute('aria-label', '已输入 ' + digits.length + ' 位，共 ' + PIN_LENGTH + ' 位');
    root.setAttribute('data-count', String(digits.length));
  }

  function wipe() {
    for (var i = 0; i < digits.length; i++) { digits[i] = 0; }
    digits.length = 0;
    render();
  }

  function press(d) {
    if (state !== 'ready' || digits.length >= PIN_LENGTH) { return; }
    digits.push(0x30 + d);
    render();
    if (digits.length === PIN_LENGTH) { submit(); }
  }

  function back() {
    if (state !== 'ready' || digits.length === 0) { return; }
    digits[digits.length - 1] = 0;
    digits.length -= 1;
    render();
  }

  // encrypt returns base64 of the raw C1C3C2 ciphertext of the digits.
  // sm-crypto's doEncrypt returns it as hex WITHOUT the 04 byte that starts
  // C1 (an uncompressed point); the protocol's form has it, so it is put
  // back here: 1 + 64 + 32 + 6 = 103 bytes, 140 base64 characters.
  function encrypt(codes) {
    var hex = window.sm2.doEncrypt(codes, keyHex, 1); // 1: C1C3C2
    if (!/^[0-9a-f]{204}$/.test(hex)) { throw new Error('unexpected sm-crypto output'); }
    var raw = '\x04';
    for (var i = 0; i < hex.length; i += 2) {
      raw += String.fromCharCode(parseInt(hex.substr(i, 2), 16));
    }
    return window.btoa(raw);
  }

  function submit() {
    setState('busy');
    show('正在提交…', '');
    var ciphertext;
    try {
      ciphertext = encrypt(digits);
    } catch (e) {
      wipe();
      setState('ready');
      show('密码加密失败，请刷新页面后重试', 'error');
      return;
    }
    wipe();
    var body = JSON.stringify({ key_id: keyID, ciphertext: ciphertext, ref: ref });
    window.fetch(action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer'
    }).then(function (resp) {
      return resp.json().catch(function () { return null; });
    }).then(function (res) {
      answered(res);
    }, function () {
      // The request may or may not have reached the merchant: typing again
      // sends the same reference, which the merchant pays at most once.
      setState('ready');
      show('网络异常，请检查网络后重新输入', 'error');
    });
  }

  function answered(res) {
    if (!res || typeof res !== 'object' || typeof res.message !== 'string') {
      setState('done');
      show('服务异常，请稍后在订单中查看结果', 'error');
      return;
    }
    if (res.ok === true) {
      setState('done');
      show(res.message || '操作成功', 'ok');
      if (typeof res.redirect === 'string' && res.redirect) {
        var to = new URL(res.redirect, window.location.href);
        if (to.origin === window.location.origin) { window.location.assign(to.href); }
      }
      return;
    }
    setState(res.retry === true ? 'ready' : 'done');
    show(res.message, 'error', typeof res.code === 'string' ? res.code : '');
  }

  root.addEventListener('click', function (ev) {
    var b = ev.target.closest ? ev.target.closest('button.key') : null;
    if (!b || b.disabled) { return; }
    if (b.hasAttribute('data-del')) { back(); return; }
    var d = b.getAttribute('data-digit');
    if (d !== null && /^[0-9]$/.test(d)) { press(d.charCodeAt(0) - 0x30); }
  });

  // A hardware keyboard works too (desktop browsers, tests).
  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (/^[0-9]$/.test(ev.key)) {
      ev.preventDefault();
      press(ev.key.charCodeAt(0) - 0x30);
    } else if (ev.key === 'Backspace') {
      ev.preventDefault();
      back();
    }
  });

  // Nothing can be typed unless the page can encrypt: sm-crypto loaded, a
  // key id and a 04‖X‖Y key, and somewhere to send it.
  if (!window.sm2 || typeof window.sm2.doEncrypt !== 'function' || !keyID ||
      !/^04[0-9a-f]{128}$/.test(keyHex) || !action) {
    setState('broken');
    show('页面加载不完整，请刷新后重试', 'error');
    return;
  }
  render();
  setState('ready');
}());
