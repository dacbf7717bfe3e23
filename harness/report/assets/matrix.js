// Filtering for matrix.html. State lives in the URL fragment
// (#differing=1&q=T1490; a query string works too), so a link opens the
// same view. Rows that do not match are taken out of the DOM, not hidden:
// what is left is what a screen reader reads and what Ctrl+F finds.
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var differing = document.getElementById('f-differing');
  var query = document.getElementById('f-q');
  var table = document.getElementById('matrix');
  var status = document.getElementById('rows-status');
  var rows = Array.prototype.slice.call(table.tBodies);
  var differ = rows.filter(function (row) { return row.getAttribute('data-differs') === 'true'; }).length;

  function readState() {
    var raw = location.hash.replace(/^#/, '') || location.search.replace(/^\?/, '');
    var p = new URLSearchParams(raw);
    differing.checked = p.get('differing') === '1';
    query.value = p.get('q') || '';
  }

  function writeState() {
    var p = new URLSearchParams();
    if (differing.checked) { p.set('differing', '1'); }
    if (query.value.trim()) { p.set('q', query.value.trim()); }
    var hash = p.toString();
    try {
      history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
    } catch (e) {
      location.hash = hash; // some browsers refuse replaceState on file: URLs
    }
  }

  function render() {
    var terms = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = rows.filter(function (row) {
      if (differing.checked && row.getAttribute('data-differs') !== 'true') { return false; }
      var text = row.getAttribute('data-text');
      return terms.every(function (term) { return text.indexOf(term) >= 0; });
    });
    rows.forEach(function (row) { if (row.parentNode) { row.parentNode.removeChild(row); } });
    shown.forEach(function (row) { table.appendChild(row); });
    status.textContent = 'Showing ' + shown.length + ' of ' + rows.length + ' scenarios; ' + differ + ' differ.';
  }

  form.addEventListener('submit', function (e) { e.preventDefault(); });
  form.addEventListener('reset', function (e) {
    e.preventDefault();
    differing.checked = false;
    query.value = '';
    render();
    writeState();
  });
  differing.addEventListener('change', function () { render(); writeState(); });
  query.addEventListener('input', function () { render(); writeState(); });
  window.addEventListener('hashchange', function () { readState(); render(); });

  form.hidden = false;
  readState();
  render();
}());
