// Sorting and filtering for report.html. State lives in the URL fragment
// (#verdict=fail&q=T1490&scenarios-sort=p50&scenarios-dir=desc; a query
// string works too), so a link opens the same view. Rows that do not match
// are taken out of the DOM, not hidden: what is left is what a screen
// reader reads and what Ctrl+F finds.
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var verdict = document.getElementById('f-verdict');
  var query = document.getElementById('f-q');
  var tables = Array.prototype.map.call(document.querySelectorAll('table[data-filterable]'), function (el) {
    return {
      el: el,
      rows: Array.prototype.slice.call(el.tBodies),
      status: document.getElementById(el.id + '-status'),
      noun: el.getAttribute('data-noun'),
      key: '',
      dir: 'asc'
    };
  });

  function headers(t) {
    return Array.prototype.filter.call(t.el.tHead.rows[0].cells, function (th) {
      return th.hasAttribute('data-key');
    });
  }

  function readState() {
    var raw = location.hash.replace(/^#/, '') || location.search.replace(/^\?/, '');
    var p = new URLSearchParams(raw);
    var v = p.get('verdict') || 'all';
    verdict.value = Array.prototype.some.call(verdict.options, function (o) { return o.value === v; }) ? v : 'all';
    query.value = p.get('q') || '';
    tables.forEach(function (t) {
      var key = p.get(t.el.id + '-sort') || '';
      t.key = headers(t).some(function (th) { return th.getAttribute('data-key') === key; }) ? key : '';
      t.dir = p.get(t.el.id + '-dir') === 'desc' ? 'desc' : 'asc';
    });
  }

  function writeState() {
    var p = new URLSearchParams();
    if (verdict.value !== 'all') { p.set('verdict', verdict.value); }
    if (query.value.trim()) { p.set('q', query.value.trim()); }
    tables.forEach(function (t) {
      if (t.key) { p.set(t.el.id + '-sort', t.key); p.set(t.el.id + '-dir', t.dir); }
    });
    var hash = p.toString();
    try {
      history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
    } catch (e) {
      // Some browsers refuse replaceState on file: URLs; a hash change
      // still records the view (its hashchange re-renders the same view).
      location.hash = hash;
    }
  }

  function value(row, key) {
    var cell = row.querySelector('[data-key="' + key + '"]');
    if (!cell) { return ''; }
    return cell.hasAttribute('data-sort') ? cell.getAttribute('data-sort') : cell.textContent.trim();
  }

  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (!isNaN(x) && !isNaN(y)) { return x - y; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
  }

  function sorted(rows, key, dir) {
    // Array.prototype.sort is stable: rows that tie keep the report's order.
    return rows.slice().sort(function (ra, rb) {
      var a = value(ra, key), b = value(rb, key);
      if (a === '' || b === '') { return (a === '') - (b === ''); } // empty cells last either way
      var c = compare(a, b);
      return dir === 'desc' ? -c : c;
    });
  }

  function matches(row, v, terms) {
    if (v !== 'all' && row.getAttribute('data-verdicts').split(' ').indexOf(v) < 0) { return false; }
    var text = row.getAttribute('data-text');
    return terms.every(function (term) { return text.indexOf(term) >= 0; });
  }

  function render() {
    var v = verdict.value;
    var terms = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    tables.forEach(function (t) {
      var shown = t.rows.filter(function (row) { return matches(row, v, terms); });
      if (t.key) { shown = sorted(shown, t.key, t.dir); }
      t.rows.forEach(function (row) { if (row.parentNode) { row.parentNode.removeChild(row); } });
      shown.forEach(function (row) { t.el.appendChild(row); });
      headers(t).forEach(function (th) {
        var on = th.getAttribute('data-key') === t.key;
        th.setAttribute('aria-sort', on ? (t.dir === 'asc' ? 'ascending' : 'descending') : 'none');
      });
      t.status.textContent = 'Showing ' + shown.length + ' of ' + t.rows.length + ' ' + t.noun + '.';
    });
  }

  tables.forEach(function (t) {
    headers(t).forEach(function (th) {
      th.querySelector('button').addEventListener('click', function () {
        var key = th.getAttribute('data-key');
        if (t.key === key) {
          t.dir = t.dir === 'asc' ? 'desc' : 'asc';
        } else {
          t.key = key;
          t.dir = 'asc';
        }
        render();
        writeState();
      });
    });
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  form.addEventListener('reset', function (e) {
    e.preventDefault();
    verdict.value = 'all';
    query.value = '';
    render();
    writeState();
  });
  verdict.addEventListener('change', function () { render(); writeState(); });
  query.addEventListener('input', function () { render(); writeState(); });
  window.addEventListener('hashchange', function () { readState(); render(); });

  form.hidden = false;
  readState();
  render();
}());
